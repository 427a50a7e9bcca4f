/* eslint-disable no-bitwise -- the CIDR property tests build addresses and masks with bit arithmetic */
import { Chart, Testing } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import * as fc from 'fast-check';
import { NetworkPolicyExample } from '../examples/network-policy/chart';
import {
  AmbientEgressWaypoint,
  DataplaneMode,
  DnsResolver,
  EgressGateway,
  EgressGatewayNetworkPolicy,
  EgressNetworkPolicy,
  EgressPathConfig,
  EgressPort,
  IEgressPath,
  IEgressWaypoint,
  MeshSettings,
  TlsOriginationEgress,
  WildcardEgressGateway,
  WorkloadIdentity,
} from '../src';
import { synthValid } from './schema';
import { Cidr, parseIpBlock } from '../src/core/cidr';

const policies = (objects: any[]) => objects.filter((o) => o.kind === 'NetworkPolicy');
const named = (objects: any[], name: string) => {
  const found = policies(objects).filter((o) => o.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0];
};
/** Every peer of every rule (egress `to`, ingress `from`) of the given policies. */
const peers = (nps: any[]) =>
  nps.flatMap((np) => [...(np.spec.egress ?? []).flatMap((r: any) => r.to ?? []), ...(np.spec.ingress ?? []).flatMap((r: any) => r.from ?? [])]);
const dnsRule = (ns = 'kube-system', labels: Record<string, string> = { 'k8s-app': 'kube-dns' }, port = 53) => ({
  ports: [
    { port, protocol: 'UDP' },
    { port, protocol: 'TCP' },
  ],
  to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: labels } }],
});
const istiodRule = (ns = 'istio-system') => ({
  ports: [{ port: 15012, protocol: 'TCP' }],
  to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: { matchLabels: { app: 'istiod' } } }],
});
const GATEWAY_LABELS = { 'cdk8s-istio-egress/gateway': 'egress-gateway.istio-egress' };

/** A hand-written egress path, for paths that are not constructs of this library. */
class FakePath implements IEgressPath {
  public constructor(private readonly config: any) {}
  public toEgressPathConfig(): EgressPathConfig {
    return this.config;
  }
}

/**
 * A waypoint as an egress path: the pods and ports any IEgressPath of a waypoint returns (HBONE 15008 in, 80 and 443
 * out). Built from the waypoint's attributes, so it works whether or not the waypoint itself implements IEgressPath.
 */
function waypointPath(w: IEgressWaypoint, podPorts: number[] = [w.hbonePort]): IEgressPath {
  return { toEgressPathConfig: () => ({ namespace: w.namespace, podLabels: w.selectorLabels, podPorts, externalPorts: [80, 443] }) };
}

describe('EgressNetworkPolicy | the egress-gateway task scenario (examples/network-policy)', () => {
  const example = new NetworkPolicyExample(Testing.app(), 'network-policy');
  const objects = synthValid(example);

  test('snapshot of the NetworkPolicies', () => {
    expect(policies(objects)).toMatchSnapshot();
  });

  test('the sleep pods in test-egress may reach only DNS, istiod and the egress gateway', () => {
    const np = named(objects, 'egress-lockdown');
    expect(np.metadata.namespace).toBe('test-egress');
    expect(np.spec.podSelector).toEqual({});
    expect(np.spec.policyTypes).toEqual(['Egress']);
    expect(np.spec.egress).toEqual([
      dnsRule(),
      istiodRule(),
      {
        ports: [{ port: 8443, protocol: 'TCP' }],
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-egress-cnn' } },
            podSelector: { matchLabels: { 'cdk8s-istio-egress/gateway': 'egress-gateway.istio-egress-cnn' } },
          },
        ],
      },
    ]);
    // no ipBlock: nothing outside the cluster is reachable directly
    expect(JSON.stringify(np.spec.egress)).not.toContain('ipBlock');
  });

  test('DNS is allowed over UDP and TCP 53, to the cluster DNS pods only', () => {
    for (const np of policies(objects)) {
      const dns = np.spec.egress.filter((r: any) => r.ports.some((p: any) => p.port === 53));
      expect(dns).toEqual([dnsRule()]);
      expect(dns[0].ports.map((p: any) => p.protocol).sort()).toEqual(['TCP', 'UDP']);
    }
  });

  test('every namespace peer uses the immutable kubernetes.io/metadata.name label, never a hand-made one', () => {
    const all = peers(policies(objects));
    const namespacePeers = all.filter((p) => p.namespaceSelector !== undefined);
    expect(namespacePeers.length).toBeGreaterThanOrEqual(5);
    for (const peer of namespacePeers) {
      expect(Object.keys(peer.namespaceSelector)).toEqual(['matchLabels']);
      expect(Object.keys(peer.namespaceSelector.matchLabels)).toEqual(['kubernetes.io/metadata.name']);
      // namespace AND pods in one peer entry
      expect(peer.podSelector).toBeDefined();
    }
    expect(JSON.stringify(objects)).not.toMatch(/"kube-system":"true"|"istio":"system"/);
  });

  test('the gateway pod ports in the app policy are the wildcard construct\'s pod ports; the gateway reaches out on its ports', () => {
    const config = example.wildcard.toEgressPathConfig();
    const app = named(objects, 'egress-lockdown');
    const toGateway = app.spec.egress.filter((r: any) => r.to[0].podSelector?.matchLabels?.['cdk8s-istio-egress/gateway'] !== undefined);
    expect(toGateway.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual(config.podPorts);
    expect(toGateway[0].to[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe(config.namespace);
    expect(toGateway[0].to[0].podSelector.matchLabels).toEqual(config.podLabels);

    const gw = named(objects, 'egress-gateway-lockdown');
    const internet = gw.spec.egress.filter((r: any) => r.to[0].ipBlock !== undefined);
    expect(internet.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual(example.wildcard.ports);
    expect(example.gatewayLockdown.externalPorts).toEqual(example.wildcard.ports);
    expect(example.gatewayLockdown.podPorts).toEqual(config.podPorts);
    expect(gw.spec.ingress.flatMap((r: any) => r.ports.map((p: any) => p.port))).toEqual(config.podPorts);
  });

  test('the gateway may not reach cloud metadata (169.254.169.254), private, CGNAT or loopback addresses', () => {
    const gw = named(objects, 'egress-gateway-lockdown');
    expect(gw.spec.podSelector).toEqual({ matchLabels: example.wildcard.gateway.selectorLabels });
    expect(gw.spec.policyTypes).toEqual(['Egress', 'Ingress']);
    const blocks = gw.spec.egress.filter((r: any) => r.to[0].ipBlock !== undefined).map((r: any) => r.to[0].ipBlock);
    expect(blocks).toHaveLength(1);
    expect(blocks[0].cidr).toBe('0.0.0.0/0');
    const excepts = blocks[0].except.map((c: string) => Cidr.parse(c));
    for (const address of ['169.254.169.254/32', '10.1.2.3/32', '172.20.0.1/32', '192.168.1.1/32', '100.100.100.200/32', '127.0.0.1/32', '168.63.129.16/32']) {
      expect(excepts.some((e: Cidr) => e.contains(Cidr.parse(address)))).toBe(true);
    }
    for (const address of ['1.1.1.1/32', '151.101.65.67/32']) {
      expect(excepts.some((e: Cidr) => e.contains(Cidr.parse(address)))).toBe(false);
    }
    expect(blocks[0].except).toEqual(example.gatewayLockdown.excludedCidrs);
  });

  test('only the pods of test-egress may connect to the gateway, on its listener port', () => {
    const gw = named(objects, 'egress-gateway-lockdown');
    expect(gw.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'test-egress' } }, podSelector: {} }],
        ports: [{ port: 8443, protocol: 'TCP' }],
      },
    ]);
  });

  test('the example keeps the rest of the scenario: sleep with its service account, injection on, gateway in its own namespace', () => {
    const ns = objects.find((o) => o.kind === 'Namespace' && o.metadata.name === 'test-egress');
    expect(ns.metadata.labels).toEqual({ 'istio-injection': 'enabled' });
    const sleep = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'sleep');
    expect(sleep.metadata.namespace).toBe('test-egress');
    expect(sleep.spec.template.spec.serviceAccountName).toBe('sleep');
    expect(objects.filter((o) => o.metadata.namespace === 'istio-system')).toEqual([]);
  });
});

describe('EgressNetworkPolicy | options', () => {
  test('snapshot: ambient pods with a waypoint, selected by label, NodeLocal DNSCache, another istiod namespace', () => {
    // GIVEN
    const chart = Testing.chart();
    const waypoint = AmbientEgressWaypoint.fromAttributes(chart, 'waypoint', { namespace: 'istio-egress', name: 'egress-waypoint' });
    // WHEN
    const np = new EgressNetworkPolicy(chart, 'lockdown', {
      namespace: 'shop',
      name: 'shop-egress',
      podLabels: { app: 'checkout' },
      dataplane: DataplaneMode.AMBIENT,
      dns: [DnsResolver.kubeDns(), DnsResolver.ipAddresses(['169.254.20.10/32', 'fd00::a/128'])],
      waypoints: [waypointPath(waypoint)],
      mesh: new MeshSettings({ istiodNamespace: 'istio-control' }),
    });
    np.allowWaypoint(waypointPath(waypoint)); // again: no change
    const objects = synthValid(chart);
    // THEN
    expect(policies(objects)).toMatchSnapshot();
    const spec = named(objects, 'shop-egress').spec;
    expect(spec.podSelector).toEqual({ matchLabels: { app: 'checkout' } });
    expect(np.podLabels).toEqual({ app: 'checkout' });
    // ambient: no istiod (ztunnel talks to it), HBONE 15008 to the waypoint pods
    expect(JSON.stringify(spec)).not.toContain('15012');
    expect(spec.egress.at(-1)).toEqual({
      ports: [{ port: 15008, protocol: 'TCP' }],
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-egress' } },
          podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'egress-waypoint' } },
        },
      ],
    });
    expect(spec.egress.slice(1, 3)).toEqual([
      { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '169.254.20.10/32' } }] },
      { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], to: [{ ipBlock: { cidr: 'fd00::a/128' } }] },
    ]);
  });

  test('sidecar pods get istiod from MeshSettings; a custom DNS port and resolver pods', () => {
    const chart = Testing.chart();
    new EgressNetworkPolicy(chart, 'lockdown', {
      namespace: 'shop',
      dns: [DnsResolver.pods('openshift-dns', { 'dns.operator.openshift.io/daemonset-dns': 'default' }, { port: 5353 })],
      mesh: new MeshSettings({ istiodNamespace: 'istio-control' }),
    });
    const spec = named(synthValid(chart), 'egress-lockdown').spec;
    expect(spec.egress).toEqual([dnsRule('openshift-dns', { 'dns.operator.openshift.io/daemonset-dns': 'default' }, 5353), istiodRule('istio-control')]);
  });

  test('paths: several constructs sharing a gateway, an existing Helm gateway; same pods and ports are allowed once', () => {
    // GIVEN
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443), EgressPort.tls(9443)] });
    const a = new WildcardEgressGateway(chart, 'a', { gateway, name: 'a', hosts: ['*.a.example'], ports: [443] });
    const b = new WildcardEgressGateway(chart, 'b', { gateway, name: 'b', hosts: ['*.b.example'], ports: [9443] });
    const helm = EgressGateway.fromAttributes(chart, 'helm', {
      namespace: 'istio-gateways',
      serviceName: 'istio-egressgateway',
      selectorLabels: { istio: 'egressgateway' },
      ports: [EgressPort.tls(443, { name: 'tls', targetPort: 8443 })],
    });
    // WHEN
    const np = new EgressNetworkPolicy(chart, 'lockdown', { namespace: 'shop', egressPaths: [a] });
    np.allowEgressPath(b);
    np.allowEgressPath(a); // again: nothing new
    np.allowEgressPath(gateway); // 8443 and 9443 are allowed already
    np.allowEgressPath(helm);
    const spec = named(synthValid(chart), 'egress-lockdown').spec;
    // THEN
    const rules = spec.egress.slice(2);
    expect(rules.map((r: any) => [r.to[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], r.ports.map((p: any) => p.port)])).toEqual([
      ['istio-egress', [8443]],
      ['istio-egress', [9443]],
      ['istio-gateways', [8443]],
    ]);
    expect(rules[2].to[0].podSelector).toEqual({ matchLabels: { istio: 'egressgateway' } });
    expect(rules.every((r: any) => r.ports.every((p: any) => p.protocol === 'TCP'))).toBe(true);
  });

  test('users add their own cdk8s-plus rules to networkPolicy (additive, in the same object)', () => {
    const chart = Testing.chart();
    const np = new EgressNetworkPolicy(chart, 'lockdown', { namespace: 'shop' });
    const db = plus.Pods.select(chart, 'db', { labels: { app: 'postgres' }, namespaces: plus.Namespaces.select(chart, 'dbns', { names: ['data'] }) });
    np.networkPolicy.addEgressRule(db, [plus.NetworkPolicyPort.tcp(5432)]);
    const spec = named(synthValid(chart), 'egress-lockdown').spec;
    expect(spec.egress).toHaveLength(3);
    expect(spec.egress[2]).toEqual({
      ports: [{ port: 5432, protocol: 'TCP' }],
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'data' } }, podSelector: { matchLabels: { app: 'postgres' } } }],
    });
  });

  test('a resolver address listed twice is allowed once', () => {
    const chart = Testing.chart();
    new EgressNetworkPolicy(chart, 'lockdown', { namespace: 'shop', dns: [DnsResolver.ipAddresses(['169.254.20.10/32', '169.254.20.10/32'])] });
    const spec = named(synthValid(chart), 'egress-lockdown').spec;
    expect(spec.egress.filter((r: any) => r.to[0].ipBlock !== undefined)).toEqual([
      { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '169.254.20.10/32' } }] },
    ]);
  });

  test('DnsResolver.none(reason): no DNS rule, the reason is recorded', () => {
    const chart = Testing.chart();
    new EgressNetworkPolicy(chart, 'lockdown', { namespace: 'batch', dns: [DnsResolver.none('connects to 10.0.0.5 only')] });
    const np = named(synthValid(chart), 'egress-lockdown');
    expect(np.metadata.annotations).toEqual({ 'cdk8s-istio-egress/no-dns': 'connects to 10.0.0.5 only' });
    expect(np.spec.egress).toEqual([istiodRule()]);
  });

  test('pods without any egress path may reach only DNS and istiod', () => {
    const chart = Testing.chart();
    new EgressNetworkPolicy(chart, 'lockdown', { namespace: 'shop' });
    expect(named(synthValid(chart), 'egress-lockdown').spec).toEqual({ egress: [dnsRule(), istiodRule()], podSelector: {}, policyTypes: ['Egress'] });
  });

  test('a policy shares one peer construct per namespace and labels among its rules, outside the app tree, and renders the same rules as alone', () => {
    /** Per team a sidecar and an ambient policy (same gateway, waypoint, DNS, istiod); the gateway's policy lists every sidecar team. */
    function define(chart: Chart, teams: string[]) {
      const gateway = new EgressGateway(chart, 'gateway', { ports: [EgressPort.tls(443), EgressPort.http(80)] });
      const wildcard = new WildcardEgressGateway(chart, 'wc', { gateway, hosts: ['*.example.com'], allowFrom: teams.map((t) => WorkloadIdentity.allInNamespace(t)) });
      const tls = new TlsOriginationEgress(chart, 'tls', { gateway, hosts: ['api.example.com'], allowFrom: teams.map((t) => WorkloadIdentity.allInNamespace(t)) });
      const waypoint = AmbientEgressWaypoint.fromAttributes(chart, 'waypoint', { namespace: 'istio-egress', name: 'egress-waypoint' });
      const gw = new EgressGatewayNetworkPolicy(chart, 'gw', { paths: [wildcard, tls] });
      for (const team of teams) {
        // the same gateway pods twice (other ports): two rules, one peer
        const np = new EgressNetworkPolicy(chart, team, { namespace: team, egressPaths: [wildcard, tls] });
        gw.allowClient(np);
        new EgressNetworkPolicy(chart, `${team}-ambient`, { namespace: `${team}-ambient`, dataplane: DataplaneMode.AMBIENT, waypoints: [waypointPath(waypoint)] });
      }
    }
    const isPeer = (c: IConstruct) => c instanceof plus.Namespaces || c instanceof plus.Pods || c instanceof plus.NetworkPolicyIpBlock;
    /** The namespace peers the policies made, in each policy's own peer scope (internal: `peers.scope`). */
    const peerCount = (chart: Chart) =>
      chart.node.findAll()
        .filter((c) => c instanceof EgressNetworkPolicy || c instanceof EgressGatewayNetworkPolicy)
        .reduce((n, p) => n + (p as any).peers.scope.node.findAll().filter((c: IConstruct) => c instanceof plus.Namespaces).length, 0);
    const both = new Chart(Testing.app(), 'test');
    define(both, ['shop', 'cart']);
    const objects = synthValid(both);
    // per team: its sidecar policy (kube-dns, istiod, the gateway pods once for both paths) and its ambient policy
    // (kube-dns, the waypoint pods); the gateway's policy (kube-dns, istiod, each team as a client). Peers are never
    // shared across policies, so each policy's peers are its own.
    expect(peerCount(both)).toBe(2 * 3 + 2 * 2 + 4);
    // cdk8s-plus renders a peer into the rule at once: the peers stay out of the app's tree, which every synth walks
    expect(both.node.root.node.findAll().filter(isPeer)).toEqual([]);
    for (const team of ['shop', 'cart']) {
      const alone = new Chart(Testing.app(), 'test');
      define(alone, [team]);
      const aloneObjects = synthValid(alone);
      for (const ns of [team, `${team}-ambient`]) {
        const inNamespace = (list: any[]) => policies(list).filter((o) => o.metadata.namespace === ns);
        expect(inNamespace(objects)).toHaveLength(1);
        expect(inNamespace(objects)).toEqual(inNamespace(aloneObjects));
      }
    }
    expect(named(objects, 'egress-gateway-lockdown').spec.ingress.map((r: any) => r.from)).toEqual(
      ['shop', 'cart'].map((ns) => [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, podSelector: {} }]),
    );
  });
});

describe('EgressGatewayNetworkPolicy | options', () => {
  test('snapshot: two constructs on one gateway, IPv6, internal destinations, extra exclusions, metrics, client namespaces', () => {
    // GIVEN
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443), EgressPort.tls(8883)] });
    const a = new WildcardEgressGateway(chart, 'a', { gateway, name: 'a', hosts: ['*.a.example'], ports: [443] });
    const b = new WildcardEgressGateway(chart, 'b', { gateway, name: 'b', hosts: ['mqtt.b.example'], ports: [8883] });
    const shop = new EgressNetworkPolicy(chart, 'shop', { namespace: 'shop', podLabels: { app: 'checkout' }, egressPaths: [a, b] });
    // WHEN
    const np = new EgressGatewayNetworkPolicy(chart, 'lockdown', {
      paths: [a, b, gateway],
      name: 'gateway-lockdown',
      externalPorts: [8443],
      ipv6: true,
      excludeCidrs: ['203.0.113.0/24', '2001:db8::/32'],
      internalDestinations: [
        { cidr: '10.20.0.0/16', reason: 'S3 interface endpoint in the VPC' },
        { cidr: '169.254.169.254/32', reason: ' workload identity token exchange ' },
      ],
    });
    np.allowClient(shop);
    np.allowClient(shop); // again: no change
    np.allowClientNamespace('billing');
    np.allowMetricsScraping('monitoring', { 'app.kubernetes.io/name': 'prometheus' });
    const objects = synthValid(chart);
    // THEN
    expect(policies(objects)).toMatchSnapshot();
    const gw = named(objects, 'gateway-lockdown');
    expect(np.podLabels).toEqual(GATEWAY_LABELS);
    expect(np.podPorts).toEqual([8443, 8883]);
    expect(np.externalPorts).toEqual([443, 8443, 8883]);
    expect(np.excludedCidrs).toEqual([
      '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '168.63.129.16/32', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16',
      '198.18.0.0/15', '203.0.113.0/24', '240.0.0.0/4',
      '::1/128', '64:ff9b::/96', '64:ff9b:1::/48', '2001:db8::/32', 'fc00::/7', 'fe80::/10',
    ]);
    const blocks = gw.spec.egress.filter((r: any) => r.to[0].ipBlock !== undefined);
    expect(blocks.map((r: any) => r.to[0].ipBlock.cidr)).toEqual(['0.0.0.0/0', '::/0', '10.20.0.0/16', '169.254.169.254/32']);
    expect(blocks.every((r: any) => JSON.stringify(r.ports) === JSON.stringify([443, 8443, 8883].map((port) => ({ port, protocol: 'TCP' }))))).toBe(true);
    expect(gw.metadata.annotations).toEqual({
      'cdk8s-istio-egress/internal-destinations': '10.20.0.0/16: S3 interface endpoint in the VPC\n169.254.169.254/32: workload identity token exchange',
    });
    expect(gw.spec.ingress.map((r: any) => [r.from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], r.from[0].podSelector, r.ports.map((p: any) => p.port)])).toEqual([
      ['shop', { matchLabels: { app: 'checkout' } }, [8443, 8883]],
      ['billing', {}, [8443, 8883]],
      ['monitoring', { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } }, [15020, 15090]],
    ]);
  });

  test('restrictIngress: false leaves ingress alone (policyTypes Egress only)', () => {
    const chart = Testing.chart();
    const wildcard = new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'] });
    new EgressGatewayNetworkPolicy(chart, 'lockdown', { paths: [wildcard], restrictIngress: false });
    const gw = named(synthValid(chart), 'egress-gateway-lockdown');
    expect(gw.spec.policyTypes).toEqual(['Egress']);
    expect(gw.spec.ingress).toBeUndefined();
  });
});

describe('EgressNetworkPolicy | bad input', () => {
  const wildcard = (chart: Construct) => new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'] });

  test.each([
    [{ namespace: 'shop', dns: [] }, 'test/np: dns: an empty list leaves the pods without DNS: every name lookup (the application\'s and the Istio proxy\'s) would fail. Omit dns for the cluster DNS pods, list your resolvers (e.g. DnsResolver.ipAddresses with 169.254.20.10/32 for NodeLocal DNSCache), or acknowledge it with DnsResolver.none and the reason why the pods need no DNS'],
    [{ namespace: 'shop', dns: [DnsResolver.none('')] }, 'test/np: dns[0]: DnsResolver.none needs a reason on one line'],
    [{ namespace: 'shop', dns: [DnsResolver.none('ips only'), DnsResolver.kubeDns()] }, 'test/np: dns: DnsResolver.none means no DNS at all and cannot be combined with resolvers'],
    [{ namespace: 'shop', dns: [null] }, 'test/np: dns[0]: a DnsResolver must not be null; remove the empty entry'],
    [{ namespace: 'shop', dns: [DnsResolver.ipAddresses(['10.0.0.0/33'])] }, 'test/np: dns[0].cidrs[0]: "10.0.0.0/33" is not a valid CIDR: the prefix length "33" must be a whole number 0..32 for an IPv4 address'],
    [{ namespace: 'shop', dns: [DnsResolver.ipAddresses(['169.254.20.10'])] }, 'test/np: dns[0].cidrs[0]: "169.254.20.10" has no prefix length; did you mean "169.254.20.10/32" (that one address)?'],
    [{ namespace: 'shop', dns: [DnsResolver.ipAddresses(['fd00::a'])] }, 'test/np: dns[0].cidrs[0]: "fd00::a" has no prefix length; did you mean "fd00::a/128" (that one address)?'],
    [{ namespace: 'shop', dns: [DnsResolver.ipAddresses(['169.254.20.10/24'])] }, 'test/np: dns[0].cidrs[0]: "169.254.20.10/24" has address bits set after the /24 prefix; did you mean "169.254.20.0/24" (the network), or "169.254.20.10/32" (that one address)?'],
    [{ namespace: 'shop', dns: [DnsResolver.ipAddresses(['0.0.0.0/0'])] }, 'test/np: dns[0].cidrs[0]: "0.0.0.0/0" is every address: the pods could send DNS queries (and anything else on port 53) to any server on the internet'],
    [{ namespace: 'shop', dns: [DnsResolver.ipAddresses([])] }, 'test/np: dns[0].cidrs: list at least one resolver address'],
    [{ namespace: 'shop', dns: [DnsResolver.kubeDns({ port: 70000 })] }, 'test/np: dns[0].port: DNS port 70000 must be an integer in the range 1..65535'],
    [{ namespace: 'shop', dns: [DnsResolver.pods('kube-system', {})] }, 'test/np: dns[0].podLabels: an empty label set would open the DNS port to every pod of "kube-system"; give the resolver pods\' labels'],
    [{ namespace: 'shop', dns: [DnsResolver.pods('Kube-System', { 'k8s-app': 'kube-dns' })] }, 'test/np: dns[0].namespace: invalid namespace "Kube-System"'],
    [{ namespace: 'shop', podLabels: {} }, 'test/np: podLabels: an empty label set would select every pod of the namespace; omit podLabels to lock down every pod, or give at least one label'],
    [{ namespace: 'shop', podLabels: { 'app': 'a', 'bad key!': 'x' } }, 'test/np: podLabels: invalid label key "bad key!"'],
    [{ namespace: 'Shop' }, 'test/np: namespace: invalid namespace "Shop"'],
    [{ namespace: 'shop', name: 'egress.lockdown' }, 'test/np: name: invalid NetworkPolicy name "egress.lockdown"'],
    [{ namespace: 'shop', name: 'x'.repeat(64) }, 'a NetworkPolicy name is 64 characters long; a DNS label has at most 63'],
    [{ namespace: 'kube-system' }, 'test/np: namespace: locking down every pod of "kube-system" would break the cluster: the cluster DNS and other system pods would be cut off'],
    [{ namespace: 'istio-system' }, 'test/np: namespace: locking down every pod of "istio-system" would break the cluster: istiod would be cut off from the Kubernetes API server'],
    [{ namespace: 'shop', dataplane: 'HYBRID' }, 'test/np: dataplane: dataplane "HYBRID" is not a DataplaneMode; use one of DataplaneMode.SIDECAR, DataplaneMode.AMBIENT'],
    [{ namespace: 'shop', egressPaths: [null] }, 'test/np: egressPaths[0]: an egress path (IEgressPath) must not be null; remove the empty entry'],
  ])('fails for %j', (props, message) => {
    const chart = Testing.chart();
    expect(() => new EgressNetworkPolicy(chart, 'np', props as any)).toThrow(message);
  });

  test('fails without props', () => {
    expect(() => new EgressNetworkPolicy(Testing.chart(), 'np', undefined as any)).toThrow('test/np: props: the namespace of the pods to lock down is required');
  });

  test.each([
    [{ namespace: 'istio-egress', podLabels: { istio: 'egress' }, podPorts: [70000], externalPorts: [] }, 'test/np: allowEgressPath #0: podPorts[0]: port number 70000 must be an integer in the range 1..65535'],
    [{ namespace: 'istio-egress', podLabels: { istio: 'egress' }, podPorts: [0], externalPorts: [] }, 'test/np: allowEgressPath #0: podPorts[0]: port number 0 must be an integer in the range 1..65535'],
    [{ namespace: 'istio-egress', podLabels: { istio: 'egress' }, podPorts: [], externalPorts: [] }, 'test/np: allowEgressPath #0: podPorts: the path has no pod ports: a rule without ports would allow every port of its pods'],
    [{ namespace: 'istio-egress', podLabels: {}, podPorts: [8443], externalPorts: [] }, 'test/np: allowEgressPath #0: the proxy pods in "istio-egress" have no pod labels: an empty selector would open the ports to every pod of the namespace'],
    [{ namespace: 'istio egress', podLabels: { istio: 'egress' }, podPorts: [8443], externalPorts: [] }, 'test/np: allowEgressPath #0: invalid namespace "istio egress"'],
    [{ namespace: 'istio-egress', podLabels: { istio: 'Egress Gateway' }, podPorts: [8443], externalPorts: [] }, 'test/np: allowEgressPath #0: podLabels: invalid value "Egress Gateway" for label "istio"'],
    [undefined, 'test/np: allowEgressPath #0: toEgressPathConfig() returned undefined; it must name'],
  ])('fails for a path whose config is %j', (config, message) => {
    const np = new EgressNetworkPolicy(Testing.chart(), 'np', { namespace: 'shop' });
    expect(() => np.allowEgressPath(new FakePath(config))).toThrow(message);
  });

  test('fails for an ambient lock-down through a sidecar egress gateway (no HBONE 15008)', () => {
    const chart = Testing.chart();
    const np = new EgressNetworkPolicy(chart, 'np', { namespace: 'shop', dataplane: DataplaneMode.AMBIENT });
    expect(() => np.allowEgressPath(wildcard(chart))).toThrow(
      'test/np: allowEgressPath #0: the path\'s pods istio-egress/{cdk8s-istio-egress/gateway=egress-gateway.istio-egress} listen on 8443, ' +
        'but ambient pods have no sidecar: ztunnel sends their egress to a proxy over HBONE, TCP 15008, so this lock-down would leave them without egress. ' +
        'Use an egress waypoint (allowWaypoint(AmbientEgressWaypoint)), or set dataplane: DataplaneMode.SIDECAR for sidecar pods',
    );
    // an ambient path on HBONE is fine
    np.allowEgressPath(new FakePath({ namespace: 'istio-egress', podLabels: { 'gateway.networking.k8s.io/gateway-name': 'w' }, podPorts: [15008], externalPorts: [] }));
  });

  test('fails for a waypoint that is not reached on HBONE 15008', () => {
    const chart = Testing.chart();
    const waypoint = AmbientEgressWaypoint.fromAttributes(chart, 'waypoint', { namespace: 'istio-egress', name: 'fake-waypoint' });
    const np = new EgressNetworkPolicy(chart, 'np', { namespace: 'shop', dataplane: DataplaneMode.AMBIENT });
    expect(() => np.allowWaypoint(waypointPath(waypoint, [15009]))).toThrow(
      'test/np: allowWaypoint #0: the waypoint pods istio-egress/{gateway.networking.k8s.io/gateway-name=fake-waypoint} listen on 15009, ' +
        'but ztunnel always connects to waypoints on HBONE, TCP 15008; a lock-down without TCP 15008 to the waypoint pods cuts ambient egress off. ' +
        'Make the waypoint\'s egress path (toEgressPathConfig) list pod port 15008',
    );
    expect(() => new EgressNetworkPolicy(chart, 'np2', { namespace: 'shop', waypoints: [waypointPath(waypoint), null as any] })).toThrow(
      'test/np2: waypoints[1]: a waypoint (IEgressPath) must not be null; remove the empty entry',
    );
  });

  test('fails at synth for two NetworkPolicies with the same namespace and name (the app-wide registry)', () => {
    const chart = Testing.chart();
    new EgressNetworkPolicy(chart, 'a', { namespace: 'shop' });
    new EgressNetworkPolicy(chart, 'b', { namespace: 'shop', podLabels: { app: 'x' } });
    new EgressNetworkPolicy(chart, 'c', { namespace: 'other' }); // another namespace: fine
    expect(() => Testing.synth(chart)).toThrow('NetworkPolicy "shop/egress-lockdown" is generated by both "test/a" and "test/b"; one would replace the other at apply time');
  });

  test('fails at a re-synth after a NetworkPolicy with the same namespace and name was added', () => {
    // a policy of this library, added after a synth
    const chart = Testing.chart();
    new EgressNetworkPolicy(chart, 'a', { namespace: 'shop' });
    expect(policies(Testing.synth(chart))).toHaveLength(1);
    new EgressNetworkPolicy(chart, 'b', { namespace: 'shop', podLabels: { app: 'x' } });
    expect(() => Testing.synth(chart)).toThrow('NetworkPolicy "shop/egress-lockdown" is generated by both "test/a" and "test/b"');
    // a plain NetworkPolicy, added after a synth
    const plain = Testing.chart();
    new EgressNetworkPolicy(plain, 'a', { namespace: 'shop' });
    expect(policies(Testing.synth(plain))).toHaveLength(1);
    new plus.k8s.KubeNetworkPolicy(plain, 'raw', { metadata: { name: 'egress-lockdown', namespace: 'shop' }, spec: { podSelector: {} } });
    expect(() => Testing.synth(plain)).toThrow('NetworkPolicy "shop/egress-lockdown" is generated by both "test/a" and "test/raw"');
  });

  test('fails naming the first NetworkPolicy with the same namespace and name, in tree order, beside every other', () => {
    const chart = Testing.chart();
    const group = new Construct(chart, 'group'); // before "a" in the tree, although its policy is created last
    new EgressNetworkPolicy(chart, 'a', { namespace: 'shop' });
    const path = new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'], gateway: new EgressGateway(chart, 'gateway', { namespace: 'shop' }) });
    new EgressGatewayNetworkPolicy(chart, 'gw', { name: 'egress-lockdown', paths: [path], restrictIngress: false });
    new EgressNetworkPolicy(group, 'b', { namespace: 'shop' });
    const duplicate = (other: string) => `NetworkPolicy "shop/egress-lockdown" is generated by both "test/group/b" and "${other}"; one would replace the other at apply time`;
    expect(() => Testing.synth(chart)).toThrow(duplicate('test/a'));
    expect(() => Testing.synth(chart)).toThrow(duplicate('test/gw'));
  });
});

describe('EgressGatewayNetworkPolicy | bad input', () => {
  /** A chart with a wildcard construct (gateway istio-egress, port 443 -> 8443) and a client policy that uses it. */
  function setup() {
    const chart = Testing.chart();
    const wildcard = new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'] });
    const client = new EgressNetworkPolicy(chart, 'client', { namespace: 'shop', egressPaths: [wildcard] });
    return { chart, wildcard, client };
  }

  test.each([
    [(w: WildcardEgressGateway) => ({ paths: [] }), 'test/gw: paths: at least one egress path is required'],
    [(w: WildcardEgressGateway) => ({ paths: [w, null] }), 'test/gw: paths[1]: an egress path (IEgressPath) must not be null; remove the empty entry'],
    [(w: WildcardEgressGateway) => ({ paths: [w, new FakePath({ namespace: 'istio-egress', podLabels: { istio: 'other' }, podPorts: [8443], externalPorts: [443] })] }),
      'test/gw: paths[1]: its pods istio-egress/{istio=other} are not the pods of paths[0] (istio-egress/{cdk8s-istio-egress/gateway=egress-gateway.istio-egress}); one EgressGatewayNetworkPolicy locks down one gateway: define one per gateway'],
    [(w: WildcardEgressGateway) => ({ paths: [w.gateway] }),
      'test/gw: externalPorts: the gateway could reach no external port: its paths name none (an EgressGateway does not know the ports its routes use). Pass the construct that routes through the gateway (e.g. a WildcardEgressGateway) in paths, or list externalPorts'],
    [(w: WildcardEgressGateway) => ({ paths: [w], externalPorts: [0] }), 'test/gw: externalPorts[0]: external port 0 must be an integer in the range 1..65535'],
    [(w: WildcardEgressGateway) => ({ paths: [new FakePath({ namespace: 'istio-egress', podLabels: { istio: 'x' }, podPorts: [8443], externalPorts: [65536] })] }),
      'test/gw: paths[0].externalPorts[0]: port number 65536 must be an integer in the range 1..65535'],
    [(w: WildcardEgressGateway) => ({ paths: [w], internalDestinations: [{ cidr: '8.8.8.8/32', reason: 'dns' }] }),
      'test/gw: internalDestinations[0].cidr: "8.8.8.8/32" is not inside an excluded range (0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 168.63.129.16/32, 169.254.0.0/16, 172.16.0.0/12, 192.0.0.0/24, 192.168.0.0/16, 198.18.0.0/15, 240.0.0.0/4): the gateway may reach it on its external ports already. List only internal ranges, one by one'],
    [(w: WildcardEgressGateway) => ({ paths: [w], internalDestinations: [{ cidr: '10.20.0.0/16', reason: ' ' }] }),
      'test/gw: internalDestinations[0].reason: opening "10.20.0.0/16" needs a reason (e.g. "S3 interface endpoint in the VPC"): it is recorded on the NetworkPolicy for review'],
    [(w: WildcardEgressGateway) => ({ paths: [w], internalDestinations: [{ cidr: '10.20.0.0/16', reason: 'a\nb' }] }), 'test/gw: internalDestinations[0].reason: write the reason on one line'],
    [(w: WildcardEgressGateway) => ({ paths: [w], internalDestinations: [{ cidr: '10.20.0.1/16', reason: 'vpc' }] }),
      'test/gw: internalDestinations[0].cidr: "10.20.0.1/16" has address bits set after the /16 prefix; did you mean "10.20.0.0/16" (the network), or "10.20.0.1/32" (that one address)?'],
    [(w: WildcardEgressGateway) => ({ paths: [w], internalDestinations: [{ cidr: 'fd00:ec2::254/128', reason: 'imds' }] }),
      'test/gw: internalDestinations[0].cidr: "fd00:ec2::254/128" is IPv6, but the gateway gets no IPv6 egress (ipv6 is false); set ipv6 to true first'],
    [(w: WildcardEgressGateway) => ({ paths: [w], internalDestinations: [{ cidr: '10.20.0.0/16', reason: 'a' }, { cidr: '10.20.0.0/16', reason: 'b' }] }),
      'test/gw: internalDestinations[1].cidr: "10.20.0.0/16" is already listed at internalDestinations[0]; list each range once'],
    [(w: WildcardEgressGateway) => ({ paths: [w], internalDestinations: [null] }), 'test/gw: internalDestinations[0]: an internal destination { cidr, reason } must not be null; remove the empty entry'],
    [(w: WildcardEgressGateway) => ({ paths: [w], excludeCidrs: ['10.1.0.0/16'] }), 'test/gw: excludeCidrs[0]: "10.1.0.0/16" is already excluded (inside "10.0.0.0/8"); remove it'],
    [(w: WildcardEgressGateway) => ({ paths: [w], excludeCidrs: ['8.0.0.0/5'] }), 'test/gw: excludeCidrs[0]: "8.0.0.0/5" contains the excluded "10.0.0.0/8"; list only the ranges not excluded yet (see excludedCidrs), or split it'],
    [(w: WildcardEgressGateway) => ({ paths: [w], excludeCidrs: ['0.0.0.0/0'] }), 'test/gw: excludeCidrs[0]: "0.0.0.0/0" excludes every address: the gateway could reach nothing'],
    [(w: WildcardEgressGateway) => ({ paths: [w], excludeCidrs: ['203.0.113.0/24', '203.0.113.0/24'] }), 'test/gw: excludeCidrs[1]: "203.0.113.0/24" is already excluded (inside "203.0.113.0/24"); remove it'],
    [(w: WildcardEgressGateway) => ({ paths: [w], excludeCidrs: ['2001:db8::/32'] }), 'test/gw: excludeCidrs[0]: "2001:db8::/32" is IPv6, but the gateway gets no IPv6 egress at all (ipv6 is false); remove it, or set ipv6 to true'],
    [(w: WildcardEgressGateway) => ({ paths: [w], excludeCidrs: ['203.0.113.0/33'] }), 'test/gw: excludeCidrs[0]: "203.0.113.0/33" is not a valid CIDR'],
    [(w: WildcardEgressGateway) => ({ paths: [w], excludeCidrs: ['203.0.113.7'] }), 'test/gw: excludeCidrs[0]: "203.0.113.7" has no prefix length; did you mean "203.0.113.7/32" (that one address)?'],
    [(w: WildcardEgressGateway) => ({ paths: [w], dns: [] }), 'test/gw: dns: an empty list leaves the pods without DNS'],
    [(w: WildcardEgressGateway) => ({ paths: [w], name: 'Gateway' }), 'test/gw: name: invalid NetworkPolicy name "Gateway": a NetworkPolicy name contains upper-case letters'],
  ])('fails for props %#', (props, message) => {
    const { chart, wildcard } = setup();
    expect(() => new EgressGatewayNetworkPolicy(chart, 'gw', props(wildcard) as any)).toThrow(message);
  });

  test('fails at synth when no client may connect (restrictIngress with no client)', () => {
    const { chart, wildcard } = setup();
    new EgressGatewayNetworkPolicy(chart, 'gw', { paths: [wildcard] });
    expect(() => Testing.synth(chart)).toThrow(
      '[test/gw] restrictIngress: no client may connect to the gateway, so it would forward nothing; add one with allowClient (an EgressNetworkPolicy) or allowClientNamespace (a namespace), or set restrictIngress to false',
    );
  });

  test('fails at synth for a client policy that does not allow its pods to reach the gateway', () => {
    const { chart, wildcard, client } = setup();
    const gw = new EgressGatewayNetworkPolicy(chart, 'gw', { paths: [wildcard] });
    gw.allowClient(client);
    gw.allowClient(new EgressNetworkPolicy(chart, 'forgot', { namespace: 'billing' }));
    expect(() => Testing.synth(chart)).toThrow(
      '[test/gw] allowClient: "test/forgot" (billing/egress-lockdown) does not allow its pods to reach this gateway, so they cannot connect; give it the gateway, or a construct routing through it, with its allowEgressPath method',
    );
  });

  test('fails for clients when restrictIngress is false, and for bad client namespaces and labels', () => {
    const { chart, wildcard, client } = setup();
    const open = new EgressGatewayNetworkPolicy(chart, 'open', { paths: [wildcard], restrictIngress: false });
    expect(() => open.allowClient(client)).toThrow('test/open: allowClient #0: restrictIngress is false, so ingress to the gateway is not restricted by this policy and an allow rule would restrict it');
    const gw = new EgressGatewayNetworkPolicy(chart, 'gw', { paths: [wildcard], name: 'other-name' });
    expect(() => gw.allowClientNamespace('Shop')).toThrow('test/gw: allowClientNamespace #0: invalid namespace "Shop"');
    expect(() => gw.allowMetricsScraping('monitoring', {})).toThrow('test/gw: allowMetricsScraping #1.podLabels: an empty label set would select every pod of the namespace');
    expect(() => gw.allowClient(null as any)).toThrow('test/gw: allowClient #2: expected an EgressNetworkPolicy, got null; make one with new EgressNetworkPolicy');
  });
});

describe('Cidr | parsing (src/cidr.ts)', () => {
  test.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['169.254.169.254/32', '169.254.169.254/32'],
    ['::/0', '::/0'],
    ['FC00::/7', 'fc00::/7'],
    ['fe80:0:0:0:0:0:0:0/10', 'fe80::/10'],
    ['2001:db8:0:0:1:0:0:0/128', '2001:db8:0:0:1::/128'], // the longer zero run is compressed
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'], // on a tie, the first
    ['2001:0db8:0000:0000:0000:0000:0000:0001/128', '2001:db8::1/128'],
    ['::ffff:10.0.0.0/104', '::ffff:a00:0/104'],
    ['1:0:0:2:0:0:0:3/128', '1:0:0:2::3/128'],
    ['1:2:3:4:5:6:7:8/128', '1:2:3:4:5:6:7:8/128'],
    ['1:0:2:3:4:5:6:7/128', '1:0:2:3:4:5:6:7/128'],
  ])('parses %s as %s', (text, canonical) => {
    expect(Cidr.parse(text).toString()).toBe(canonical);
  });

  test.each([
    ['10.0.0.0/33', '"10.0.0.0/33" is not a valid CIDR: the prefix length "33" must be a whole number 0..32 for an IPv4 address'],
    ['fc00::/129', '"fc00::/129" is not a valid CIDR: the prefix length "129" must be a whole number 0..128 for an IPv6 address'],
    ['10.0.0.0/08', 'the prefix length "08" must be a whole number 0..32'],
    ['10.0.0.0/', 'the prefix length "" must be a whole number 0..32'],
    ['10.0.0.1', '"10.0.0.1" has no prefix length; did you mean "10.0.0.1/32" (that one address)?'],
    ['10.0.0.256/32', '"10.0.0.256/32" is not a valid CIDR: "10.0.0.256" is not an IPv4 or IPv6 address'],
    ['010.0.0.0/8', '"010.0.0.0/8" is not a valid CIDR: "010.0.0.0" is not an IPv4 or IPv6 address'],
    ['10.0.0/8', 'is not an IPv4 or IPv6 address'],
    ['1::2::3/128', 'is not an IPv4 or IPv6 address'],
    ['1:2:3:4:5:6:7:8::/128', 'is not an IPv4 or IPv6 address'],
    ['1:2:3:4:5:6:7/128', 'is not an IPv4 or IPv6 address'],
    ['12345::/16', 'is not an IPv4 or IPv6 address'],
    ['gggg::/16', 'is not an IPv4 or IPv6 address'],
    ['fe80::1%eth0/128', 'is not an IPv4 or IPv6 address'],
    ['1.2.3.4::/128', 'is not an IPv4 or IPv6 address'],
    ['::1.2.3/128', 'is not an IPv4 or IPv6 address'],
    ['10.0.0.1/8', '"10.0.0.1/8" has address bits set after the /8 prefix; did you mean "10.0.0.0/8" (the network), or "10.0.0.1/32" (that one address)?'],
    ['fc00::1/7', 'did you mean "fc00::/7" (the network), or "fc00::1/128" (that one address)?'],
    [' 10.0.0.0/8', '" 10.0.0.0/8" has surrounding whitespace; write "10.0.0.0/8"'],
    ['', 'CIDR "" must be a non-empty string'],
    ['example.com', '"example.com" is not a CIDR'],
  ])('fails for %j', (text, message) => {
    expect(() => Cidr.parse(text)).toThrow(message);
  });

  test('except ranges must be of the same family, strict subsets and unique', () => {
    expect(parseIpBlock('0.0.0.0/0', ['10.0.0.0/8', '169.254.169.254/32']).except.map(String)).toEqual(['10.0.0.0/8', '169.254.169.254/32']);
    expect(() => parseIpBlock('10.0.0.0/8', ['11.0.0.0/16'])).toThrow('except[0]: "11.0.0.0/16" is not a strict subset of "10.0.0.0/8"');
    expect(() => parseIpBlock('10.0.0.0/8', ['10.0.0.0/8'])).toThrow('except[0]: "10.0.0.0/8" is not a strict subset of "10.0.0.0/8"');
    expect(() => parseIpBlock('10.0.0.0/8', ['10.0.0.0/7'])).toThrow('is not a strict subset');
    expect(() => parseIpBlock('10.0.0.0/8', ['fc00::/7'])).toThrow('except[0]: "fc00::/7" is IPv6 but the CIDR "10.0.0.0/8" is IPv4');
    expect(() => parseIpBlock('10.0.0.0/8', ['10.1.0.0/16', '10.1.0.0/16'])).toThrow('except[1]: "10.1.0.0/16" is listed twice');
    expect(() => parseIpBlock('10.0.0.0/8', ['10.1.0.0'])).toThrow('except[0]: "10.1.0.0" has no prefix length');
  });
});

describe('Cidr | properties', () => {
  const v4 = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.integer({ min: 0, max: 32 }));
  const v6 = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 }));
  const mask = (bits: number, prefix: number) => ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  const ipv4Text = (v: bigint) => [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
  const ipv6Full = (v: bigint) => [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => ((v >> s) & 0xffffn).toString(16).padStart(4, '0')).join(':');

  test('IPv4: a network parses back to itself; a host address with a short prefix is refused with the network as the fix', () => {
    fc.assert(
      fc.property(v4, ([address, prefix]) => {
        const network = address & mask(32, prefix);
        const parsed = Cidr.parse(`${ipv4Text(network)}/${prefix}`);
        expect(parsed.network).toBe(network);
        expect(parsed.prefix).toBe(prefix);
        expect(Cidr.parse(parsed.toString()).toString()).toBe(parsed.toString());
        if (network !== address) {
          expect(() => Cidr.parse(`${ipv4Text(address)}/${prefix}`)).toThrow(`did you mean "${parsed}" (the network)`);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('IPv6: the full form parses to the same network as the canonical form, which matches the WHATWG URL serializer (RFC 5952)', () => {
    fc.assert(
      fc.property(v6, ([address, prefix]) => {
        const network = address & mask(128, prefix);
        const parsed = Cidr.parse(`${ipv6Full(network)}/${prefix}`);
        expect(parsed.network).toBe(network);
        const canonical = parsed.toString().split('/')[0];
        expect(canonical).toBe(new URL(`http://[${ipv6Full(network)}]/`).hostname.slice(1, -1));
        expect(Cidr.parse(parsed.toString()).network).toBe(network);
      }),
      { numRuns: 300 },
    );
  });

  test('containment is range inclusion, and an except range is accepted exactly when it is a strict subset', () => {
    // The second address shares a random-length prefix with the first, so containment is often true.
    const related = (bits: number) =>
      fc
        .tuple(
          bits === 32 ? v4 : v6,
          fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }),
          fc.integer({ min: 0, max: bits }),
          fc.integer({ min: 0, max: bits }),
        )
        .map(([[a, p], noise, shared, q]) => {
          const hostBits = ~mask(bits, shared) & ((1n << BigInt(bits)) - 1n);
          return { bits, a, p, b: (a & mask(bits, shared)) | (noise & hostBits), q };
        });
    const pair = fc.oneof(fc.tuple(v4, v4).map(([[a, p], [b, q]]) => ({ bits: 32, a, p, b, q })), related(32), related(128));
    const text = (bits: number, v: bigint, prefix: number) => `${bits === 32 ? ipv4Text(v & mask(bits, prefix)) : ipv6Full(v & mask(bits, prefix))}/${prefix}`;
    fc.assert(
      fc.property(pair, ({ bits, a, p, b, q }) => {
        const outer = Cidr.parse(text(bits, a, p));
        const inner = Cidr.parse(text(bits, b, q));
        const inRange = outer.network <= inner.network && inner.last <= outer.last;
        expect(outer.contains(inner)).toBe(inRange);
        expect(outer.overlaps(inner)).toBe(inRange || (inner.network <= outer.network && outer.last <= inner.last));
        const strict = inRange && q > p;
        expect(outer.strictlyContains(inner)).toBe(strict);
        if (strict) {
          expect(parseIpBlock(outer.toString(), [inner.toString()]).except[0].toString()).toBe(inner.toString());
        } else {
          expect(() => parseIpBlock(outer.toString(), [inner.toString()])).toThrow('is not a strict subset of');
        }
      }),
      { numRuns: 500 },
    );
  });
});
