import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { addDnsRules, dnsAnnotations, DnsResolver, resolveDns } from './dns-resolver';
import { egressPathTarget } from './egress-path-target';
import { addIstiodRule, bracedLabelText, listProp, peerKey, PodPeers, policyMetadata, selectorLabels } from './peers';
import { requireInstance, requireStruct } from '../core/boundary';
import { checkEnum } from '../core/bounds';
import { DataplaneMode } from '../core/dataplane-mode';
import { validateDnsLabel } from '../core/dns';
import { HBONE_PORT, IEgressPath } from '../core/egress-path';
import { fieldError, inField, problem } from '../core/errors';
import { WorkloadSelector } from '../core/identity';
import { MeshSettings } from '../core/mesh';
import { MeshRegistry } from '../core/registry';

/**
 * Properties of an EgressNetworkPolicy.
 */
export interface EgressNetworkPolicyProps {
  /** The namespace of the application pods to lock down (and of the NetworkPolicy). */
  readonly namespace: string;

  /**
   * Name of the NetworkPolicy (a DNS-1123 label), unique among the NetworkPolicies of the namespace.
   *
   * @default "egress-lockdown"
   */
  readonly name?: string;

  /**
   * Labels of the pods to lock down: only pods with all of them.
   *
   * @default - every pod of the namespace (`podSelector: {}`), including pods created later
   */
  readonly podLabels?: { [key: string]: string };

  /**
   * Whether the pods run with Istio sidecars or in ambient mode: sidecars need istiod (TCP 15012), ambient pods do not
   * (ztunnel talks to istiod) but reach egress waypoints over HBONE (TCP 15008).
   *
   * @default DataplaneMode.SIDECAR
   */
  readonly dataplane?: DataplaneMode;

  /**
   * Where the pods may send DNS queries (UDP and TCP). An empty list is refused (it breaks every name lookup); use
   * `[DnsResolver.none("why")]` when that is really meant.
   *
   * @default [DnsResolver.kubeDns()]
   */
  readonly dns?: DnsResolver[];

  /**
   * Egress paths the pods may use, e.g. a `WildcardEgressGateway` or an `EgressGateway`: the pods may connect to the
   * path's proxy pods on the path's pod ports (TCP). More can be added with `allowEgressPath`.
   *
   * @default - none
   */
  readonly egressPaths?: IEgressPath[];

  /**
   * Egress waypoints the (ambient) pods may use, as egress paths (an `AmbientEgressWaypoint`, or any `IEgressPath`
   * whose pod ports include HBONE, 15008): the pods may connect to the waypoint pods on HBONE, TCP 15008, only. More
   * can be added with `allowWaypoint`.
   *
   * @default - none
   */
  readonly waypoints?: IEgressPath[];

  /**
   * Mesh settings: the namespace of istiod.
   *
   * @default MeshSettings.defaults()
   */
  readonly mesh?: MeshSettings;
}

/** The pods of one peer (namespace + labels) and the ports the policy allows to them. */
interface AllowedPeer {
  readonly namespace: string;
  readonly podLabels: { [key: string]: string };
  readonly ports: Set<number>;
}

/**
 * Locks down the egress of application pods with a Kubernetes NetworkPolicy, so they cannot bypass the egress path:
 * the selected pods may connect only to
 *
 * - DNS: the cluster DNS pods (or the `dns` resolvers) on UDP **and** TCP 53;
 * - istiod on TCP 15012, for their sidecars (not in ambient mode);
 * - the proxy pods of each allowed egress path (`allowEgressPath`) on exactly that path's pod ports, and the pods of
 *   each allowed egress waypoint (`allowWaypoint`) on HBONE, TCP 15008.
 *
 * Everything else, including direct connections to the internet and to other pods of the cluster, is denied. This is
 * what makes the Istio egress constructs an enforcement point: Istio "cannot securely enforce that all egress traffic
 * actually flows through the egress gateways"; a pod that bypasses its sidecar is stopped here.
 *
 * Namespaces are always selected by their immutable `kubernetes.io/metadata.name` label (set by the API server), never
 * by labels a user who may label namespaces could copy. Peers that name a namespace and pod labels are one peer
 * entry (`namespaceSelector` AND `podSelector`), never two (which would OR them).
 *
 * Kubernetes semantics to keep in mind:
 * - Policies are additive: any other NetworkPolicy that selects these pods can allow more egress again. Review
 *   every policy of the namespace (`kubectl get networkpolicy -n <ns>`), and consider restricting who may create
 *   them (RBAC, admission policies).
 * - Ingress is not touched (`policyTypes: [Egress]`): in ambient mode, inbound HBONE (15008) and kubelet probes
 *   (SNAT'd to 169.254.7.127) keep working.
 * - NetworkPolicies match TCP, UDP and SCTP; other protocols (ICMP) depend on the network plugin.
 * - Pods with `hostNetwork: true` are not isolated by any NetworkPolicy.
 * - Nothing happens unless the cluster's network plugin (CNI) enforces NetworkPolicy (Calico, Cilium, ...; not
 *   plain flannel or kubenet). A new pod may run briefly before the plugin applies the policy to it.
 * - Traffic to and from the pod's own node is always allowed.
 * - Other in-cluster destinations (databases, APIs) are denied too: add them to `networkPolicy`
 *   (`addEgressRule(...)`) or in a policy of your own.
 *
 * The NetworkPolicy is `networkPolicy`, a cdk8s-plus `NetworkPolicy` (construct id `Resource`), named `name`
 * (default `egress-lockdown`) in `namespace`; `ApiObject.of(policy)` is its Kubernetes object.
 *
 * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-gateway/#additional-security-considerations
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
 * @see https://istio.io/latest/docs/ambient/usage/networkpolicy/
 */
export class EgressNetworkPolicy extends Construct {
  /** The namespace of the locked-down pods. */
  public readonly namespace: string;

  /** The name of the NetworkPolicy. */
  public readonly name: string;

  /** The dataplane mode of the pods. */
  public readonly dataplane: DataplaneMode;

  /** Mesh settings in use. */
  public readonly mesh: MeshSettings;

  /** The generated cdk8s-plus NetworkPolicy; add your own egress rules to it with `addEgressRule`. */
  public readonly networkPolicy: plus.NetworkPolicy;

  private readonly selector?: WorkloadSelector;
  private readonly peers = new PodPeers();
  /** Pod ports already allowed, per peer (`peerKey`). */
  private readonly allowedPeers = new Map<string, AllowedPeer>();
  /** Told of every port newly allowed to a peer (see `_watchEgress`). */
  private readonly egressWatchers: ((namespace: string, podLabels: { [key: string]: string }, ports: number[]) => void)[] = [];
  private pathCount = 0;
  private waypointCount = 0;

  public constructor(scope: Construct, id: string, props: EgressNetworkPolicyProps) {
    super(scope, id);
    MeshRegistry.of(this).register(this);
    if (props === undefined || props === null) {
      fieldError(this, 'props', 'the namespace of the pods to lock down is required, e.g. namespace "shop"');
    }
    props = inField(this, 'props', () => requireStruct<EgressNetworkPolicyProps>(props, 'EgressNetworkPolicyProps'));
    this.mesh = props.mesh === undefined ? MeshSettings.defaults() : inField(this, 'mesh', () => requireInstance(props.mesh, MeshSettings, 'new MeshSettings({ ... })'));
    this.namespace = inField(this, 'namespace', () => validateDnsLabel(props.namespace, 'namespace'));
    this.name = inField(this, 'name', () => validateDnsLabel(props.name ?? 'egress-lockdown', 'NetworkPolicy name'));
    this.dataplane = inField(this, 'dataplane', () => checkEnum(props.dataplane ?? DataplaneMode.SIDECAR, DataplaneMode, 'DataplaneMode', 'dataplane'));
    if (props.podLabels !== undefined) {
      this.selector = WorkloadSelector.fromLabels(
        inField(this, 'podLabels', () =>
          selectorLabels(props.podLabels, 'an empty label set would select every pod of the namespace; omit podLabels to lock down every pod, or give at least one label'),
        ),
      );
    } else {
      this.rejectControlPlaneNamespace();
    }
    const dns = resolveDns(this, props.dns);
    const annotations = dnsAnnotations(dns);

    this.networkPolicy = new plus.NetworkPolicy(this, 'Resource', {
      metadata: policyMetadata(this.name, this.namespace, annotations),
      selector: this.selector ? plus.Pods.select(this.peers.scope, 'Pods', { labels: this.selector.labels }) : plus.Pods.all(this.peers.scope, 'Pods'),
      egress: { default: plus.NetworkPolicyTrafficDefault.DENY },
    });

    addDnsRules(this.peers, this.networkPolicy, dns);
    if (this.dataplane === DataplaneMode.SIDECAR) {
      addIstiodRule(this.peers, this.networkPolicy, this.mesh);
    }
    const paths = inField(this, 'egressPaths', () => listProp(props.egressPaths, 'an egress path (IEgressPath)'));
    const waypoints = inField(this, 'waypoints', () => listProp(props.waypoints, 'a waypoint (IEgressPath)'));
    paths.forEach((path, i) => this.addPath(path, `egressPaths[${i}]`));
    waypoints.forEach((waypoint, i) => this.addWaypoint(waypoint, `waypoints[${i}]`));
  }

  /**
   * Labels of the locked-down pods, or undefined when every pod of the namespace is locked down.
   */
  public get podLabels(): { [key: string]: string } | undefined {
    return this.selector?.labels;
  }

  /**
   * Lets the pods connect to the proxy pods of an egress path (e.g. a `WildcardEgressGateway`, an `EgressGateway`, or
   * any `IEgressPath`) on that path's pod ports, over TCP. The namespace, pod labels and ports come from
   * `path.toEgressPathConfig()`, so they are never typed twice. Allowing the same pods and ports again does nothing.
   *
   * In ambient mode the path must be reached over HBONE (pod port 15008); a sidecar egress gateway is not, and is
   * refused.
   *
   * @throws if the path is not an `IEgressPath`, its namespace, labels or ports are invalid, its label set is empty,
   * it has no pod port, or it cannot be used in ambient mode
   */
  public allowEgressPath(path: IEgressPath): void {
    this.addPath(path, `allowEgressPath #${this.pathCount}`);
  }

  /**
   * Lets the pods connect to the pods of an egress waypoint (an `AmbientEgressWaypoint`, one described with
   * `AmbientEgressWaypoint.fromAttributes`, or any `IEgressPath` whose pod ports include 15008) on HBONE, TCP 15008,
   * only: ambient traffic to a ServiceEntry bound to the waypoint leaves the pod as an HBONE connection from ztunnel
   * to the waypoint pods. Allowing a waypoint again does nothing.
   *
   * @throws if the waypoint is not an `IEgressPath`, its namespace or labels are invalid, or its pod ports do not
   * include HBONE (15008)
   */
  public allowWaypoint(waypoint: IEgressPath): void {
    this.addWaypoint(waypoint, `allowWaypoint #${this.waypointCount}`);
  }

  /**
   * Whether these pods may connect to the pods with the given namespace and labels.
   *
   * @internal
   */
  public _allowsEgressTo(namespace: string, podLabels: { [key: string]: string }): boolean {
    return this.allowedPeers.has(peerKey(namespace, podLabels));
  }

  /**
   * The ports these pods may connect to on the pods with the given namespace and labels, sorted; empty if none.
   *
   * @internal
   */
  public _allowedPortsTo(namespace: string, podLabels: { [key: string]: string }): number[] {
    return [...(this.allowedPeers.get(peerKey(namespace, podLabels))?.ports ?? [])].sort((a, b) => a - b);
  }

  /**
   * Calls `watcher` with every (peer, ports) allowed so far, and again whenever ports are newly allowed to a peer:
   * how a gateway's policy opens its ingress to exactly the ports this client uses, whatever the order of calls.
   *
   * @internal
   */
  public _watchEgress(watcher: (namespace: string, podLabels: { [key: string]: string }, ports: number[]) => void): void {
    this.egressWatchers.push(watcher);
    for (const peer of this.allowedPeers.values()) {
      watcher(peer.namespace, peer.podLabels, [...peer.ports].sort((a, b) => a - b));
    }
  }

  private addPath(path: IEgressPath, field: string): void {
    this.pathCount++;
    const target = inField(this, field, () => egressPathTarget(path));
    if (this.dataplane === DataplaneMode.AMBIENT && !target.hbone) {
      fieldError(
        this,
        field,
        `the path's pods ${target.namespace}/${bracedLabelText(target.podLabels)} listen on ${target.podPorts.join(', ')}, but ambient pods have no sidecar: ` +
          `ztunnel sends their egress to a proxy over HBONE, TCP ${HBONE_PORT}, so this lock-down would leave them without egress. ` +
          'Use an egress waypoint (allowWaypoint(AmbientEgressWaypoint)), or set dataplane: DataplaneMode.SIDECAR for sidecar pods',
      );
    }
    this.addPodRule('Path', target.namespace, target.podLabels, target.podPorts);
  }

  private addWaypoint(waypoint: IEgressPath, field: string): void {
    this.waypointCount++;
    const target = inField(this, field, () => {
      const t = egressPathTarget(waypoint);
      if (!t.hbone) {
        throw problem(
          `the waypoint pods ${t.namespace}/${bracedLabelText(t.podLabels)} listen on ${t.podPorts.join(', ')}, but ztunnel always connects to waypoints on HBONE, TCP ${HBONE_PORT}; ` +
            `a lock-down without TCP ${HBONE_PORT} to the waypoint pods cuts ambient egress off. Make the waypoint's egress path (toEgressPathConfig) list pod port ${HBONE_PORT}`,
        );
      }
      return t;
    });
    this.addPodRule('Waypoint', target.namespace, target.podLabels, [HBONE_PORT]);
  }

  /** Adds one rule to the pods of a namespace, for the ports not allowed to them yet. */
  private addPodRule(kind: string, namespace: string, podLabels: { [key: string]: string }, ports: number[]): void {
    const key = peerKey(namespace, podLabels);
    let allowed = this.allowedPeers.get(key);
    if (allowed === undefined) {
      allowed = { namespace, podLabels, ports: new Set() };
      this.allowedPeers.set(key, allowed);
    }
    const fresh = ports.filter((p) => !allowed!.ports.has(p));
    if (fresh.length === 0) {
      return;
    }
    fresh.forEach((p) => allowed!.ports.add(p));
    const id = `${kind}${kind === 'Path' ? this.pathCount - 1 : this.waypointCount - 1}`;
    this.networkPolicy.addEgressRule(this.peers.get(id, namespace, podLabels), fresh.map((p) => plus.NetworkPolicyPort.tcp(p)));
    this.egressWatchers.forEach((watch) => watch(namespace, podLabels, fresh));
  }

  /** Locking down every pod of the control plane's or the cluster DNS's namespace breaks the whole mesh. */
  private rejectControlPlaneNamespace(): void {
    const critical: { [ns: string]: string } = {
      'kube-system': 'the cluster DNS and other system pods would be cut off from their upstreams and the API server',
      [this.mesh.istiodNamespace]: 'istiod would be cut off from the Kubernetes API server and every proxy would lose its configuration',
    };
    const why = critical[this.namespace];
    if (why !== undefined) {
      fieldError(this, 'namespace', `locking down every pod of "${this.namespace}" would break the cluster: ${why}. Give podLabels to lock down only your pods there`);
    }
  }
}
