import { ApiObject, Yaml } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  EgressWaypointAttributes,
  EgressWaypointBase,
  IEgressWaypoint,
  ImportedEgressWaypoint,
  validateRouteNamespaces,
  validateWaypointIdentity,
  validateWaypointSettings,
} from './egress-waypoint';
import { DATAPLANE_MODE, NAMESPACE_NAME_LABEL, WAYPOINT_FOR } from './waypoint-labels';
import { Gateway as KubeGateway, GatewaySpecListenersAllowedRoutesNamespacesFrom } from '../../imports/gateway.networking.k8s.io';
import { requireBoolean, requireStruct } from '../core/boundary';
import { inField } from '../core/errors';
import { HostExemption } from '../core/host';
import { WorkloadIdentity } from '../core/identity';
import { IstioVersion } from '../core/istio-version';
import { MeshSettings } from '../core/mesh';
import { dnsLabelName } from '../core/names';
import { MeshRegistry } from '../core/registry';
import { libraryLabels } from '../core/visibility';
import { checkResourceTypes, cpuUtilizationMetrics, ProxyWorkloadOptions, resourceAmounts, validateScaling, WorkloadScaling } from '../core/workload-scaling';

const k8s = plus.k8s;

// Kept for src/network-policy, which still imports the interface from this file; its home is ./egress-waypoint.
export { IEgressWaypoint } from './egress-waypoint';

/**
 * Properties of an ambient egress waypoint.
 */
export interface AmbientEgressWaypointProps extends ProxyWorkloadOptions {
  /**
   * The namespace of the waypoint. Not Istio's root or istiod namespace, `kube-system`, `kube-public` or `default`.
   *
   * @default "istio-egress"
   */
  readonly namespace?: string;

  /**
   * The waypoint's name: its Gateway, and the Deployment, Service, ServiceAccount, HorizontalPodAutoscaler and
   * PodDisruptionBudget Istio creates for it. A DNS-1035 label (starts with a letter), as Kubernetes requires of a
   * Service name.
   *
   * @default "egress-waypoint"
   */
  readonly name?: string;

  /**
   * Define the namespace too, labelled `istio.io/dataplane-mode: ambient`. It is deliberately not labelled
   * `istio.io/use-waypoint`: that would bind every ServiceEntry and Service anyone creates in the namespace to the
   * waypoint, and one bound without an ALLOW AuthorizationPolicy is open to every client. Only the ServiceEntries
   * this library generates carry the label. Set false when the namespace is managed elsewhere.
   *
   * @default true
   */
  readonly createNamespace?: boolean;

  /**
   * Other namespaces whose ServiceEntries (labelled `istio.io/use-waypoint` + `istio.io/use-waypoint-namespace`) may
   * use this waypoint: the Gateway listener's `allowedRoutes`. A ServiceEntry of a namespace not listed is not bound,
   * and its traffic bypasses the waypoint.
   *
   * Listing a namespace delegates binding rights: whoever may create ServiceEntries there can bind one to this
   * waypoint with those two labels, and a ServiceEntry bound with no ALLOW AuthorizationPolicy lets every client
   * through the shared waypoint (e.g. `*.attacker.example` with `DYNAMIC_DNS`). List only namespaces whose
   * ServiceEntry authors you trust, restrict who may create ServiceEntries there (RBAC), and consider an admission
   * policy that requires an ALLOW AuthorizationPolicy for every ServiceEntry bound to the waypoint.
   *
   * @default - only the waypoint's own namespace (`allowedRoutes.namespaces.from: Same`)
   */
  readonly allowedNamespaces?: string[];

  /**
   * The Istio release the cluster runs; wildcard hosts (`DYNAMIC_DNS`) are checked against it. Set it once in
   * `mesh` (`MeshSettings.istioVersion`) instead; given in both places, the two must agree.
   *
   * @default - `mesh.istioVersion` (IstioVersion.NEWEST_SUPPORTED unless the mesh settings say otherwise)
   */
  readonly istioVersion?: IstioVersion;

  /**
   * Declare that istiod runs with `ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true` (Istio >= 1.29), which wildcard
   * hosts with TLS ports need.
   *
   * Istio keeps the flag off because the waypoint does not check the SNI itself: it picks the wildcard's chain by
   * address and port only, and its SNI dynamic forward proxy connects to whatever server name the client sends,
   * inside the wildcard or not (`listener_waypoint.go`, `networkfilter.go` `buildSNIDFPFilter`; istio/istio#58688).
   * Without more, a client allowed `*.example.com` could reach `exfil.attacker.net:443`. The library therefore binds
   * every allow rule on a TLS port of a wildcard host to `connection.sni` under the wildcard (and away from the more
   * specific hosts of the waypoint), which the RBAC filter checks before the forward proxy runs. What remains:
   * any name under the wildcard is reached at whatever address its DNS gives, and domain fronting on shared CDNs
   * reaches other sites behind the same address with an allowed SNI.
   *
   * @default false
   */
  readonly istiodWildcardTlsEnabled?: boolean;

  /**
   * Mesh settings (root and istiod namespaces, trust domain of the principals in AuthorizationPolicies).
   *
   * @default MeshSettings.defaults()
   */
  readonly mesh?: MeshSettings;

  /**
   * Hosts the waypoint refuses by default, accepted anyway for the reason given (recorded on the host's ServiceEntry,
   * annotation `cdk8s-istio-egress/host-exemptions`): names that lead into the cluster (the cluster domain,
   * `*.internal`, `<service>.<namespace>`), cloud metadata names, and wildcards anyone can register a name under
   * (`*.com`, `*.co.uk`, `*.amazonaws.com`, `*.github.io`, ...). See `HostExemption`.
   *
   * @default - none: a refused host fails synthesis
   */
  readonly hostExemptions?: HostExemption[];
}

/**
 * An Istio ambient-mode egress waypoint with its external hosts and their policies.
 *
 * Defines:
 * - the waypoint: a Gateway API `Gateway` of class `istio-waypoint` (label `istio.io/waypoint-for: service`, one
 *   `mesh` listener on 15008/HBONE), `metadata.name` = `name`; istiod deploys the pods. It is the construct's default
 *   child (id `Resource`), so `ApiObject.of(waypoint)` returns it;
 * - a ConfigMap `<name>-config` referenced from `spec.infrastructure.parametersRef`, holding the overrides Istio
 *   (>= 1.26) applies to what it deploys: `deployment` (replicas, resources, zone spreading, DNS options),
 *   `horizontalPodAutoscaler`, `podDisruptionBudget`;
 * - optionally the namespace, labelled for ambient (not enrolled to the waypoint as a whole);
 * - per host (`addHost`): a ServiceEntry labelled `istio.io/use-waypoint`, one ALLOW AuthorizationPolicy per rule
 *   (`allow`) attached to it with `targetRefs`, and a DestinationRule when the waypoint originates TLS.
 *
 * Istio semantics to know:
 * - A ServiceEntry bound to a waypoint with **no** ALLOW policy lets every client through. Each host therefore needs
 *   at least one allow rule (checked at synth); once one exists, everything it does not match is denied (HTTP 403,
 *   or the connection is closed for TLS/TCP).
 * - Ambient egress does not enforce by itself: a client that does not resolve the host through Istio's DNS proxy, dials
 *   an IP directly, or runs while the waypoint is missing goes straight to the internet. Pair the waypoint with a
 *   NetworkPolicy that only lets application pods reach the waypoint (`EgressNetworkPolicy`), and fence the waypoint
 *   pods' own egress (`EgressGatewayNetworkPolicy` with the waypoint as a path): the waypoint is an `IEgressPath`.
 * - `exportTo` does not isolate in ambient mode: ztunnel ignores it (istio/istio#55163), so every ambient pod is sent
 *   to the waypoint for a registered host; the allow rules decide who passes.
 * - The cluster needs ambient DNS capture (on by default since Istio 1.25) and IP auto-allocation for ServiceEntries
 *   (`PILOT_ENABLE_IP_AUTOALLOCATE`), which manifests cannot set: check a ServiceEntry's `status.addresses`.
 * - The waypoint resolves exact hosts with the pod's resolver, so the DNS search path of the waypoint pods applies
 *   (`httpbin.org` could become `httpbin.org.svc.cluster.local`, i.e. Service `httpbin` of a namespace `org`).
 *   Istio applies no EnvoyFilter cluster patch to the waypoint's clusters (`cluster.go` `buildWaypointInboundClusters`
 *   takes no patcher), so the resolver cannot be told to skip the search path; the waypoint pods get `ndots: 1`
 *   instead, which makes every name with a dot be looked up as given first. A name that does not resolve as given
 *   (NXDOMAIN, or no address of the looked-up family) still falls back to the search path: do not let untrusted
 *   users create namespaces named like top-level or registrable domains (`org`, `com`, `example-com`...).
 *
 * @see https://istio.io/latest/docs/ambient/usage/egress-gateway/
 * @see https://istio.io/latest/docs/ambient/usage/waypoint/
 */
export class AmbientEgressWaypoint extends EgressWaypointBase {
  /**
   * A waypoint that already exists (e.g. made with `istioctl waypoint apply`): for a NetworkPolicy that must let pods
   * reach it or fence it, and to bind hosts to it (`addHost`). It defines no objects of its own.
   */
  public static fromAttributes(scope: Construct, id: string, attrs: EgressWaypointAttributes): IEgressWaypoint {
    return new ImportedEgressWaypoint(scope, id, attrs);
  }

  /** The namespace of the waypoint. */
  public readonly namespace: string;

  /** The waypoint's name (Gateway, and the Deployment, Service and ServiceAccount Istio creates). */
  public readonly name: string;

  /** The waypoint's identity: service account `<name>` in `<namespace>`. */
  public readonly identity: WorkloadIdentity;

  /** The Istio release the manifests are checked against. */
  public readonly istioVersion: IstioVersion;

  /** Whether istiod was declared to run with `ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true`. */
  public readonly istiodWildcardTlsEnabled: boolean;

  /** Mesh settings. */
  public readonly mesh: MeshSettings;

  /** The replica count, or undefined when autoscaled. */
  public readonly replicas?: number;

  /** The waypoint's Gateway API `Gateway` (the default child, id `Resource`; escape hatch). */
  public readonly gateway: ApiObject;

  /** The ConfigMap `<name>-config` with the overrides Istio applies to the waypoint Deployment, HPA and PDB (escape hatch). */
  public readonly parametersConfigMap: ApiObject;

  /** The waypoint's Namespace, when `createNamespace` is true (escape hatch). */
  public readonly namespaceObject?: ApiObject;

  private readonly routeNamespaces: string[];
  private readonly scaling: WorkloadScaling;

  public constructor(scope: Construct, id: string, props: AmbientEgressWaypointProps = {}) {
    super(scope, id);
    MeshRegistry.of(this).register(this);
    props = inField(this, 'props', () => requireStruct<AmbientEgressWaypointProps>(props ?? {}, 'AmbientEgressWaypointProps'));
    const settings = validateWaypointSettings(this, props);
    this.mesh = settings.mesh;
    this.istioVersion = settings.istioVersion;
    this.istiodWildcardTlsEnabled = settings.istiodWildcardTlsEnabled;
    const { namespace, name } = validateWaypointIdentity(this, props.namespace ?? 'istio-egress', props.name ?? 'egress-waypoint', this.mesh);
    this.namespace = namespace;
    this.name = name;
    this.identity = WorkloadIdentity.serviceAccount(this.namespace, this.name);
    this.routeNamespaces = validateRouteNamespaces(this, this.namespace, props.allowedNamespaces);
    this.scaling = validateScaling(this, props);
    this.replicas = this.scaling.replicas;
    this._screenHosts(props.hostExemptions);

    const createNamespace = props.createNamespace === undefined ? true : inField(this, 'createNamespace', () => requireBoolean(props.createNamespace));
    if (createNamespace) {
      this.namespaceObject = new k8s.KubeNamespace(this, 'Namespace', {
        metadata: { name: this.namespace, labels: { ...libraryLabels(this.name), [DATAPLANE_MODE]: 'ambient' } },
      });
    }

    const parametersName = dnsLabelName([this.name, 'config']);
    this.parametersConfigMap = new k8s.KubeConfigMap(this, 'Parameters', {
      metadata: { name: parametersName, namespace: this.namespace, labels: libraryLabels(this.name) },
      data: this.parameters(props),
    });

    const sameNamespaceOnly = this.routeNamespaces.length === 1;
    this.gateway = new KubeGateway(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespace, labels: { ...libraryLabels(this.name), [WAYPOINT_FOR]: 'service' } },
      spec: {
        gatewayClassName: 'istio-waypoint',
        listeners: [
          {
            name: 'mesh',
            port: this.hbonePort,
            protocol: 'HBONE',
            allowedRoutes: {
              namespaces: sameNamespaceOnly
                ? { from: GatewaySpecListenersAllowedRoutesNamespacesFrom.SAME }
                : {
                  from: GatewaySpecListenersAllowedRoutesNamespacesFrom.SELECTOR,
                  selector: { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: this.routeNamespaces }] },
                },
            },
          },
        ],
        infrastructure: { parametersRef: { group: '', kind: 'ConfigMap', name: parametersName } },
      },
    });
  }

  /** The namespaces whose ServiceEntries may use the waypoint (own namespace first). */
  public get allowedNamespaces(): string[] {
    return [...this.routeNamespaces];
  }

  /** The ConfigMap data Istio merges (strategic merge patch) into the resources it deploys for the waypoint. */
  private parameters(props: AmbientEgressWaypointProps): { [key: string]: string } {
    const data: { [key: string]: string } = {};
    const podSpec: any = {};
    const resources = props.resources === undefined ? undefined : resourceAmounts(inField(this, 'resources', () => checkResourceTypes(props.resources)));
    if (resources) {
      podSpec.containers = [{ name: 'istio-proxy', resources }];
    }
    // M6: look names with a dot up as given before trying the search path (see the class docs for what remains).
    podSpec.dnsConfig = { options: [{ name: 'ndots', value: '1' }] };
    if (props.spreadAcrossZones === undefined ? true : inField(this, 'spreadAcrossZones', () => requireBoolean(props.spreadAcrossZones))) {
      // One selector object per constraint: a shared one would be written as a YAML anchor and alias.
      podSpec.topologySpreadConstraints = ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: this.selectorLabels },
      }));
    }
    const deploymentSpec: any = {};
    if (this.replicas !== undefined) {
      deploymentSpec.replicas = this.replicas;
    }
    deploymentSpec.template = { spec: podSpec };
    data.deployment = Yaml.stringify({ spec: deploymentSpec });
    const { autoscaling, minAvailable } = this.scaling;
    if (autoscaling) {
      data.horizontalPodAutoscaler = Yaml.stringify({
        spec: { minReplicas: autoscaling.minReplicas, maxReplicas: autoscaling.maxReplicas, metrics: cpuUtilizationMetrics(autoscaling) },
      });
    }
    if (minAvailable > 0) {
      data.podDisruptionBudget = Yaml.stringify({ spec: { minAvailable, selector: { matchLabels: this.selectorLabels } } });
    }
    return data;
  }
}
