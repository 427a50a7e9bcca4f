import { show } from './bounds';
import { validateDnsLabel, validateDnsSubdomain } from './dns';
import { inFactory, problem } from './errors';
import { IstioVersion } from './istio-version';

/**
 * Properties of the mesh the manifests are for.
 */
export interface MeshSettingsProps {
  /**
   * Istio's root namespace (`rootNamespace` in MeshConfig): configuration placed there applies mesh-wide. The
   * constructs never place selector-less EnvoyFilters or Telemetry there.
   *
   * @default "istio-system"
   */
  readonly rootNamespace?: string;

  /**
   * The namespace istiod runs in (the control plane that sidecars and gateways reach on port 15012).
   *
   * @default "istio-system"
   */
  readonly istiodNamespace?: string;

  /**
   * The mesh trust domain (`trustDomain` in MeshConfig). Workload principals are `<trustDomain>/ns/<ns>/sa/<sa>`.
   *
   * @default "cluster.local"
   */
  readonly trustDomain?: string;

  /**
   * The Kubernetes cluster DNS domain, used for in-cluster service names (`<svc>.<ns>.svc.<clusterDomain>`).
   *
   * @default "cluster.local"
   */
  readonly clusterDomain?: string;

  /**
   * The Istio release the mesh runs, set once for every construct that reads these settings. Must be in the support
   * window (IstioVersion.OLDEST_SUPPORTED to IstioVersion.NEWEST_SUPPORTED: 1.30 to 1.32), whose CRDs the manifests
   * are checked against.
   *
   * @default IstioVersion.NEWEST_SUPPORTED
   */
  readonly istioVersion?: IstioVersion;
}

/**
 * Mesh-wide settings every construct reads: root namespace, istiod namespace, trust domain, cluster domain and Istio
 * release, with Istio's defaults. Pass one instance to every construct of a mesh whose installation changed them.
 *
 * @see https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/
 */
export class MeshSettings {
  /**
   * Istio's defaults: root and istiod namespace `istio-system`, trust and cluster domain `cluster.local`, the newest
   * supported Istio release.
   */
  public static defaults(): MeshSettings {
    return new MeshSettings();
  }

  /** Istio's root namespace. */
  public readonly rootNamespace: string;

  /** The namespace istiod runs in. */
  public readonly istiodNamespace: string;

  /** The mesh trust domain. */
  public readonly trustDomain: string;

  /** The cluster DNS domain. */
  public readonly clusterDomain: string;

  /** The Istio release the mesh runs. */
  public readonly istioVersion: IstioVersion;

  /**
   * Whether `istioVersion` was given (not defaulted): a construct with an `istioVersion` of its own refuses a
   * different one only then.
   *
   * @internal
   */
  public readonly _istioVersionGiven: boolean;

  public constructor(props: MeshSettingsProps = {}) {
    const given = inFactory('new MeshSettings', () => {
      if (props !== undefined && props !== null && (typeof props !== 'object' || Array.isArray(props))) {
        throw problem(`expected MeshSettingsProps (an object such as { trustDomain: "example.org" }), got ${show(props)}`);
      }
      const p = props ?? {};
      const istioVersion = p.istioVersion ?? IstioVersion.NEWEST_SUPPORTED;
      if (!(istioVersion instanceof IstioVersion)) {
        throw problem(`invalid istioVersion ${show(istioVersion)}: expected an IstioVersion, e.g. IstioVersion.V1_31`);
      }
      if (!istioVersion.isSupported()) {
        throw problem(
          `invalid istioVersion ${istioVersion}: the supported Istio releases are ${IstioVersion.OLDEST_SUPPORTED} to ` +
            `${IstioVersion.NEWEST_SUPPORTED}, whose CRDs the manifests are checked against; upgrade Istio and set istioVersion to one of them`,
        );
      }
      return {
        rootNamespace: validateDnsLabel(p.rootNamespace ?? 'istio-system', 'rootNamespace'),
        istiodNamespace: validateDnsLabel(p.istiodNamespace ?? 'istio-system', 'istiodNamespace'),
        trustDomain: validateDnsSubdomain(p.trustDomain ?? 'cluster.local', 'trustDomain'),
        clusterDomain: validateDnsSubdomain(p.clusterDomain ?? 'cluster.local', 'clusterDomain'),
        istioVersion,
      };
    });
    this.rootNamespace = given.rootNamespace;
    this.istiodNamespace = given.istiodNamespace;
    this.trustDomain = given.trustDomain;
    this.clusterDomain = given.clusterDomain;
    this.istioVersion = given.istioVersion;
    this._istioVersionGiven = props?.istioVersion !== undefined;
  }

  /** The fully qualified in-cluster name of a Service: `<name>.<namespace>.svc.<clusterDomain>`. */
  public serviceFqdn(name: string, namespace: string): string {
    return `${name}.${namespace}.svc.${this.clusterDomain}`;
  }
}
