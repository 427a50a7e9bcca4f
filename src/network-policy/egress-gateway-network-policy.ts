import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { addDnsRules, dnsAnnotations, DnsResolver, resolveDns } from './dns-resolver';
import { EgressNetworkPolicy } from './egress-network-policy';
import { egressPathTarget } from './egress-path-target';
import { INTERNAL_DESTINATIONS_ANNOTATION, InternalDestination, resolveInternalDestinations } from './internal-destination';
import { addIstiodRule, bracedLabelText, listProp, peerKey, PodPeers, policyMetadata, selectorLabels } from './peers';
import { EXCLUDED_IPV4_RANGES, EXCLUDED_IPV6_RANGES } from './reserved-ranges';
import { requireArray, requireBoolean, requireInstance, requireStruct } from '../core/boundary';
import { Cidr, parseIpBlock } from '../core/cidr';
import { sortedUnique } from '../core/collections';
import { validateDnsLabel } from '../core/dns';
import { IEgressPath } from '../core/egress-path';
import { fieldError, inField } from '../core/errors';
import { WorkloadSelector } from '../core/identity';
import { MeshSettings } from '../core/mesh';
import { validatePortNumber } from '../core/port';
import { MeshRegistry } from '../core/registry';

/** Istio proxy metrics: merged application + Envoy metrics (15020) and Envoy's own Prometheus endpoint (15090). */
const METRICS_PORTS = [15020, 15090];

/**
 * Properties of an EgressGatewayNetworkPolicy.
 */
export interface EgressGatewayNetworkPolicyProps {
  /**
   * The egress paths this gateway serves: a `WildcardEgressGateway`, the `EgressGateway` itself, an
   * `AmbientEgressWaypoint` (its pods are fenced like a gateway's: reached on HBONE 15008, reaching out on its hosts'
   * ports), or any `IEgressPath`. All must be served by the same pods (namespace and labels); the gateway may reach
   * the internet on the union of their external ports and is reached on the union of their pod ports.
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
   * @default - none: no address of the excluded ranges (`excludedCidrs`)
   */
  readonly internalDestinations?: InternalDestination[];

  /**
   * More ranges the gateway must never reach, e.g. the cluster's pod and service ranges when they are not private
   * addresses, or your organisation's public ranges.
   *
   * Excluded always (`excludedCidrs`), IPv4: `0.0.0.0/8` (this host: `0.0.0.0` reaches the node's own sockets),
   * `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` (private), `100.64.0.0/10` (carrier-grade NAT; Alibaba's
   * metadata `100.100.100.200`), `127.0.0.0/8` (loopback), `169.254.0.0/16` (link-local: the cloud metadata
   * services on `169.254.169.254`), `168.63.129.16/32` (Azure's platform address), `192.0.0.0/24` (IETF protocol
   * assignments), `198.18.0.0/15` (benchmarking, used inside some VPCs) and `240.0.0.0/4` (reserved: GKE class E pod
   * ranges, Istio's ServiceEntry VIPs `240.240.0.0/16`, broadcast). With `ipv6`: `::1/128` (loopback),
   * `64:ff9b::/96` (well-known NAT64: with DNS64/NAT64, `64:ff9b::a9fe:a9fe` is `169.254.169.254` through the NAT64
   * gateway), `64:ff9b:1::/48` (local-use NAT64), `fc00::/7` (unique local, incl. AWS's metadata `fd00:ec2::254`)
   * and `fe80::/10` (link-local). Other public ranges of your own (a VPC with public addresses, an on-premises range
   * reachable over VPN) are not known to this library: list them here.
   *
   * @default - none beyond the built-in list (`excludedCidrs`)
   */
  readonly excludeCidrs?: string[];

  /**
   * Also let the gateway reach the IPv6 internet (`::/0` without the IPv6 ranges listed at `excludeCidrs`: loopback,
   * NAT64, unique local and link-local).
   *
   * @default false
   */
  readonly ipv6?: boolean;

  /**
   * Restrict who may connect to the gateway pods: only the clients added with `allowClient` (on the ports of the
   * paths each client uses), `allowClientNamespace` (on the gateway's pod ports) and `allowMetricsScraping`. At
   * least one client must be added. When false, ingress to the gateway pods is left to other policies (and to the
   * gateway's mTLS and AuthorizationPolicy).
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

/**
 * Locks down the egress gateway pods themselves (or the pods of an egress waypoint) with a Kubernetes NetworkPolicy:
 * the gateway is the one workload that may reach the internet, so it gets exactly what it needs and nothing more.
 *
 * Egress: the gateway pods may connect only to
 * - DNS (the `dns` resolvers, default the cluster DNS pods) on UDP and TCP 53;
 * - istiod on TCP 15012 (the gateway's proxy takes its configuration and certificate from there);
 * - the internet on the external ports of its paths (e.g. a `WildcardEgressGateway`'s `ports`): `0.0.0.0/0` (and
 *   `::/0` with `ipv6`) **except** the private, carrier-grade NAT, loopback, link-local (cloud metadata), NAT64 and
 *   other non-internet ranges listed at `excludeCidrs`, plus `excludeCidrs`. So a client that talks the gateway into
 *   connecting to an internal address (an allowed host name that resolves to `10.x`, DNS rebinding) is stopped.
 *   Ranges the gateway must reach anyway are opened one by one with `internalDestinations`, each with its reason.
 *
 * Ingress (with `restrictIngress`, the default): only the clients added with `allowClient` (the pods of an
 * `EgressNetworkPolicy`, on the ports of the paths that policy allows), `allowClientNamespace` and
 * `allowMetricsScraping` may connect (metrics: 15020, 15090). Kubelet probes come from the node, which
 * NetworkPolicies always allow.
 *
 * A waypoint (`AmbientEgressWaypoint`, or any `IEgressPath` with pod port 15008) is fenced the same way: clients reach
 * it on HBONE, TCP 15008 (ztunnel sends from the client pod's network namespace, so the client pods are the source),
 * and it reaches the internet only on its hosts' ports, without the excluded ranges. That matters most for wildcard
 * HTTP hosts (`DYNAMIC_DNS`), where the waypoint connects to whatever address a name under the wildcard resolves to.
 *
 * Istio's own gateway Helm chart ships an optional NetworkPolicy whose egress rule allows everything; this one does
 * not. The same Kubernetes caveats as for `EgressNetworkPolicy` apply (additive policies, CNI enforcement,
 * TCP/UDP/SCTP only, hostNetwork pods).
 *
 * The NetworkPolicy is `networkPolicy` (construct id `Resource`), named `name` (default `egress-gateway-lockdown`) in
 * the gateway's namespace; `ApiObject.of(policy)` is its Kubernetes object.
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
  private readonly peers = new PodPeers();
  /** Ports already opened to each ingress peer (`peerKey`). */
  private readonly ingressPorts = new Map<string, Set<number>>();
  private readonly clientPolicies: EgressNetworkPolicy[] = [];
  private clientNamespaceCount = 0;
  private clientCount = 0;

  public constructor(scope: Construct, id: string, props: EgressGatewayNetworkPolicyProps) {
    super(scope, id);
    MeshRegistry.of(this).register(this);
    const noPath = 'at least one egress path is required: the gateway, or a construct routing through it (e.g. a WildcardEgressGateway in paths)';
    if (props === undefined || props === null || props.paths === undefined || props.paths === null) {
      fieldError(this, 'paths', noPath);
    }
    props = inField(this, 'props', () => requireStruct<EgressGatewayNetworkPolicyProps>(props, 'EgressGatewayNetworkPolicyProps'));
    const paths = inField(this, 'paths', () => requireArray<IEgressPath>(props.paths, { element: 'an egress path (IEgressPath)' }));
    if (paths.length === 0) {
      fieldError(this, 'paths', noPath);
    }
    this.mesh = props.mesh === undefined ? MeshSettings.defaults() : inField(this, 'mesh', () => requireInstance(props.mesh, MeshSettings, 'new MeshSettings({ ... })'));
    this.name = inField(this, 'name', () => validateDnsLabel(props.name ?? 'egress-gateway-lockdown', 'NetworkPolicy name'));
    this.restrictIngress = props.restrictIngress === undefined ? true : inField(this, 'restrictIngress', () => requireBoolean(props.restrictIngress));

    const configs = paths.map((path, i) => inField(this, `paths[${i}]`, () => egressPathTarget(path)));
    const first = configs[0];
    configs.forEach((config, i) => {
      if (peerKey(config.namespace, config.podLabels) !== peerKey(first.namespace, first.podLabels)) {
        fieldError(
          this,
          `paths[${i}]`,
          `its pods ${config.namespace}/${bracedLabelText(config.podLabels)} are not the pods of paths[0] (${first.namespace}/${bracedLabelText(first.podLabels)}); ` +
            'one EgressGatewayNetworkPolicy locks down one gateway: define one per gateway',
        );
      }
    });
    this.namespace = first.namespace;
    this.selector = WorkloadSelector.fromLabels(first.podLabels);
    this.podPorts = sortedUnique(configs.flatMap((c) => c.podPorts));
    const extra = inField(this, 'externalPorts', () => listProp(props.externalPorts, 'a port number such as 443')).map((p, i) =>
      inField(this, `externalPorts[${i}]`, () => validatePortNumber(p, 'external port')),
    );
    this.externalPorts = sortedUnique([...configs.flatMap((c) => c.externalPorts), ...extra]);
    if (this.externalPorts.length === 0) {
      fieldError(
        this,
        'externalPorts',
        'the gateway could reach no external port: its paths name none (an EgressGateway does not know the ports its routes use). ' +
          'Pass the construct that routes through the gateway (e.g. a WildcardEgressGateway) in paths, or list externalPorts',
      );
    }

    const ipv6 = props.ipv6 === undefined ? false : inField(this, 'ipv6', () => requireBoolean(props.ipv6));
    const excluded = this.excludedRanges(inField(this, 'excludeCidrs', () => listProp(props.excludeCidrs, 'a CIDR such as "203.0.113.0/24"')), ipv6);
    this.excludedCidrs = excluded.map(String);
    const destinations = inField(this, 'internalDestinations', () => listProp(props.internalDestinations, 'an internal destination { cidr, reason }'));
    const internal = resolveInternalDestinations(this, destinations, excluded, ipv6);
    const dns = resolveDns(this, props.dns);

    const annotations: { [key: string]: string } = dnsAnnotations(dns);
    if (internal.length > 0) {
      annotations[INTERNAL_DESTINATIONS_ANNOTATION] = internal.map((d) => `${d.cidr}: ${d.reason}`).join('\n');
    }
    this.networkPolicy = new plus.NetworkPolicy(this, 'Resource', {
      metadata: policyMetadata(this.name, this.namespace, annotations),
      selector: plus.Pods.select(this.peers.scope, 'Pods', { labels: this.selector.labels }),
      egress: { default: plus.NetworkPolicyTrafficDefault.DENY },
      ingress: this.restrictIngress ? { default: plus.NetworkPolicyTrafficDefault.DENY } : undefined,
    });

    addDnsRules(this.peers, this.networkPolicy, dns);
    addIstiodRule(this.peers, this.networkPolicy, this.mesh);
    const ports = this.externalPorts.map((p) => plus.NetworkPolicyPort.tcp(p));
    // parseIpBlock re-checks what Kubernetes requires of the rendered block: every except a strict subset, no duplicates.
    const v4 = parseIpBlock('0.0.0.0/0', excluded.filter((c) => c.family === 4).map(String)).except.map(String);
    this.networkPolicy.addEgressRule(plus.NetworkPolicyIpBlock.ipv4(this.peers.scope, 'Internet', '0.0.0.0/0', v4), ports);
    if (ipv6) {
      const v6 = parseIpBlock('::/0', excluded.filter((c) => c.family === 6).map(String)).except.map(String);
      this.networkPolicy.addEgressRule(plus.NetworkPolicyIpBlock.ipv6(this.peers.scope, 'InternetIpv6', '::/0', v6), ports);
    }
    internal.forEach((d, i) => {
      const block =
        d.cidr.family === 4
          ? plus.NetworkPolicyIpBlock.ipv4(this.peers.scope, `InternalDestination${i}`, d.cidr.toString())
          : plus.NetworkPolicyIpBlock.ipv6(this.peers.scope, `InternalDestination${i}`, d.cidr.toString());
      this.networkPolicy.addEgressRule(block, ports);
    });

    this.node.addValidation({
      validate: () => [
        ...(this.restrictIngress && this.clientPolicies.length === 0 && this.clientNamespaceCount === 0
          ? [
            'restrictIngress: no client may connect to the gateway, so it would forward nothing; add one with allowClient (an EgressNetworkPolicy) or ' +
                'allowClientNamespace (a namespace), or set restrictIngress to false',
          ]
          : []),
        ...this.clientPolicies.flatMap((client) => this.clientProblems(client)),
      ],
    });
  }

  /** Labels of the gateway pods. */
  public get podLabels(): { [key: string]: string } {
    return this.selector.labels;
  }

  /**
   * Lets the pods locked down by an `EgressNetworkPolicy` (its namespace, and its pod labels if it has any) connect to
   * the gateway pods on the ports that policy allows them to reach on these pods (`allowEgressPath`,
   * `allowWaypoint`) and the gateway listens on: a client that uses only one of the gateway's paths gets only that
   * path's ports, also for paths it allows later. The client policy must allow at least one of them, checked at
   * synthesis. Adding a client again does nothing.
   */
  public allowClient(client: EgressNetworkPolicy): void {
    const field = `allowClient #${this.clientCount++}`;
    const policy = inField(this, field, () => requireInstance(client, EgressNetworkPolicy, 'new EgressNetworkPolicy(...)'));
    this.requireRestrictIngress(field);
    if (this.clientPolicies.includes(policy)) {
      return;
    }
    this.clientPolicies.push(policy);
    const id = `Client${this.clientCount - 1}`;
    const gatewayKey = peerKey(this.namespace, this.selector.labels);
    policy._watchEgress((namespace, podLabels, ports) => {
      if (peerKey(namespace, podLabels) !== gatewayKey) {
        return;
      }
      const served = ports.filter((p) => this.podPorts.includes(p));
      this.addIngress(id, policy.namespace, policy.podLabels, served);
    });
  }

  /**
   * Lets every pod of a namespace (selected by its immutable name) connect to the gateway pods on all the gateway's
   * pod ports. Prefer `allowClient`, which opens only the ports of the paths the client uses. Adding a namespace
   * again does nothing.
   *
   * @param namespace the clients' namespace
   */
  public allowClientNamespace(namespace: string): void {
    const field = `allowClientNamespace #${this.clientCount++}`;
    const ns = inField(this, field, () => validateDnsLabel(namespace, 'namespace'));
    this.requireRestrictIngress(field);
    this.clientNamespaceCount++;
    this.addIngress(`Client${this.clientCount - 1}`, ns, undefined, this.podPorts);
  }

  /**
   * Lets a metrics scraper (e.g. Prometheus) read the gateway proxy's metrics: TCP 15020 (Istio's merged metrics,
   * what the `prometheus.io/port` annotation names) and 15090 (Envoy's own).
   *
   * @param namespace the scraper's namespace
   * @param podLabels labels of the scraper pods; every pod of the namespace when omitted
   */
  public allowMetricsScraping(namespace: string, podLabels?: { [key: string]: string }): void {
    const field = `allowMetricsScraping #${this.clientCount++}`;
    const ns = inField(this, field, () => validateDnsLabel(namespace, 'namespace'));
    const labels =
      podLabels === undefined
        ? undefined
        : inField(this, `${field}.podLabels`, () =>
          selectorLabels(podLabels, 'an empty label set would select every pod of the namespace; omit podLabels for that, or give the scraper\'s labels'),
        );
    this.requireRestrictIngress(field);
    this.addIngress(`Metrics${this.clientCount - 1}`, ns, labels, METRICS_PORTS);
  }

  private requireRestrictIngress(field: string): void {
    if (!this.restrictIngress) {
      fieldError(
        this,
        field,
        'restrictIngress is false, so ingress to the gateway is not restricted by this policy and an allow rule would restrict it; set restrictIngress to true (the default) to list the clients',
      );
    }
  }

  /** Adds an ingress rule from pods of a namespace for the ports not opened to that peer yet. */
  private addIngress(id: string, namespace: string, podLabels: { [key: string]: string } | undefined, ports: number[]): void {
    const key = peerKey(namespace, podLabels);
    let opened = this.ingressPorts.get(key);
    if (opened === undefined) {
      opened = new Set();
      this.ingressPorts.set(key, opened);
    }
    const fresh = ports.filter((p) => !opened!.has(p));
    if (fresh.length === 0) {
      return;
    }
    fresh.forEach((p) => opened!.add(p));
    this.networkPolicy.addIngressRule(
      this.peers.get(id, namespace, podLabels),
      fresh.map((p) => plus.NetworkPolicyPort.tcp(p)),
    );
  }

  /** Why a client policy's pods could not use this gateway: it allows no path to these pods, or none this policy serves. */
  private clientProblems(client: EgressNetworkPolicy): string[] {
    const allowed = client._allowedPortsTo(this.namespace, this.selector.labels);
    if (allowed.length === 0) {
      return [
        `allowClient: "${client.node.path}" (${client.namespace}/${client.name}) does not allow its pods to reach this gateway, so they cannot connect; ` +
          'give it the gateway, or a construct routing through it, with its allowEgressPath method',
      ];
    }
    if (!allowed.some((p) => this.podPorts.includes(p))) {
      return [
        `allowClient: "${client.node.path}" (${client.namespace}/${client.name}) lets its pods reach this gateway on ${allowed.join(', ')}, ` +
          `but the paths of this policy serve ${this.podPorts.join(', ')}, so no port is opened to them; add the path the client uses to paths`,
      ];
    }
    return [];
  }

  /** The built-in exclusions plus `excludeCidrs`, validated, sorted (IPv4 first). */
  private excludedRanges(extra: string[], ipv6: boolean): Cidr[] {
    const ranges = [...EXCLUDED_IPV4_RANGES, ...(ipv6 ? EXCLUDED_IPV6_RANGES : [])];
    extra.forEach((text, i) => {
      const field = `excludeCidrs[${i}]`;
      const range = inField(this, field, () => Cidr.parse(text));
      if (range.family === 6 && !ipv6) {
        fieldError(this, field, `"${range}" is IPv6, but the gateway gets no IPv6 egress at all (ipv6 is false); remove it, or set ipv6 to true`);
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
}
