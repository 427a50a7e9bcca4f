import { ApiObject } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { IEgressWaypoint } from '../ambient/ambient-egress-waypoint';
import { Cidr, parseIpBlock } from '../core/cidr';
import { validateDnsLabel } from '../core/dns';
import { EgressPathConfig, IEgressPath } from '../core/egress-path';
import { atSubField, fieldError, inField, requirePresent } from '../core/errors';
import { WorkloadSelector } from '../core/identity';
import { MeshSettings } from '../core/mesh';
import { validatePortNumber } from '../core/port';

/** DNS, over UDP and TCP (RFC 1035 4.2: answers that do not fit a UDP datagram are retried over TCP; RFC 7766). */
const DNS_PORT = 53;
/** istiod's port for sidecars and gateways: xDS configuration and certificate signing, over TLS. */
const ISTIOD_XDS_PORT = 15012;
/** The labels every istiod Deployment (any revision) gives its pods. */
const ISTIOD_POD_LABELS = { app: 'istiod' };
/** The port ztunnel and sidecars tunnel ambient traffic over (HBONE). Fixed by Istio. */
const HBONE_PORT = 15008;
/** Istio proxy metrics: merged application + Envoy metrics (15020) and Envoy's own Prometheus endpoint (15090). */
const METRICS_PORTS = [15020, 15090];
/** Labels of every NetworkPolicy defined here. */
const POLICY_LABELS = { 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress' };
/** Annotation that records why the pods of a policy get no DNS. */
const NO_DNS_ANNOTATION = 'cdk8s-istio-egress/no-dns';
/** Annotation that records why a gateway may reach an otherwise excluded range. */
const INTERNAL_DESTINATIONS_ANNOTATION = 'cdk8s-istio-egress/internal-destinations';

/**
 * How the selected pods are part of the mesh: it decides what their proxies need to reach.
 */
export enum DataplaneMode {
  /**
   * Pods with an Istio sidecar: the sidecar needs istiod (TCP 15012) for its configuration and certificates, and
   * reaches egress gateways on their pod ports.
   */
  SIDECAR = 'SIDECAR',
  /**
   * Ambient pods (no sidecar): ztunnel, not the pod, talks to istiod, so istiod is not opened; the pods reach egress
   * waypoints through ztunnel over HBONE (TCP 15008), which ztunnel sends from the pod's own network namespace, so the
   * pod's NetworkPolicy must allow it.
   */
  AMBIENT = 'AMBIENT',
}

/**
 * Options for a DNS resolver.
 */
export interface DnsResolverOptions {
  /**
   * The port the resolver listens on. For pods this is the container port, which is what NetworkPolicies match: a
   * Service port 53 that targets 5353 (as OpenShift's DNS does) is 5353.
   *
   * @default 53
   */
  readonly port?: number;
}

/**
 * Where the selected pods may send DNS queries (UDP and TCP): the cluster DNS pods, other resolver pods, or resolvers
 * that are IP addresses rather than pods (NodeLocal DNSCache, GKE's metadata server).
 *
 * A resolver that runs on the node's network (NodeLocal DNSCache on `169.254.20.10`, GKE Cloud DNS on
 * `169.254.169.254`) is not a pod a selector can match: a policy that only names the kube-dns pods breaks every
 * name lookup there. Name those with `DnsResolver.ipAddresses`. With NodeLocal DNSCache in kube-proxy's iptables mode,
 * pods keep sending to the kube-dns Service IP, which the cache answers on the node without translating it to a pod:
 * list that Service IP too (e.g. `10.96.0.10/32`).
 *
 * @see https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/
 */
export class DnsResolver {
  /**
   * The cluster DNS pods: label `k8s-app: kube-dns` in namespace `kube-system` (CoreDNS on kubeadm, EKS, GKE and AKS
   * keeps that label).
   */
  public static kubeDns(options: DnsResolverOptions = {}): DnsResolver {
    return new DnsResolver('pods', options.port, 'kube-system', { 'k8s-app': 'kube-dns' });
  }

  /**
   * Resolver pods: the pods with all of `podLabels` in the namespace named `namespace` (selected by its immutable
   * `kubernetes.io/metadata.name` label, never by a label anyone may set).
   *
   * @param namespace the resolver pods' namespace
   * @param podLabels labels that select the resolver pods; at least one
   */
  public static pods(namespace: string, podLabels: { [key: string]: string }, options: DnsResolverOptions = {}): DnsResolver {
    return new DnsResolver('pods', options.port, namespace, podLabels);
  }

  /**
   * Resolvers that are IP addresses, not pods, e.g. `["169.254.20.10/32"]` (NodeLocal DNSCache) or
   * `["169.254.169.254/32"]` (GKE Cloud DNS). Only the DNS port is opened to them.
   *
   * @param cidrs the resolvers' addresses as CIDRs (`/32` for one IPv4 address, `/128` for one IPv6 address)
   */
  public static ipAddresses(cidrs: string[], options: DnsResolverOptions = {}): DnsResolver {
    return new DnsResolver('addresses', options.port, undefined, undefined, cidrs);
  }

  /**
   * No DNS at all, on purpose: the pods only ever connect to IP addresses. Every name lookup of the pods (and of their
   * Istio sidecar) fails. The reason is recorded on the NetworkPolicy (annotation `cdk8s-istio-egress/no-dns`).
   *
   * @param reason why the pods need no DNS
   */
  public static none(reason: string): DnsResolver {
    return new DnsResolver('none', undefined, undefined, undefined, undefined, reason);
  }

  /** The DNS port (53 unless given). */
  public readonly port: number;

  /** Namespace of the resolver pods (`pods()`, `kubeDns()`); undefined otherwise. */
  public readonly namespace?: string;

  /** Labels of the resolver pods (`pods()`, `kubeDns()`); undefined otherwise. */
  public readonly podLabels?: { [key: string]: string };

  /** The resolvers' addresses (`ipAddresses()`); undefined otherwise. */
  public readonly cidrs?: string[];

  /** Why the pods need no DNS (`none()`); undefined otherwise. */
  public readonly noDnsReason?: string;

  private constructor(
    private readonly kind: 'pods' | 'addresses' | 'none',
    port: number | undefined,
    namespace?: string,
    podLabels?: { [key: string]: string },
    cidrs?: string[],
    noDnsReason?: string,
  ) {
    this.port = port ?? DNS_PORT;
    this.namespace = namespace;
    this.podLabels = podLabels === undefined || podLabels === null ? podLabels : { ...podLabels };
    this.cidrs = Array.isArray(cidrs) ? [...cidrs] : cidrs;
    this.noDnsReason = noDnsReason;
  }

  /** Whether this is `DnsResolver.none()`. */
  public get isNone(): boolean {
    return this.kind === 'none';
  }

  /** Whether this is `DnsResolver.ipAddresses()`. */
  public get isIpAddresses(): boolean {
    return this.kind === 'addresses';
  }
}

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
   * Egress waypoints the (ambient) pods may use: the pods may connect to the waypoint pods on HBONE, TCP 15008. More
   * can be added with `allowWaypoint`.
   *
   * @default - none
   */
  readonly waypoints?: IEgressWaypoint[];

  /**
   * Mesh settings: the namespace of istiod.
   *
   * @default MeshSettings.defaults()
   */
  readonly mesh?: MeshSettings;
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
 * (default `egress-lockdown`) in `namespace`.
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
  /** Pod ports already allowed, per peer (namespace + labels). */
  private readonly allowedPorts = new Map<string, Set<number>>();
  private pathCount = 0;
  private waypointCount = 0;

  public constructor(scope: Construct, id: string, props: EgressNetworkPolicyProps) {
    super(scope, id);
    if (props === undefined || props === null) {
      fieldError(this, 'props', 'the namespace of the pods to lock down is required, e.g. { namespace: "shop" }');
    }
    this.mesh = props.mesh ?? MeshSettings.defaults();
    this.namespace = inField(this, 'namespace', () => validateDnsLabel(props.namespace, 'namespace'));
    this.name = inField(this, 'name', () => validateDnsLabel(props.name ?? 'egress-lockdown', 'NetworkPolicy name'));
    this.dataplane = props.dataplane ?? DataplaneMode.SIDECAR;
    if (!Object.values(DataplaneMode).includes(this.dataplane)) {
      fieldError(this, 'dataplane', `${JSON.stringify(this.dataplane)} is not a dataplane mode; use DataplaneMode.SIDECAR or DataplaneMode.AMBIENT`);
    }
    if (props.podLabels !== undefined) {
      this.selector = inField(this, 'podLabels', () => {
        if (Object.keys(props.podLabels!).length === 0) {
          throw new Error('an empty label set would select every pod of the namespace; omit podLabels to lock down every pod, or give at least one label');
        }
        return WorkloadSelector.fromLabels(props.podLabels!);
      });
    } else {
      this.rejectControlPlaneNamespace();
    }
    const dns = resolveDns(this, props.dns);

    this.networkPolicy = new plus.NetworkPolicy(this, 'Resource', {
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: { ...POLICY_LABELS },
        annotations: noDnsAnnotation(dns),
      },
      selector: this.selector ? plus.Pods.select(this, 'Pods', { labels: this.selector.labels }) : plus.Pods.all(this, 'Pods'),
      egress: { default: plus.NetworkPolicyTrafficDefault.DENY },
    });

    addDnsRules(this, this.networkPolicy, dns);
    if (this.dataplane === DataplaneMode.SIDECAR) {
      addIstiodRule(this, this.networkPolicy, this.mesh);
    }
    (props.egressPaths ?? []).forEach((path, i) => this.addPath(path, `egressPaths[${i}]`));
    (props.waypoints ?? []).forEach((waypoint, i) => this.addWaypoint(waypoint, `waypoints[${i}]`));
    this.node.addValidation({ validate: () => duplicateNameProblems(this, ApiObject.of(this.networkPolicy), this.namespace, this.name) });
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
   * @throws if the path's namespace, labels or ports are invalid, its label set is empty, it has no pod port, or it
   * cannot be used in ambient mode
   */
  public allowEgressPath(path: IEgressPath): void {
    this.addPath(path, `allowEgressPath(#${this.pathCount})`);
  }

  /**
   * Lets the pods connect to the pods of an egress waypoint (`AmbientEgressWaypoint`, or one described with
   * `AmbientEgressWaypoint.fromAttributes`) on HBONE, TCP 15008: ambient traffic to a ServiceEntry bound to the
   * waypoint leaves the pod as an HBONE connection from ztunnel to the waypoint pods. Allowing a waypoint again does
   * nothing.
   *
   * @throws if the waypoint's namespace or labels are invalid or its HBONE port is not 15008
   */
  public allowWaypoint(waypoint: IEgressWaypoint): void {
    this.addWaypoint(waypoint, `allowWaypoint(#${this.waypointCount})`);
  }

  /**
   * Whether these pods may connect to the pods with the given namespace and labels.
   *
   * @internal
   */
  public _allowsEgressTo(namespace: string, podLabels: { [key: string]: string }): boolean {
    return this.allowedPorts.has(peerKey(namespace, podLabels));
  }

  private addPath(path: IEgressPath, field: string): void {
    this.pathCount++;
    const config: EgressPathConfig = inField(this, field, () => requirePresent(path, 'an egress path').toEgressPathConfig());
    const target = inField(this, field, () => validatePathConfig(config));
    if (this.dataplane === DataplaneMode.AMBIENT && !target.podPorts.includes(HBONE_PORT)) {
      fieldError(
        this,
        field,
        `the path's pods ${target.namespace}/${labelText(target.podLabels)} listen on ${target.podPorts.join(', ')}, but ambient pods have no sidecar: ` +
          `ztunnel sends their egress to a proxy over HBONE, TCP ${HBONE_PORT}, so this lock-down would leave them without egress. ` +
          'Use an egress waypoint (allowWaypoint(AmbientEgressWaypoint)), or set dataplane: DataplaneMode.SIDECAR for sidecar pods',
      );
    }
    this.addPodRule('Path', target.namespace, target.podLabels, target.podPorts);
  }

  private addWaypoint(waypoint: IEgressWaypoint, field: string): void {
    this.waypointCount++;
    const target = inField(this, field, () => {
      const w = requirePresent(waypoint, 'a waypoint');
      if (w.hbonePort !== HBONE_PORT) {
        throw new Error(
          `the waypoint ${w.namespace}/${w.name} says its HBONE port is ${JSON.stringify(w.hbonePort)}, but ztunnel always connects to waypoints on ${HBONE_PORT}; ` +
            `a lock-down without TCP ${HBONE_PORT} to the waypoint pods cuts ambient egress off. Fix the waypoint's hbonePort`,
        );
      }
      return validatePathConfig({ namespace: w.namespace, podLabels: w.selectorLabels, podPorts: [w.hbonePort], externalPorts: [] });
    });
    this.addPodRule('Waypoint', target.namespace, target.podLabels, target.podPorts);
  }

  /** Adds one rule to the pods of a namespace, for the ports not allowed to them yet. */
  private addPodRule(kind: string, namespace: string, podLabels: { [key: string]: string }, ports: number[]): void {
    const key = peerKey(namespace, podLabels);
    const allowed = this.allowedPorts.get(key) ?? new Set<number>();
    const fresh = ports.filter((p) => !allowed.has(p));
    this.allowedPorts.set(key, allowed);
    if (fresh.length === 0) {
      return;
    }
    fresh.forEach((p) => allowed.add(p));
    const id = `${kind}${kind === 'Path' ? this.pathCount - 1 : this.waypointCount - 1}`;
    this.networkPolicy.addEgressRule(podsPeer(this, id, namespace, podLabels), fresh.map((p) => plus.NetworkPolicyPort.tcp(p)));
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

/**
 * A range the egress gateway may reach although it lies in a range excluded by default (private, CGNAT, loopback,
 * link-local or cloud metadata), with the reason.
 */
export interface InternalDestination {
  /** The range, e.g. `10.20.0.0/16` (a `/32` for one address). It must lie inside one of the excluded ranges. */
  readonly cidr: string;

  /**
   * Why the gateway must reach it, e.g. "S3 interface endpoint in the VPC". Recorded on the NetworkPolicy (annotation
   * `cdk8s-istio-egress/internal-destinations`).
   */
  readonly reason: string;
}

/**
 * Properties of an EgressGatewayNetworkPolicy.
 */
export interface EgressGatewayNetworkPolicyProps {
  /**
   * The egress paths this gateway serves: a `WildcardEgressGateway`, the `EgressGateway` itself, or any `IEgressPath`.
   * All must be served by the same pods (namespace and labels); the gateway may reach the internet on the union of
   * their external ports and is reached on the union of their pod ports.
   */
  readonly paths: IEgressPath[];

  /**
   * Name of the NetworkPolicy (a DNS-1123 label), unique among the NetworkPolicies of the gateway's namespace.
   *
   * @default "egress-gateway-lockdown"
   */
  readonly name?: string;

  /**
   * More external ports the gateway may connect to, beyond those of `paths` (e.g. when a path is an `EgressGateway`,
   * which does not know the ports its routes use).
   *
   * @default - only the external ports of `paths`
   */
  readonly externalPorts?: number[];

  /**
   * Ranges inside the excluded ones the gateway may reach anyway, each with its reason (e.g. a private endpoint of a
   * cloud service). Only the external ports are opened to them.
   *
   * @default - none: no private, CGNAT, loopback, link-local or metadata address
   */
  readonly internalDestinations?: InternalDestination[];

  /**
   * More ranges the gateway must never reach, e.g. the cluster's pod and service ranges when they are not private
   * addresses, or your organisation's public ranges.
   *
   * @default - none beyond the built-in list (`excludedCidrs`)
   */
  readonly excludeCidrs?: string[];

  /**
   * Also let the gateway reach the IPv6 internet (`::/0` without ULA `fc00::/7` (incl. AWS's metadata service
   * `fd00:ec2::254`), link-local `fe80::/10`, loopback `::1/128` and local-use NAT64 `64:ff9b:1::/48`).
   *
   * @default false
   */
  readonly ipv6?: boolean;

  /**
   * Restrict who may connect to the gateway pods: only the clients added with `allowClient`,
   * `allowClientNamespace` and `allowMetricsScraping`, on the gateway's pod ports. At least one client must be
   * added. When false, ingress to the gateway pods is left to other policies (and to the gateway's mTLS and
   * AuthorizationPolicy).
   *
   * @default true
   */
  readonly restrictIngress?: boolean;

  /**
   * Where the gateway may send DNS queries (the SNI forwarder resolves every host name it forwards to).
   *
   * @default [DnsResolver.kubeDns()]
   */
  readonly dns?: DnsResolver[];

  /**
   * Mesh settings: the namespace of istiod.
   *
   * @default MeshSettings.defaults()
   */
  readonly mesh?: MeshSettings;
}

/** Excluded by default: private, CGNAT, loopback, link-local (cloud metadata) and Azure's platform address. */
const EXCLUDED_IPV4 = [
  '10.0.0.0/8', // RFC 1918 private
  '100.64.0.0/10', // RFC 6598 carrier-grade NAT; also pod ranges of some clusters; Alibaba metadata 100.100.100.200
  '127.0.0.0/8', // loopback
  '168.63.129.16/32', // Azure WireServer (platform DNS, health probes, VM agent)
  '169.254.0.0/16', // link-local: cloud metadata 169.254.169.254 (AWS, GCP, Azure, OCI), AWS DNS and time, NodeLocal DNSCache
  '172.16.0.0/12', // RFC 1918 private
  '192.168.0.0/16', // RFC 1918 private
];
const EXCLUDED_IPV6 = [
  '::1/128', // loopback
  '64:ff9b:1::/48', // RFC 8215 local-use NAT64: may translate to private IPv4 addresses
  'fc00::/7', // unique local addresses; AWS metadata fd00:ec2::254
  'fe80::/10', // link-local
];

/**
 * Locks down the egress gateway pods themselves with a Kubernetes NetworkPolicy: the gateway is the one workload that
 * may reach the internet, so it gets exactly what it needs and nothing more.
 *
 * Egress: the gateway pods may connect only to
 * - DNS (the `dns` resolvers, default the cluster DNS pods) on UDP and TCP 53;
 * - istiod on TCP 15012 (the gateway's proxy takes its configuration and certificate from there);
 * - the internet on the external ports of its paths (e.g. a `WildcardEgressGateway`'s `ports`): `0.0.0.0/0` (and
 *   `::/0` with `ipv6`) **except** private (`10/8`, `172.16/12`, `192.168/16`), carrier-grade NAT (`100.64/10`),
 *   loopback (`127/8`), link-local incl. the cloud metadata services (`169.254/16`: `169.254.169.254`) and Azure's
 *   `168.63.129.16`, plus `excludeCidrs`. So a client that talks the gateway into connecting to an internal address
 *   (an allowed host name that resolves to `10.x`, DNS rebinding) is stopped. Ranges the gateway must reach anyway
 *   are opened one by one with `internalDestinations`, each with its reason.
 *
 * Ingress (with `restrictIngress`, the default): only the clients added with `allowClient` (the pods of an
 * `EgressNetworkPolicy`), `allowClientNamespace` and `allowMetricsScraping` may connect, on the gateway's pod ports
 * (metrics: 15020, 15090). Kubelet probes come from the node, which NetworkPolicies always allow.
 *
 * Istio's own gateway Helm chart ships an optional NetworkPolicy whose egress rule allows everything; this one does
 * not. The same Kubernetes caveats as for `EgressNetworkPolicy` apply (additive policies, CNI enforcement,
 * TCP/UDP/SCTP only, hostNetwork pods).
 *
 * The NetworkPolicy is `networkPolicy` (construct id `Resource`), named `name` (default `egress-gateway-lockdown`) in
 * the gateway's namespace.
 *
 * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-gateway/#additional-security-considerations
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
 */
export class EgressGatewayNetworkPolicy extends Construct {
  /** The namespace of the gateway pods (and of the NetworkPolicy). */
  public readonly namespace: string;

  /** The name of the NetworkPolicy. */
  public readonly name: string;

  /** The ports the gateway pods listen on, sorted. */
  public readonly podPorts: number[];

  /** The ports the gateway may connect to outside, sorted. */
  public readonly externalPorts: number[];

  /** Every range the gateway may not reach on its external ports (the built-in list plus `excludeCidrs`), canonical and sorted. */
  public readonly excludedCidrs: string[];

  /** Whether ingress to the gateway pods is restricted to the added clients. */
  public readonly restrictIngress: boolean;

  /** Mesh settings in use. */
  public readonly mesh: MeshSettings;

  /** The generated cdk8s-plus NetworkPolicy. */
  public readonly networkPolicy: plus.NetworkPolicy;

  private readonly selector: WorkloadSelector;
  private readonly clientKeys = new Set<string>();
  private readonly clientPolicies: EgressNetworkPolicy[] = [];
  private clientCount = 0;

  public constructor(scope: Construct, id: string, props: EgressGatewayNetworkPolicyProps) {
    super(scope, id);
    if (props === undefined || props === null || !Array.isArray(props.paths) || props.paths.length === 0) {
      fieldError(this, 'paths', 'at least one egress path is required: the gateway, or a construct routing through it (e.g. paths: [wildcardEgressGateway])');
    }
    this.mesh = props.mesh ?? MeshSettings.defaults();
    this.name = inField(this, 'name', () => validateDnsLabel(props.name ?? 'egress-gateway-lockdown', 'NetworkPolicy name'));
    this.restrictIngress = props.restrictIngress ?? true;

    const configs = props.paths.map((path, i) =>
      inField(this, `paths[${i}]`, () => validatePathConfig(requirePresent(path, 'an egress path').toEgressPathConfig())),
    );
    const first = configs[0];
    configs.forEach((config, i) => {
      if (peerKey(config.namespace, config.podLabels) !== peerKey(first.namespace, first.podLabels)) {
        fieldError(
          this,
          `paths[${i}]`,
          `its pods ${config.namespace}/${labelText(config.podLabels)} are not the pods of paths[0] (${first.namespace}/${labelText(first.podLabels)}); ` +
            'one EgressGatewayNetworkPolicy locks down one gateway: define one per gateway',
        );
      }
    });
    this.namespace = first.namespace;
    this.selector = WorkloadSelector.fromLabels(first.podLabels);
    this.podPorts = sortedUnique(configs.flatMap((c) => c.podPorts));
    const extra = (props.externalPorts ?? []).map((p, i) => inField(this, `externalPorts[${i}]`, () => validatePortNumber(p, 'external port')));
    this.externalPorts = sortedUnique([...configs.flatMap((c) => c.externalPorts), ...extra]);
    if (this.externalPorts.length === 0) {
      fieldError(
        this,
        'externalPorts',
        'the gateway could reach no external port: its paths name none (an EgressGateway does not know the ports its routes use). ' +
          'Pass the construct that routes through the gateway (e.g. a WildcardEgressGateway) in paths, or list externalPorts',
      );
    }

    const ipv6 = props.ipv6 ?? false;
    const excluded = this.excludedRanges(props.excludeCidrs ?? [], ipv6);
    this.excludedCidrs = excluded.map(String);
    const internal = (props.internalDestinations ?? []).map((d, i) => this.internalDestination(d, `internalDestinations[${i}]`, excluded, ipv6));
    internal.forEach((d, i) => {
      const earlier = internal.findIndex((o) => o.cidr.toString() === d.cidr.toString());
      if (earlier < i) {
        fieldError(this, `internalDestinations[${i}].cidr`, `"${d.cidr}" is already listed at internalDestinations[${earlier}]; list each range once`);
      }
    });
    const dns = resolveDns(this, props.dns);

    const annotations: { [key: string]: string } = { ...noDnsAnnotation(dns) };
    if (internal.length > 0) {
      annotations[INTERNAL_DESTINATIONS_ANNOTATION] = internal.map((d) => `${d.cidr}: ${d.reason}`).join('\n');
    }
    this.networkPolicy = new plus.NetworkPolicy(this, 'Resource', {
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: { ...POLICY_LABELS },
        annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
      },
      selector: plus.Pods.select(this, 'Pods', { labels: this.selector.labels }),
      egress: { default: plus.NetworkPolicyTrafficDefault.DENY },
      ingress: this.restrictIngress ? { default: plus.NetworkPolicyTrafficDefault.DENY } : undefined,
    });

    addDnsRules(this, this.networkPolicy, dns);
    addIstiodRule(this, this.networkPolicy, this.mesh);
    const ports = this.externalPorts.map((p) => plus.NetworkPolicyPort.tcp(p));
    // parseIpBlock re-checks what Kubernetes requires of the rendered block: every except a strict subset, no duplicates.
    const v4 = parseIpBlock('0.0.0.0/0', excluded.filter((c) => c.family === 4).map(String)).except.map(String);
    this.networkPolicy.addEgressRule(plus.NetworkPolicyIpBlock.ipv4(this, 'Internet', '0.0.0.0/0', v4), ports);
    if (ipv6) {
      const v6 = parseIpBlock('::/0', excluded.filter((c) => c.family === 6).map(String)).except.map(String);
      this.networkPolicy.addEgressRule(plus.NetworkPolicyIpBlock.ipv6(this, 'InternetIpv6', '::/0', v6), ports);
    }
    internal.forEach((d, i) => {
      const block =
        d.cidr.family === 4
          ? plus.NetworkPolicyIpBlock.ipv4(this, `InternalDestination${i}`, d.cidr.toString())
          : plus.NetworkPolicyIpBlock.ipv6(this, `InternalDestination${i}`, d.cidr.toString());
      this.networkPolicy.addEgressRule(block, ports);
    });

    this.node.addValidation({
      validate: () => [
        ...duplicateNameProblems(this, ApiObject.of(this.networkPolicy), this.namespace, this.name),
        ...(this.restrictIngress && this.clientKeys.size === 0
          ? [
            'restrictIngress: no client may connect to the gateway, so it would forward nothing; call allowClient(egressNetworkPolicy) or ' +
                'allowClientNamespace("<namespace>"), or set restrictIngress: false',
          ]
          : []),
        ...this.clientPolicies
          .filter((client) => !client._allowsEgressTo(this.namespace, this.selector.labels))
          .map(
            (client) =>
              `allowClient: "${client.node.path}" (${client.namespace}/${client.name}) does not allow its pods to reach this gateway, so they cannot connect; ` +
              'call allowEgressPath(<the gateway or a construct routing through it>) on it',
          ),
      ],
    });
  }

  /** Labels of the gateway pods. */
  public get podLabels(): { [key: string]: string } {
    return this.selector.labels;
  }

  /**
   * Lets the pods locked down by an `EgressNetworkPolicy` (its namespace, and its pod labels if it has any) connect to
   * the gateway pods on the gateway's pod ports. The client policy must allow egress to this gateway
   * (`allowEgressPath`), checked at synthesis. Adding a client again does nothing.
   */
  public allowClient(client: EgressNetworkPolicy): void {
    const field = `allowClient(#${this.clientCount++})`;
    const policy = inField(this, field, () => requirePresent(client, 'a client EgressNetworkPolicy'));
    if (this.addIngress(field, 'Client', policy.namespace, policy.podLabels, this.podPorts)) {
      this.clientPolicies.push(policy);
    }
  }

  /**
   * Lets every pod of a namespace (selected by its immutable name) connect to the gateway pods on the gateway's pod
   * ports. Adding a namespace again does nothing.
   *
   * @param namespace the clients' namespace
   */
  public allowClientNamespace(namespace: string): void {
    const field = `allowClientNamespace(#${this.clientCount++})`;
    const ns = inField(this, field, () => validateDnsLabel(namespace, 'namespace'));
    this.addIngress(field, 'Client', ns, undefined, this.podPorts);
  }

  /**
   * Lets a metrics scraper (e.g. Prometheus) read the gateway proxy's metrics: TCP 15020 (Istio's merged metrics,
   * what the `prometheus.io/port` annotation names) and 15090 (Envoy's own).
   *
   * @param namespace the scraper's namespace
   * @param podLabels labels of the scraper pods; every pod of the namespace when omitted
   */
  public allowMetricsScraping(namespace: string, podLabels?: { [key: string]: string }): void {
    const field = `allowMetricsScraping(#${this.clientCount++})`;
    const ns = inField(this, field, () => validateDnsLabel(namespace, 'namespace'));
    const labels =
      podLabels === undefined
        ? undefined
        : inField(this, `${field}: podLabels`, () => {
          if (Object.keys(podLabels).length === 0) {
            throw new Error('an empty label set would select every pod of the namespace; omit podLabels for that, or give the scraper\'s labels');
          }
          return WorkloadSelector.fromLabels(podLabels).labels;
        });
    this.addIngress(field, 'Metrics', ns, labels, METRICS_PORTS);
  }

  /** Adds an ingress rule from pods of a namespace; false if the same peer and ports were added before. */
  private addIngress(field: string, kind: string, namespace: string, podLabels: { [key: string]: string } | undefined, ports: number[]): boolean {
    if (!this.restrictIngress) {
      fieldError(
        this,
        field,
        'restrictIngress is false, so ingress to the gateway is not restricted by this policy and an allow rule would restrict it; set restrictIngress: true (the default) to list the clients',
      );
    }
    const key = `${peerKey(namespace, podLabels ?? {})}:${ports.join(',')}`;
    if (this.clientKeys.has(key)) {
      return false;
    }
    this.clientKeys.add(key);
    this.networkPolicy.addIngressRule(
      podsPeer(this, `${kind}${this.clientCount - 1}`, namespace, podLabels),
      ports.map((p) => plus.NetworkPolicyPort.tcp(p)),
    );
    return true;
  }

  /** The built-in exclusions plus `excludeCidrs`, validated, sorted (IPv4 first). */
  private excludedRanges(extra: string[], ipv6: boolean): Cidr[] {
    const ranges = [...EXCLUDED_IPV4, ...(ipv6 ? EXCLUDED_IPV6 : [])].map((c) => Cidr.parse(c));
    extra.forEach((text, i) => {
      const field = `excludeCidrs[${i}]`;
      const range = inField(this, field, () => Cidr.parse(text));
      if (range.family === 6 && !ipv6) {
        fieldError(this, field, `"${range}" is IPv6, but the gateway gets no IPv6 egress at all (ipv6 is false); remove it, or set ipv6: true`);
      }
      if (range.prefix === 0) {
        fieldError(this, field, `"${range}" excludes every address: the gateway could reach nothing. List the ranges it must not reach`);
      }
      const covering = ranges.find((r) => r.contains(range));
      if (covering !== undefined) {
        fieldError(this, field, `"${range}" is already excluded (inside "${covering}"); remove it`);
      }
      const inside = ranges.find((r) => range.contains(r));
      if (inside !== undefined) {
        fieldError(this, field, `"${range}" contains the excluded "${inside}"; list only the ranges not excluded yet (see excludedCidrs), or split it`);
      }
      ranges.push(range);
    });
    return ranges.sort((a, b) => a.family - b.family || (a.network < b.network ? -1 : a.network > b.network ? 1 : a.prefix - b.prefix));
  }

  private internalDestination(destination: InternalDestination, field: string, excluded: Cidr[], ipv6: boolean): { cidr: Cidr; reason: string } {
    const d = inField(this, field, () => requirePresent(destination, 'an internal destination'));
    const cidr = inField(this, `${field}.cidr`, () => Cidr.parse(d.cidr));
    if (typeof d.reason !== 'string' || d.reason.trim().length === 0) {
      fieldError(this, `${field}.reason`, `opening "${cidr}" needs a reason (e.g. "S3 interface endpoint in the VPC"): it is recorded on the NetworkPolicy for review`);
    }
    if (/[\r\n]/.test(d.reason)) {
      fieldError(this, `${field}.reason`, 'write the reason on one line');
    }
    if (cidr.family === 6 && !ipv6) {
      fieldError(this, `${field}.cidr`, `"${cidr}" is IPv6, but the gateway gets no IPv6 egress (ipv6 is false); set ipv6: true first`);
    }
    if (!excluded.some((r) => r.contains(cidr))) {
      fieldError(
        this,
        `${field}.cidr`,
        `"${cidr}" is not inside an excluded range (${excluded.filter((r) => r.family === cidr.family).join(', ')}): the gateway may reach it on its external ports already. ` +
          'List only internal ranges, one by one',
      );
    }
    return { cidr, reason: d.reason.trim() };
  }
}

/** A validated egress target: namespace, non-empty labels, unique valid pod ports (sorted), external ports. */
function validatePathConfig(config: EgressPathConfig): EgressPathConfig {
  if (config === undefined || config === null) {
    throw new Error('toEgressPathConfig() returned nothing; it must name the namespace, pod labels and pod ports of the proxy pods');
  }
  const namespace = validateDnsLabel(config.namespace, 'namespace');
  if (config.podLabels === undefined || config.podLabels === null || Object.keys(config.podLabels).length === 0) {
    throw new Error(
      `the proxy pods in "${namespace}" have no pod labels: an empty selector would open the ports to every pod of the namespace; the path must give the labels of exactly its proxy pods`,
    );
  }
  let podLabels: { [key: string]: string };
  try {
    podLabels = WorkloadSelector.fromLabels(config.podLabels).labels;
  } catch (e) {
    throw atSubField(e, 'podLabels');
  }
  if (!Array.isArray(config.podPorts) || config.podPorts.length === 0) {
    throw new Error('the path has no pod ports: a rule without ports would allow every port of its pods; the path must list the ports its pods listen on');
  }
  const podPorts = config.podPorts.map((p, i) => validatePortNumber(p, `podPorts[${i}]`));
  const externalPorts = (config.externalPorts ?? []).map((p, i) => validatePortNumber(p, `externalPorts[${i}]`));
  return { namespace, podLabels, podPorts: sortedUnique(podPorts), externalPorts: sortedUnique(externalPorts) };
}

/** A DNS resolver, validated. */
interface ResolvedDns {
  readonly namespace?: string;
  readonly podLabels?: { [key: string]: string };
  readonly cidrs?: Cidr[];
  readonly port: number;
  readonly noDnsReason?: string;
}

function resolveDns(scope: IConstruct, resolvers: DnsResolver[] | undefined): ResolvedDns[] {
  const list = resolvers ?? [DnsResolver.kubeDns()];
  if (!Array.isArray(list) || list.length === 0) {
    fieldError(
      scope,
      'dns',
      'an empty list leaves the pods without DNS: every name lookup (the application\'s and the Istio proxy\'s) would fail. ' +
        'Omit dns for the cluster DNS pods, list your resolvers (e.g. DnsResolver.ipAddresses(["169.254.20.10/32"]) for NodeLocal DNSCache), ' +
        'or acknowledge with [DnsResolver.none("<why the pods need no DNS>")]',
    );
  }
  const resolved = list.map((resolver, i) => {
    const field = `dns[${i}]`;
    const r = inField(scope, field, () => requirePresent(resolver, 'a DNS resolver'));
    if (r.isNone) {
      if (typeof r.noDnsReason !== 'string' || r.noDnsReason.trim().length === 0 || /[\r\n]/.test(r.noDnsReason)) {
        fieldError(scope, field, 'DnsResolver.none() needs a reason on one line (why the pods need no DNS); it is recorded on the NetworkPolicy');
      }
      return { port: r.port, noDnsReason: r.noDnsReason.trim() };
    }
    const port = inField(scope, `${field}.port`, () => validatePortNumber(r.port, 'DNS port'));
    if (r.isIpAddresses) {
      if (!Array.isArray(r.cidrs) || r.cidrs.length === 0) {
        fieldError(scope, `${field}.cidrs`, 'list at least one resolver address, e.g. ["169.254.20.10/32"]');
      }
      const cidrs = r.cidrs!.map((text, j) =>
        inField(scope, `${field}.cidrs[${j}]`, () => {
          const cidr = Cidr.parse(text);
          if (cidr.prefix === 0) {
            throw new Error(
              `"${cidr}" is every address: the pods could send DNS queries (and anything else on port ${port}) to any server on the internet, a classic exfiltration path. List your resolvers' addresses`,
            );
          }
          return cidr;
        }),
      );
      return { port, cidrs: uniqueCidrs(cidrs) };
    }
    const namespace = inField(scope, `${field}.namespace`, () => validateDnsLabel(r.namespace!, 'namespace'));
    const podLabels = inField(scope, `${field}.podLabels`, () => {
      if (r.podLabels === undefined || r.podLabels === null || Object.keys(r.podLabels).length === 0) {
        throw new Error(
          `an empty label set would open the DNS port to every pod of "${namespace}"; give the resolver pods' labels (the cluster DNS: { "k8s-app": "kube-dns" })`,
        );
      }
      return WorkloadSelector.fromLabels(r.podLabels).labels;
    });
    return { port, namespace, podLabels };
  });
  if (resolved.length > 1 && resolved.some((r) => r.noDnsReason !== undefined)) {
    fieldError(scope, 'dns', 'DnsResolver.none() means no DNS at all and cannot be combined with resolvers; use one or the other');
  }
  return resolved;
}

function noDnsAnnotation(dns: ResolvedDns[]): { [key: string]: string } | undefined {
  const reason = dns.find((d) => d.noDnsReason !== undefined)?.noDnsReason;
  return reason === undefined ? undefined : { [NO_DNS_ANNOTATION]: reason };
}

function addDnsRules(scope: Construct, policy: plus.NetworkPolicy, dns: ResolvedDns[]): void {
  dns.forEach((d, i) => {
    if (d.noDnsReason !== undefined) {
      return;
    }
    const ports = [plus.NetworkPolicyPort.udp(d.port), plus.NetworkPolicyPort.tcp(d.port)];
    if (d.cidrs !== undefined) {
      d.cidrs.forEach((cidr, j) => {
        const id = `Dns${i}Address${j}`;
        const block =
          cidr.family === 4 ? plus.NetworkPolicyIpBlock.ipv4(scope, id, cidr.toString()) : plus.NetworkPolicyIpBlock.ipv6(scope, id, cidr.toString());
        policy.addEgressRule(block, ports);
      });
      return;
    }
    policy.addEgressRule(podsPeer(scope, `Dns${i}`, d.namespace!, d.podLabels), ports);
  });
}

function addIstiodRule(scope: Construct, policy: plus.NetworkPolicy, mesh: MeshSettings): void {
  policy.addEgressRule(podsPeer(scope, 'Istiod', mesh.istiodNamespace, ISTIOD_POD_LABELS), [plus.NetworkPolicyPort.tcp(ISTIOD_XDS_PORT)]);
}

/** The pods peers of each policy construct, by namespace and labels: see `podsPeer`. */
const peersByPolicy = new WeakMap<Construct, Map<string, plus.Pods>>();

/**
 * Pods of one namespace as one NetworkPolicy peer: `namespaceSelector` on the immutable `kubernetes.io/metadata.name`
 * label AND `podSelector` (all pods of the namespace when no labels are given).
 *
 * One peer per policy construct and (namespace, labels): the first rule that needs it creates it, with the ids
 * `<id>Namespace` and `<id>`; later rules of the same policy reuse it. Peers are not shared across policies, so each
 * policy's construct tree stays self-contained (removing one policy never changes another's children). Sharing is
 * safe because cdk8s-plus turns the peer into plain `to`/`from` entries when the rule is added: the peer construct
 * itself renders nothing.
 */
function podsPeer(scope: Construct, id: string, namespace: string, podLabels: { [key: string]: string } | undefined): plus.Pods {
  let peers = peersByPolicy.get(scope);
  if (peers === undefined) {
    peers = new Map();
    peersByPolicy.set(scope, peers);
  }
  // Exactly the arguments (label order and "no labels" vs. labels included), so a shared peer renders the same entries.
  const key = JSON.stringify([namespace, podLabels ?? null]);
  let peer = peers.get(key);
  if (peer === undefined) {
    const namespaces = plus.Namespaces.select(scope, `${id}Namespace`, { names: [namespace] });
    peer = podLabels === undefined ? plus.Pods.all(scope, id, { namespaces }) : plus.Pods.select(scope, id, { labels: podLabels, namespaces });
    peers.set(key, peer);
  }
  return peer;
}

/** The NetworkPolicy ApiObjects of one construct tree, for the duplicate-name check of one validation pass. */
interface NetworkPolicyIndex {
  /** NetworkPolicy ApiObjects by `<namespace>/<name>`, each list in tree order (pre-order, as `findAll()` lists them). */
  readonly byKey: Map<string, ApiObject[]>;
  /** The policies checked against this index: one checked again means a new validation pass. */
  readonly checked: Set<IConstruct>;
}

/** The current index of each construct tree, by root. */
const networkPolicyIndexes = new WeakMap<IConstruct, NetworkPolicyIndex>();

/**
 * The index of the NetworkPolicies of `self`'s tree for this validation pass. Walking the whole tree for every policy
 * made validation quadratic; one walk per pass serves every policy. The index is rebuilt when it may be stale: when
 * `self` was checked against it already (cdk8s validates every construct once per pass, and the tree may have grown
 * between passes, e.g. a re-synth after adding a policy), or when `self`'s own NetworkPolicy is missing from it (a
 * policy created after it was built).
 */
function networkPolicyIndex(self: IConstruct, own: ApiObject, key: string): NetworkPolicyIndex {
  const root = self.node.root;
  let index = networkPolicyIndexes.get(root);
  if (index === undefined || index.checked.has(self) || !(index.byKey.get(key) ?? []).includes(own)) {
    const byKey = new Map<string, ApiObject[]>();
    for (const c of root.node.findAll()) {
      if (ApiObject.isApiObject(c) && c.kind === 'NetworkPolicy') {
        const k = `${c.metadata.namespace}/${c.metadata.name}`;
        const list = byKey.get(k);
        if (list === undefined) {
          byKey.set(k, [c]);
        } else {
          list.push(c);
        }
      }
    }
    index = { byKey, checked: new Set() };
    networkPolicyIndexes.set(root, index);
  }
  index.checked.add(self);
  return index;
}

/** Other NetworkPolicies of the app with the same namespace and name (the later one would replace the earlier one). */
function duplicateNameProblems(self: IConstruct, own: ApiObject, namespace: string, name: string): string[] {
  const key = `${namespace}/${name}`;
  return (networkPolicyIndex(self, own, key).byKey.get(key) ?? [])
    .filter((c) => c.metadata.name === name && c.metadata.namespace === namespace)
    .filter((c) => !c.node.path.startsWith(`${self.node.path}/`))
    .map((c) => `name: NetworkPolicy ${namespace}/${name} is also defined by "${c.node.path}"; one would replace the other. Give each its own name`);
}

function peerKey(namespace: string, podLabels: { [key: string]: string }): string {
  return `${namespace}/${labelText(podLabels)}`;
}

function labelText(labels: { [key: string]: string }): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',')}}`;
}

function sortedUnique(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function uniqueCidrs(cidrs: Cidr[]): Cidr[] {
  const seen = new Set<string>();
  return cidrs.filter((c) => {
    const key = c.toString();
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}
