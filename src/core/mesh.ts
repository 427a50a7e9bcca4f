import { validateDnsLabel, validateDnsSubdomain } from './dns';

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
    this.rootNamespace = validateDnsLabel(props.rootNamespace ?? 'istio-system', 'rootNamespace');
    this.istiodNamespace = validateDnsLabel(props.istiodNamespace ?? 'istio-system', 'istiodNamespace');
    this.trustDomain = validateDnsSubdomain(props.trustDomain ?? 'cluster.local', 'trustDomain');
    this.clusterDomain = validateDnsSubdomain(props.clusterDomain ?? 'cluster.local', 'clusterDomain');
  }

  /** The fully qualified in-cluster name of a Service: `<name>.<namespace>.svc.<clusterDomain>`. */
  public serviceFqdn(name: string, namespace: string): string {
    return `${name}.${namespace}.svc.${this.clusterDomain}`;
  }
}
