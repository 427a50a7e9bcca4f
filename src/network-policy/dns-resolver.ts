import * as plus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { PodPeers, selectorLabels } from './peers';
import { nonPublicRanges, overlapsNat64 } from './reserved-ranges';
import { requireArray, requireInstance } from '../core/boundary';
import { Cidr } from '../core/cidr';
import { validateDnsLabel } from '../core/dns';
import { fieldError, inField, problem } from '../core/errors';
import { validatePortNumber } from '../core/port';

/** DNS, over UDP and TCP (RFC 1035 4.2: answers that do not fit a UDP datagram are retried over TCP; RFC 7766). */
const DNS_PORT = 53;
/** Annotation that records why the pods of a policy get no DNS. */
const NO_DNS_ANNOTATION = 'cdk8s-istio-egress/no-dns';
/** Annotation that records why the pods may send DNS to wide public ranges. */
const WIDE_DNS_RANGES_ANNOTATION = 'cdk8s-istio-egress/wide-dns-ranges';
/** The shortest prefix of a public resolver range without a reason: IPv4 /24 (256 addresses), IPv6 /64 (one subnet). */
const MIN_PUBLIC_PREFIX = { 4: 24, 6: 64 } as const;
/** The shortest prefix of a range inside a NAT64 prefix: /120, no more IPv4 addresses than a /24. */
const MIN_NAT64_PREFIX = 120;
/** At most this many public addresses in all (without a reason): four IPv4 /24s; four IPv6 /64s. */
const MAX_PUBLIC_ADDRESSES = { 4: 4n * 256n, 6: 4n * 2n ** 64n } as const;

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
 * Options for resolvers that are IP addresses.
 */
export interface IpAddressDnsResolverOptions extends DnsResolverOptions {
  /**
   * Why the pods must send DNS to wide public ranges. Without it, a public range (one not in the private, CGNAT,
   * loopback, link-local, ULA or other non-internet ranges) is refused when it is wider than an IPv4 `/24` or an IPv6
   * `/64` (inside the NAT64 prefixes `64:ff9b::/96` and `64:ff9b:1::/48`: wider than a `/120`), and the public
   * ranges of all resolvers of one policy together may hold at most four of those: the DNS port is open on UDP and
   * TCP, and TCP 53 to a wide range is a tunnel around the egress gateway. With it, the ranges of this resolver are
   * accepted (except `/0`) and the reason is recorded on the NetworkPolicy (annotation
   * `cdk8s-istio-egress/wide-dns-ranges`).
   *
   * @default - none: wide public ranges are refused
   */
  readonly wideRangesReason?: string;
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
   * Public ranges wider than an IPv4 `/24` or an IPv6 `/64`, and public ranges that add up to more than four of
   * those, are refused unless `wideRangesReason` says why (see `IpAddressDnsResolverOptions`).
   *
   * @param cidrs the resolvers' addresses as CIDRs (`/32` for one IPv4 address, `/128` for one IPv6 address)
   */
  public static ipAddresses(cidrs: string[], options: IpAddressDnsResolverOptions = {}): DnsResolver {
    return new DnsResolver('addresses', options.port, undefined, undefined, cidrs, undefined, options.wideRangesReason);
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

  /** Why the pods may send DNS to wide public ranges (`ipAddresses()` with `wideRangesReason`); undefined otherwise. */
  public readonly wideRangesReason?: string;

  private constructor(
    private readonly kind: 'pods' | 'addresses' | 'none',
    port: number | undefined,
    namespace?: string,
    podLabels?: { [key: string]: string },
    cidrs?: string[],
    noDnsReason?: string,
    wideRangesReason?: string,
  ) {
    this.port = port ?? DNS_PORT;
    this.namespace = namespace;
    this.podLabels = podLabels === undefined || podLabels === null ? podLabels : { ...podLabels };
    this.cidrs = Array.isArray(cidrs) ? [...cidrs] : cidrs;
    this.noDnsReason = noDnsReason;
    this.wideRangesReason = wideRangesReason;
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
 * A DNS resolver, validated.
 */
export interface ResolvedDns {
  readonly namespace?: string;
  readonly podLabels?: { [key: string]: string };
  readonly cidrs?: Cidr[];
  readonly port: number;
  readonly noDnsReason?: string;
  readonly wideRangesReason?: string;
}

/**
 * The validated resolvers of a policy (`dns`, default the cluster DNS pods).
 */
export function resolveDns(scope: IConstruct, resolvers: DnsResolver[] | undefined): ResolvedDns[] {
  const list = inField(scope, 'dns', () =>
    requireArray(resolvers ?? [DnsResolver.kubeDns()], {
      element: 'a DnsResolver',
      each: (r) => requireInstance(r, DnsResolver, 'DnsResolver.kubeDns() or DnsResolver.ipAddresses(["169.254.20.10/32"])'),
    }),
  );
  if (list.length === 0) {
    fieldError(
      scope,
      'dns',
      'an empty list leaves the pods without DNS: every name lookup (the application\'s and the Istio proxy\'s) would fail. ' +
        'Omit dns for the cluster DNS pods, list your resolvers (e.g. DnsResolver.ipAddresses with 169.254.20.10/32 for NodeLocal DNSCache), ' +
        'or acknowledge it with DnsResolver.none and the reason why the pods need no DNS',
    );
  }
  const resolved = list.map((resolver, i): ResolvedDns => {
    const field = `dns[${i}]`;
    const r = resolver;
    if (r.isNone) {
      if (!isOneLine(r.noDnsReason)) {
        fieldError(scope, field, 'DnsResolver.none needs a reason on one line (why the pods need no DNS); it is recorded on the NetworkPolicy');
      }
      return { port: r.port, noDnsReason: r.noDnsReason!.trim() };
    }
    const port = inField(scope, `${field}.port`, () => validatePortNumber(r.port, 'DNS port'));
    if (r.isIpAddresses) {
      return resolveAddresses(scope, field, r, port);
    }
    const namespace = inField(scope, `${field}.namespace`, () => validateDnsLabel(r.namespace!, 'namespace'));
    const podLabels = inField(scope, `${field}.podLabels`, () =>
      selectorLabels(
        r.podLabels,
        `an empty label set would open the DNS port to every pod of "${namespace}"; give the resolver pods' labels (the cluster DNS: { "k8s-app": "kube-dns" })`,
      ),
    );
    return { port, namespace, podLabels };
  });
  if (resolved.length > 1 && resolved.some((r) => r.noDnsReason !== undefined)) {
    fieldError(scope, 'dns', 'DnsResolver.none means no DNS at all and cannot be combined with resolvers; use one or the other');
  }
  checkPublicTotal(scope, resolved);
  return resolved;
}

function resolveAddresses(scope: IConstruct, field: string, r: DnsResolver, port: number): ResolvedDns {
  if (!Array.isArray(r.cidrs) || r.cidrs.length === 0) {
    fieldError(scope, `${field}.cidrs`, 'list at least one resolver address, e.g. ["169.254.20.10/32"]');
  }
  const reason = r.wideRangesReason;
  if (reason !== undefined && reason !== null && !isOneLine(reason)) {
    fieldError(scope, `${field}.wideRangesReason`, 'write the reason on one line (why the pods must send DNS to wide public ranges); it is recorded on the NetworkPolicy');
  }
  const cidrs = r.cidrs!.map((text, j) =>
    inField(scope, `${field}.cidrs[${j}]`, () => {
      const cidr = Cidr.parse(text);
      if (cidr.prefix === 0) {
        throw problem(
          `"${cidr}" is every address: the pods could send DNS queries (and anything else on port ${port}) to any server on the internet, a classic exfiltration path. List your resolvers' addresses`,
        );
      }
      const minimum = reason === undefined || reason === null ? minimumPrefix(cidr) : undefined;
      if (minimum !== undefined && cidr.prefix < minimum) {
        throw problem(
          `"${cidr}" is a wide public range (${cidr.size} addresses): the pods could send anything on port ${port} (UDP and TCP, a tunnel around the egress gateway) to every host in it. ` +
            `List your resolvers' addresses (at most a /${minimum}), or say why in the wideRangesReason option of DnsResolver.ipAddresses`,
        );
      }
      return cidr;
    }),
  );
  return { port, cidrs: uniqueCidrs(cidrs), wideRangesReason: reason === undefined || reason === null ? undefined : reason.trim() };
}

/**
 * The shortest prefix `cidr` may have without a reason: none for a range inside the non-public ranges; /120 for one
 * that overlaps a NAT64 prefix (it stands for IPv4 hosts anywhere); /24 or /64 for other public ranges.
 */
function minimumPrefix(cidr: Cidr): number | undefined {
  if (cidr.family === 6 && overlapsNat64(cidr)) {
    return MIN_NAT64_PREFIX;
  }
  if (nonPublicRanges().some((r) => r.contains(cidr))) {
    return undefined;
  }
  return MIN_PUBLIC_PREFIX[cidr.family];
}

/**
 * Many narrow public ranges add up to a wide one: the public addresses of all resolvers without a reason, counted
 * once (a range inside another listed one adds nothing), may not exceed four /24s (IPv4; a NAT64 range counts as the
 * IPv4 addresses it stands for) or four /64s (IPv6).
 */
function checkPublicTotal(scope: IConstruct, resolved: ResolvedDns[]): void {
  const nonPublic = nonPublicRanges();
  const counted: { family: 4 | 6; cidr: Cidr }[] = [];
  for (const d of resolved) {
    if (d.cidrs === undefined || d.wideRangesReason !== undefined) {
      continue;
    }
    for (const cidr of d.cidrs) {
      if (cidr.family === 6 && overlapsNat64(cidr)) {
        counted.push({ family: 4, cidr });
      } else if (!nonPublic.some((r) => r.contains(cidr))) {
        counted.push({ family: cidr.family, cidr });
      }
    }
  }
  // Each range once, and only those not inside another listed one (CIDRs either nest or are disjoint).
  const distinct = counted.filter((c, i) => counted.findIndex((o) => o.cidr.toString() === c.cidr.toString()) === i);
  const outermost = distinct.filter((c) => !distinct.some((o) => o.cidr.strictlyContains(c.cidr)));
  for (const family of [4, 6] as const) {
    const ranges = outermost.filter((c) => c.family === family);
    const total = ranges.reduce((sum, c) => sum + publicSize(c.cidr, nonPublic), 0n);
    if (total > MAX_PUBLIC_ADDRESSES[family]) {
      fieldError(
        scope,
        'dns',
        `the resolver ranges ${ranges.map((c) => c.cidr).join(', ')} add up to ${total} public ${family === 4 ? 'IPv4' : 'IPv6'} addresses, ` +
          `more than four /${family === 4 ? 24 : 64}s: together they open port 53 (UDP and TCP, a tunnel around the egress gateway) to a large part of the internet. ` +
          'List only your resolvers\' addresses, or say why in the wideRangesReason option of DnsResolver.ipAddresses',
      );
    }
  }
}

/** The addresses of `cidr` outside the non-public ranges (which are disjoint: each inside `cidr` is subtracted once). */
function publicSize(cidr: Cidr, nonPublic: readonly Cidr[]): bigint {
  if (cidr.family === 6 && overlapsNat64(cidr)) {
    return cidr.size;
  }
  return nonPublic.filter((r) => cidr.strictlyContains(r)).reduce((left, r) => left - r.size, cidr.size);
}

/**
 * Annotations that record why the pods get no DNS, or may send DNS to wide public ranges.
 */
export function dnsAnnotations(dns: ResolvedDns[]): { [key: string]: string } {
  const annotations: { [key: string]: string } = {};
  const noDns = dns.find((d) => d.noDnsReason !== undefined)?.noDnsReason;
  if (noDns !== undefined) {
    annotations[NO_DNS_ANNOTATION] = noDns;
  }
  const wide = dns.filter((d) => d.wideRangesReason !== undefined).map((d) => `${d.cidrs!.join(', ')}: ${d.wideRangesReason}`);
  if (wide.length > 0) {
    annotations[WIDE_DNS_RANGES_ANNOTATION] = wide.join('\n');
  }
  return annotations;
}

/**
 * Adds one egress rule per resolver (per address for `ipAddresses`) on UDP and TCP.
 */
export function addDnsRules(peers: PodPeers, policy: plus.NetworkPolicy, dns: ResolvedDns[]): void {
  dns.forEach((d, i) => {
    if (d.noDnsReason !== undefined) {
      return;
    }
    const ports = [plus.NetworkPolicyPort.udp(d.port), plus.NetworkPolicyPort.tcp(d.port)];
    if (d.cidrs !== undefined) {
      d.cidrs.forEach((cidr, j) => {
        const id = `Dns${i}Address${j}`;
        const block =
          cidr.family === 4
            ? plus.NetworkPolicyIpBlock.ipv4(peers.scope, id, cidr.toString())
            : plus.NetworkPolicyIpBlock.ipv6(peers.scope, id, cidr.toString());
        policy.addEgressRule(block, ports);
      });
      return;
    }
    policy.addEgressRule(peers.get(`Dns${i}`, d.namespace!, d.podLabels), ports);
  });
}

function isOneLine(text: string | undefined): boolean {
  return typeof text === 'string' && text.trim().length > 0 && !/[\r\n]/.test(text);
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
