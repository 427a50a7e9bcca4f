import { validateDnsLabel, validateDnsSubdomain } from './dns';
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

  public constructor(props: MeshSettingsProps = {}) {
    this.rootNamespace = validateDnsLabel(props.rootNamespace ?? 'istio-system', 'rootNamespace');
    this.istiodNamespace = validateDnsLabel(props.istiodNamespace ?? 'istio-system', 'istiodNamespace');
    this.trustDomain = validateDnsSubdomain(props.trustDomain ?? 'cluster.local', 'trustDomain');
    this.clusterDomain = validateDnsSubdomain(props.clusterDomain ?? 'cluster.local', 'clusterDomain');
    this.istioVersion = props.istioVersion ?? IstioVersion.NEWEST_SUPPORTED;
    if (!(this.istioVersion instanceof IstioVersion)) {
      throw new Error(`Invalid istioVersion ${JSON.stringify(this.istioVersion)}: expected an IstioVersion, e.g. IstioVersion.V1_31`);
    }
    if (!this.istioVersion.isSupported()) {
      throw new Error(
        `Invalid istioVersion ${this.istioVersion}: the supported Istio releases are ${IstioVersion.OLDEST_SUPPORTED} to ` +
          `${IstioVersion.NEWEST_SUPPORTED}, whose CRDs the manifests are checked against; upgrade Istio and set istioVersion to one of them`,
      );
    }
  }

  /** The fully qualified in-cluster name of a Service: `<name>.<namespace>.svc.<clusterDomain>`. */
  public serviceFqdn(name: string, namespace: string): string {
    return `${name}.${namespace}.svc.${this.clusterDomain}`;
  }
}
