import { show } from './bounds';
import { validateDnsLabel, validateDnsSubdomain } from './dns';
import { inFactory, problem } from './errors';

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
}

/**
 * Mesh-wide settings every construct reads: root namespace, istiod namespace, trust domain and cluster domain, with
 * Istio's defaults. Pass one instance to every construct of a mesh whose installation changed them.
 *
 * @see https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/
 */
export class MeshSettings {
  /** Istio's defaults: root and istiod namespace `istio-system`, trust and cluster domain `cluster.local`. */
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

  public constructor(props: MeshSettingsProps = {}) {
    const given = inFactory('new MeshSettings', () => {
      if (props !== undefined && props !== null && (typeof props !== 'object' || Array.isArray(props))) {
        throw problem(`expected MeshSettingsProps (an object such as { trustDomain: "example.org" }), got ${show(props)}`);
      }
      const p = props ?? {};
      return {
        rootNamespace: validateDnsLabel(p.rootNamespace ?? 'istio-system', 'rootNamespace'),
        istiodNamespace: validateDnsLabel(p.istiodNamespace ?? 'istio-system', 'istiodNamespace'),
        trustDomain: validateDnsSubdomain(p.trustDomain ?? 'cluster.local', 'trustDomain'),
        clusterDomain: validateDnsSubdomain(p.clusterDomain ?? 'cluster.local', 'clusterDomain'),
      };
    });
    this.rootNamespace = given.rootNamespace;
    this.istiodNamespace = given.istiodNamespace;
    this.trustDomain = given.trustDomain;
    this.clusterDomain = given.clusterDomain;
  }

  /** The fully qualified in-cluster name of a Service: `<name>.<namespace>.svc.<clusterDomain>`. */
  public serviceFqdn(name: string, namespace: string): string {
    return `${name}.${namespace}.svc.${this.clusterDomain}`;
  }
}
