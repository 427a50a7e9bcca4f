import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import {
  DataplaneMode,
  DnsResolver,
  EgressGateway,
  EgressGatewayNetworkPolicy,
  EgressNetworkPolicy,
  EgressPort,
  IEgressPath,
  TlsOriginationEgress,
  WildcardEgressGateway,
  WorkloadIdentity,
} from '../src';
import { synthValid } from './schema';
import { Cidr } from '../src/core/cidr';

/**
 * Security review 2026-12, the NetworkPolicy findings (M2, L1, L2, L4), and the escape hatch of issue #11 item 4.
 * Each finding's tests fail on the code before its fix.
 */

const policy = (objects: any[], name: string) => {
  const found = objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0];
};
const nsPeer = (ns: string, labels?: Record<string, string>) => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
  podSelector: labels === undefined ? {} : { matchLabels: labels },
});
const tcp = (...ports: number[]) => ports.map((port) => ({ port, protocol: 'TCP' }));
const WAYPOINT_LABELS = { 'gateway.networking.k8s.io/gateway-name': 'egress-waypoint' };

/** What an egress waypoint returns as an IEgressPath: HBONE 15008 in, its hosts' ports out. Hand-written, as in the review. */
const waypoint: IEgressPath = {
  toEgressPathConfig: () => ({ namespace: 'istio-egress', podLabels: WAYPOINT_LABELS, podPorts: [15008], externalPorts: [80, 443] }),
};

describe('M2: the pods of an egress waypoint can be fenced like a gateway', () => {
  test('M2: EgressGatewayNetworkPolicy fences a waypoint given as an IEgressPath: clients in on HBONE 15008 only, out on its ports without private or metadata ranges', () => {
    // GIVEN an ambient team that uses the waypoint
    const chart = Testing.chart();
    const shop = new EgressNetworkPolicy(chart, 'shop', { namespace: 'shop', dataplane: DataplaneMode.AMBIENT, waypoints: [waypoint] });
    // WHEN
    const fence = new EgressGatewayNetworkPolicy(chart, 'waypoint-lockdown', { paths: [waypoint], name: 'waypoint-lockdown' });
    fence.allowClient(shop);
    const objects = synthValid(chart);
    // THEN the waypoint pods are selected and reached on HBONE from the client only
    const np = policy(objects, 'waypoint-lockdown');
    expect(np.metadata.namespace).toBe('istio-egress');
    expect(np.spec.podSelector).toEqual({ matchLabels: WAYPOINT_LABELS });
    expect(np.spec.policyTypes).toEqual(['Egress', 'Ingress']);
    expect(np.spec.ingress).toEqual([{ from: [nsPeer('shop')], ports: tcp(15008) }]);
    // out: DNS, istiod (the waypoint's Envoy takes its configuration from there), the internet on 80 and 443 only
    expect(np.spec.egress).toHaveLength(3);
    expect(np.spec.egress[1]).toEqual({ ports: tcp(15012), to: [nsPeer('istio-system', { app: 'istiod' })] });
    const internet = np.spec.egress[2];
    expect(internet.ports).toEqual(tcp(80, 443));
    expect(internet.to).toHaveLength(1);
    expect(internet.to[0].ipBlock.cidr).toBe('0.0.0.0/0');
    // a name under a DYNAMIC_DNS wildcard that resolves to the metadata service or a private address is not reachable
    const except = internet.to[0].ipBlock.except.map((c: string) => Cidr.parse(c));
    for (const address of ['169.254.169.254/32', '10.0.0.5/32', '172.16.3.4/32', '192.168.1.1/32', '100.100.100.200/32', '127.0.0.1/32']) {
      expect(except.some((r: Cidr) => r.contains(Cidr.parse(address)))).toBe(true);
    }
    // the ambient client reaches the waypoint on HBONE, and needs no istiod
    expect(policy(objects, 'egress-lockdown').spec.egress.at(-1)).toEqual({ ports: tcp(15008), to: [nsPeer('istio-egress', WAYPOINT_LABELS)] });
  });

  test('M2: a waypoint path is reached on HBONE only, even when it lists more pod ports; one without 15008 is refused', () => {
    const chart = Testing.chart();
    const more: IEgressPath = {
      toEgressPathConfig: () => ({ namespace: 'istio-egress', podLabels: WAYPOINT_LABELS, podPorts: [15021, 15008], externalPorts: [443] }),
    };
    const np = new EgressNetworkPolicy(chart, 'np', { namespace: 'shop', dataplane: DataplaneMode.AMBIENT });
    np.allowWaypoint(more);
    expect(policy(synthValid(chart), 'egress-lockdown').spec.egress.at(-1).ports).toEqual(tcp(15008));
    const sidecarGateway: IEgressPath = {
      toEgressPathConfig: () => ({ namespace: 'istio-egress', podLabels: { istio: 'egress' }, podPorts: [8443], externalPorts: [443] }),
    };
    expect(() => np.allowWaypoint(sidecarGateway)).toThrow('test/np: allowWaypoint #1: the waypoint pods istio-egress/{istio=egress} listen on 8443, but ztunnel always connects to waypoints on HBONE, TCP 15008');
  });

  test.each([
    ['an empty object', () => ({}), 'expected an IEgressPath, got an object {} (no toEgressPathConfig); use a WildcardEgressGateway, TlsOriginationEgress'],
    ['a plain object', () => ({ namespace: 'istio-egress', name: 'egress-waypoint' }), 'expected an IEgressPath, got an object {"namespace":"istio-egress","name":"egress-waypoint"} (no toEgressPathConfig)'],
    ['a construct of another kind', (scope: Construct) => new Construct(scope, 'not-a-path'), 'expected an IEgressPath, got the construct "test/not-a-path" (Construct) (no toEgressPathConfig)'],
  ])('M2: %s passed from JavaScript as a path gets a clear error, not "toEgressPathConfig is not a function"', (_what, make, message) => {
    const chart = Testing.chart();
    const notAPath = make(chart) as any;
    expect(() => new EgressGatewayNetworkPolicy(chart, 'gw', { paths: [notAPath] })).toThrow(`test/gw: paths[0]: ${message}`);
    expect(() => new EgressGatewayNetworkPolicy(chart, 'gw2', { paths: [notAPath] })).toThrow('or an object whose toEgressPathConfig method returns the proxy pods and ports');
    const np = new EgressNetworkPolicy(chart, 'np', { namespace: 'shop', dataplane: DataplaneMode.AMBIENT });
    expect(() => np.allowWaypoint(notAPath)).toThrow(`test/np: allowWaypoint #0: ${message}`);
    expect(() => np.allowEgressPath(notAPath)).toThrow(`test/np: allowEgressPath #0: ${message}`);
    expect(() => new EgressNetworkPolicy(chart, 'np2', { namespace: 'shop', waypoints: [notAPath] })).toThrow(`test/np2: waypoints[0]: ${message}`);
  });
});

describe('L1: DNS resolver ranges may not add up to the internet', () => {
  const lockdown = (dns: DnsResolver[]) => () => new EgressNetworkPolicy(Testing.chart(), 'np', { namespace: 'shop', dns });

  test.each([
    [['0.0.0.0/1', '128.0.0.0/1'], 'test/np: dns[0].cidrs[0]: "0.0.0.0/1" is a wide public range (2147483648 addresses): the pods could send anything on port 53 (UDP and TCP, a tunnel around the egress gateway) to every host in it'],
    [['8.0.0.0/5'], 'test/np: dns[0].cidrs[0]: "8.0.0.0/5" is a wide public range (134217728 addresses)'],
    [['::/1'], 'test/np: dns[0].cidrs[0]: "::/1" is a wide public range'],
    [['2001:db8::/48'], 'test/np: dns[0].cidrs[0]: "2001:db8::/48" is a wide public range (1208925819614629174706176 addresses)'],
    [['8.8.8.0/23'], 'test/np: dns[0].cidrs[0]: "8.8.8.0/23" is a wide public range (512 addresses)'],
    // NAT64: 64:ff9b::/96 stands for every IPv4 address
    [['64:ff9b::/96'], 'test/np: dns[0].cidrs[0]: "64:ff9b::/96" is a wide public range (4294967296 addresses)'],
  ])('L1: refuses %j', (cidrs, message) => {
    expect(lockdown([DnsResolver.ipAddresses(cidrs)])).toThrow(message);
    expect(lockdown([DnsResolver.ipAddresses(cidrs)])).toThrow('List your resolvers\' addresses (at most a /');
  });

  test('L1: refuses narrow public ranges that add up: five /24s over two resolvers, IPv6 /64s, or NAT64 ranges counted as IPv4', () => {
    const four = ['198.51.100.0/24', '203.0.113.0/24', '192.88.99.0/24', '8.8.8.0/24'];
    expect(lockdown([DnsResolver.ipAddresses(four), DnsResolver.ipAddresses(['1.1.1.0/24'])])).toThrow(
      'test/np: dns: the resolver ranges 198.51.100.0/24, 203.0.113.0/24, 192.88.99.0/24, 8.8.8.0/24, 1.1.1.0/24 add up to 1280 public IPv4 addresses, more than four /24s',
    );
    expect(lockdown([DnsResolver.ipAddresses([...four, '64:ff9b::101:100/120'])])).toThrow('add up to 1280 public IPv4 addresses');
    // one range inside another adds nothing; four /24s are fine
    expect(lockdown([DnsResolver.ipAddresses([...four, '8.8.8.8/32'])])).not.toThrow();
    const ipv6 = ['2001:db8:0:1::/64', '2001:db8:0:2::/64', '2001:db8:0:3::/64', '2001:db8:0:4::/64', '2001:db8:0:5::/64'];
    expect(lockdown([DnsResolver.ipAddresses(ipv6)])).toThrow('add up to 92233720368547758080 public IPv6 addresses, more than four /64s');
  });

  test('L1: accepts resolvers a cluster really has: single public resolvers, node-local and private ranges of any size', () => {
    const chart = Testing.chart();
    new EgressNetworkPolicy(chart, 'np', {
      namespace: 'shop',
      dns: [
        DnsResolver.ipAddresses(['8.8.8.8/32', '1.1.1.1/32', '2001:4860:4860::8888/128', '64:ff9b::808:808/128']),
        DnsResolver.ipAddresses(['169.254.20.10/32', '10.0.0.0/8', '100.64.0.0/10', 'fd00::/8', '198.18.0.0/15']),
      ],
    });
    const np = policy(synthValid(chart), 'egress-lockdown');
    expect(np.spec.egress.filter((r: any) => r.to[0].ipBlock !== undefined)).toHaveLength(9);
    expect(np.metadata.annotations).toBeUndefined();
  });

  test('L1: an explicit wideRangesReason accepts wide public ranges and records the reason; /0 stays refused', () => {
    const chart = Testing.chart();
    new EgressNetworkPolicy(chart, 'np', {
      namespace: 'shop',
      dns: [DnsResolver.kubeDns(), DnsResolver.ipAddresses(['203.0.112.0/22'], { wideRangesReason: ' on-premises resolvers, anycast range ' })],
    });
    const np = policy(synthValid(chart), 'egress-lockdown');
    expect(np.metadata.annotations).toEqual({ 'cdk8s-istio-egress/wide-dns-ranges': '203.0.112.0/22: on-premises resolvers, anycast range' });
    expect(np.spec.egress[1]).toEqual({ ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '203.0.112.0/22' } }] });
    expect(lockdown([DnsResolver.ipAddresses(['0.0.0.0/0'], { wideRangesReason: 'why not' })])).toThrow('test/np: dns[0].cidrs[0]: "0.0.0.0/0" is every address');
    expect(lockdown([DnsResolver.ipAddresses(['8.0.0.0/5'], { wideRangesReason: 'a\nb' })])).toThrow('test/np: dns[0].wideRangesReason: write the reason on one line');
  });

  test('L1: the gateway policy checks its resolvers the same way', () => {
    const chart = Testing.chart();
    const wildcard = new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'] });
    expect(() => new EgressGatewayNetworkPolicy(chart, 'gw', { paths: [wildcard], dns: [DnsResolver.ipAddresses(['0.0.0.0/1', '128.0.0.0/1'])] })).toThrow(
      'test/gw: dns[0].cidrs[0]: "0.0.0.0/1" is a wide public range',
    );
  });
});

describe('L2: the gateway never reaches the non-internet ranges the review found missing', () => {
  function gatewayPolicy(props: { internalDestinations?: { cidr: string; reason: string }[] } = {}) {
    const chart = Testing.chart();
    const wildcard = new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'] });
    const np = new EgressGatewayNetworkPolicy(chart, 'gw', { paths: [wildcard], ipv6: true, restrictIngress: false, ...props });
    return { np, objects: synthValid(chart) };
  }

  test('L2: NAT64 64:ff9b::/96 and IPv4 0.0.0.0/8, 240.0.0.0/4, 198.18.0.0/15, 192.0.0.0/24 are excluded from the gateway\'s egress', () => {
    const { np, objects } = gatewayPolicy();
    const blocks = policy(objects, 'egress-gateway-lockdown').spec.egress.filter((r: any) => r.to[0].ipBlock !== undefined).map((r: any) => r.to[0].ipBlock);
    expect(blocks.map((b: any) => b.cidr)).toEqual(['0.0.0.0/0', '::/0']);
    for (const range of ['0.0.0.0/8', '240.0.0.0/4', '198.18.0.0/15', '192.0.0.0/24']) {
      expect(blocks[0].except).toContain(range);
    }
    expect(blocks[1].except).toContain('64:ff9b::/96');
    expect(np.excludedCidrs).toEqual(expect.arrayContaining(['0.0.0.0/8', '240.0.0.0/4', '198.18.0.0/15', '192.0.0.0/24', '64:ff9b::/96']));
    // the addresses of the review: the metadata service and a private address through NAT64, Istio's ServiceEntry VIPs, "this host"
    const except = [...blocks[0].except, ...blocks[1].except].map((c: string) => Cidr.parse(c));
    for (const address of ['64:ff9b::a9fe:a9fe/128', '64:ff9b::a00:5/128', '240.240.0.1/32', '0.0.0.0/32', '198.19.255.1/32', '192.0.0.170/32']) {
      expect(except.some((r: Cidr) => r.contains(Cidr.parse(address)))).toBe(true);
    }
  });

  test('L2: a range inside the new exclusions can be opened with a reason, like any internal destination', () => {
    const { objects } = gatewayPolicy({ internalDestinations: [{ cidr: '198.18.4.0/24', reason: 'appliance in the VPC' }] });
    const np = policy(objects, 'egress-gateway-lockdown');
    expect(np.spec.egress.at(-1).to).toEqual([{ ipBlock: { cidr: '198.18.4.0/24' } }]);
    expect(np.metadata.annotations).toEqual({ 'cdk8s-istio-egress/internal-destinations': '198.18.4.0/24: appliance in the VPC' });
  });
});

describe('L4: allowClient() opens only the ports of the paths the client uses', () => {
  /** The review's scenario: a wildcard path (for shop) and a TLS origination (for billing) on one gateway. */
  function scenario() {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443), EgressPort.http(80)] });
    const wildcard = new WildcardEgressGateway(chart, 'wc', { gateway, hosts: ['*.example.com'], allowFrom: [WorkloadIdentity.allInNamespace('shop')] });
    const tls = new TlsOriginationEgress(chart, 'tls', { gateway, hosts: ['api.billing.example'], allowFrom: [WorkloadIdentity.allInNamespace('billing')] });
    const fence = new EgressGatewayNetworkPolicy(chart, 'fence', { paths: [wildcard, tls] });
    const wildcardPort = wildcard.toEgressPathConfig().podPorts[0];
    const tlsPort = tls.toEgressPathConfig().podPorts[0];
    expect(wildcardPort).not.toBe(tlsPort);
    expect(fence.podPorts).toEqual([wildcardPort, tlsPort].sort((a, b) => a - b));
    return { chart, wildcard, tls, fence, wildcardPort, tlsPort };
  }
  const ingress = (objects: any[]) =>
    policy(objects, 'egress-gateway-lockdown').spec.ingress.map((r: any) => [r.from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], r.ports.map((p: any) => p.port)]);

  test('L4: shop (wildcard path) is admitted on the wildcard\'s pod port only, billing (TLS origination) on the origination\'s only', () => {
    const { chart, wildcard, tls, fence, wildcardPort, tlsPort } = scenario();
    fence.allowClient(new EgressNetworkPolicy(chart, 'shop', { namespace: 'shop', egressPaths: [wildcard] }));
    fence.allowClient(new EgressNetworkPolicy(chart, 'billing', { namespace: 'billing', egressPaths: [tls] }));
    expect(ingress(synthValid(chart))).toEqual([
      ['shop', [wildcardPort]],
      ['billing', [tlsPort]],
    ]);
  });

  test('L4: a path the client allows after allowClient() opens its port then (the order of calls does not matter); a client added twice changes nothing', () => {
    const { chart, wildcard, tls, fence, wildcardPort, tlsPort } = scenario();
    const shop = new EgressNetworkPolicy(chart, 'shop', { namespace: 'shop' });
    fence.allowClient(shop);
    shop.allowEgressPath(wildcard);
    fence.allowClient(shop);
    expect(ingress(synthValid(chart))).toEqual([['shop', [wildcardPort]]]);
    shop.allowEgressPath(tls);
    shop.allowEgressPath(wildcard); // nothing new
    expect(ingress(synthValid(chart))).toEqual([
      ['shop', [wildcardPort]],
      ['shop', [tlsPort]],
    ]);
  });

  test('L4: a client that reaches the gateway pods only on ports no path of this policy serves fails at synth', () => {
    const { chart, fence } = scenario();
    const other = new EgressNetworkPolicy(chart, 'other', { namespace: 'other' });
    other.allowEgressPath({ toEgressPathConfig: () => ({ namespace: 'istio-egress', podLabels: fence.podLabels, podPorts: [9443], externalPorts: [443] }) });
    fence.allowClient(other);
    expect(() => Testing.synth(chart)).toThrow(
      '[test/fence] allowClient: "test/other" (other/egress-lockdown) lets its pods reach this gateway on 9443, but the paths of this policy serve 8080, 8443, so no port is opened to them; add the path the client uses to paths',
    );
  });
});

describe('#11 item 4: escape hatches', () => {
  test('#11: ApiObject.of(policy) is the NetworkPolicy of either construct (primary L1 under the id Resource)', () => {
    const chart = Testing.chart();
    const wildcard = new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'] });
    const app = new EgressNetworkPolicy(chart, 'app', { namespace: 'shop', egressPaths: [wildcard] });
    const gw = new EgressGatewayNetworkPolicy(chart, 'gw', { paths: [wildcard] });
    gw.allowClient(app);
    for (const [construct, name] of [[app, 'egress-lockdown'], [gw, 'egress-gateway-lockdown']] as const) {
      const object = ApiObject.of(construct);
      expect(object.kind).toBe('NetworkPolicy');
      expect(object.name).toBe(name);
      expect(object.node.path).toBe(`${construct.node.path}/Resource/Resource`);
      object.metadata.addAnnotation('example.com/owner', 'platform');
    }
    const objects = synthValid(chart);
    expect(policy(objects, 'egress-lockdown').metadata.annotations).toEqual({ 'example.com/owner': 'platform' });
    expect(policy(objects, 'egress-gateway-lockdown').metadata.annotations).toEqual({ 'example.com/owner': 'platform' });
  });
});

describe('#11 item 6: wrong JavaScript types get a clear error, not a TypeError', () => {
  test('a single value where a list is expected names the field', () => {
    const chart = Testing.chart();
    const wildcard = new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'] });
    expect(() => new EgressNetworkPolicy(chart, 'a', { namespace: 'shop', egressPaths: wildcard as any })).toThrow(
      'test/a: egressPaths: expected a list, got the construct "test/wc" (WildcardEgressGateway); give a list, each an egress path (IEgressPath)',
    );
    expect(() => new EgressNetworkPolicy(chart, 'b', { namespace: 'shop', waypoints: waypoint as any })).toThrow('test/b: waypoints: expected a list, got an object {}; give a list, each a waypoint (IEgressPath)');
    expect(() => new EgressGatewayNetworkPolicy(chart, 'c', { paths: [wildcard], excludeCidrs: '203.0.113.0/24' as any })).toThrow(
      'test/c: excludeCidrs: expected a list, got the string "203.0.113.0/24"; wrap it in a list: ["203.0.113.0/24"]',
    );
    expect(() => new EgressGatewayNetworkPolicy(chart, 'd', { paths: [wildcard], externalPorts: 8443 as any })).toThrow('test/d: externalPorts: expected a list, got the number 8443');
    expect(() => new EgressGatewayNetworkPolicy(chart, 'e', { paths: [wildcard], internalDestinations: { cidr: '10.0.0.0/8', reason: 'x' } as any })).toThrow(
      'test/e: internalDestinations: expected a list, got an object {"cidr":"10.0.0.0/8","reason":"x"}',
    );
  });
});

describe('layers', () => {
  test('src/network-policy imports only src/core, its own files and libraries (never src/sidecar or src/ambient)', () => {
    const dir = path.join(__dirname, '..', 'src', 'network-policy');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThanOrEqual(7); // one concept a file (DataplaneMode, shared by every layer, lives in src/core)
    let count = 0;
    for (const file of files) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      const imports = [...text.matchAll(/^import[^;]*?from '([^']+)'/gms)].map((m) => m[1]);
      count += imports.length;
      for (const spec of imports) {
        expect([file, spec]).toEqual([file, expect.stringMatching(/^(\.\/[a-z-]+|\.\.\/core\/[a-z-]+|cdk8s|cdk8s-plus-28|constructs)$/)]);
      }
    }
    expect(count).toBeGreaterThan(20);
  });
});
