/**
 * Bad input at the boundary (issue #11 item 6, review finding L7): wrong JavaScript types, values the API server or
 * Istio would refuse after synthesis, and factory errors. Every case asserts the construct path, the field and a key
 * fragment of the message (not the whole text).
 */
import { Chart, Duration, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import {
  AmbientEgressWaypoint,
  DataplaneMode,
  DnsLookupFamily,
  DnsResolver,
  EgressGateway,
  EgressGatewayNetworkPolicy,
  EgressNetworkPolicy,
  EgressPort,
  IstioVersion,
  MeshSettings,
  OriginationTls,
  TlsOriginationEgress,
  WildcardEgressGateway,
  WorkloadIdentity,
} from '../src';
import { synthValid } from './schema';
import { InputError } from '../src/core/errors';

/** Runs `make` and checks the error: `<path>: <field>: ...<fragment>...`, a plain Error (never a TypeError). */
function expectFails(make: () => unknown, path: string, field: string, fragment: string): Error {
  let error: unknown;
  try {
    make();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Error);
  expect(error).not.toBeInstanceOf(TypeError);
  const message = (error as Error).message;
  expect(message.startsWith(`${path}: ${field}: `)).toBe(true);
  expect(message).toContain(fragment);
  // one casing: the reason after the prefix starts lower case, or with a quoted value or identifier
  expect(message.slice(`${path}: ${field}: `.length)).not.toMatch(/^[A-Z][a-z]+ /);
  return error as Error;
}

let chart: Chart;
beforeEach(() => {
  chart = Testing.chart();
});
const any = (v: unknown) => v as any;

describe('L7: EgressGateway: values the API server or Istio would refuse', () => {
  test.each([
    ['1gw', 'must start with a lower-case letter (Kubernetes Service names are DNS-1035 labels)'],
    ['443', 'must start with a lower-case letter'],
  ])('fails for the Service name %j (DNS-1035)', (name, fragment) => {
    expectFails(() => new EgressGateway(chart, 'gw', { name }), 'test/gw', 'name', `invalid gateway name "${name}": it ${fragment}`);
  });

  test('fails for a container port name longer than 15 characters (Kubernetes IsValidPortName)', () => {
    expectFails(
      () => new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443, { name: 'tls-egress-wikipedia' })] }),
      'test/gw',
      'ports[0]',
      'port name "tls-egress-wikipedia" is 20 characters long; a container port name has at most 15',
    );
  });

  test('fails for a container port name with "--" (Kubernetes IsValidPortName)', () => {
    expectFails(() => new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443, { name: 'tls--x' })] }), 'test/gw', 'ports[0]', "may not start or end with '-' or contain '--'");
  });

  test.each([15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090])('fails for the proxy port %d as a gateway Service port', (port) => {
    expectFails(() => new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(port)] }), 'test/gw', 'ports[0]', `port ${port} is the `);
  });

  test('fails for a proxy port as target port', () => {
    expectFails(
      () => new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443, { targetPort: 15021 })] }),
      'test/gw',
      'ports[0]',
      'target port 15021 is the health check port of the Istio proxy, which binds it itself; choose another port',
    );
  });

  test('fails for proxy ports and bad Service names of an existing gateway too', () => {
    expectFails(
      () => EgressGateway.fromAttributes(chart, 'gw', { namespace: 'istio-egress', serviceName: 'egress', selectorLabels: { istio: 'egress' }, ports: [EgressPort.https(15021)] }),
      'test/gw',
      'ports[0]',
      'port 15021 is the health check port',
    );
    expectFails(
      () => EgressGateway.fromAttributes(chart, 'gw2', { namespace: 'istio-egress', serviceName: '1gw', selectorLabels: { istio: 'egress' }, ports: [EgressPort.tls(443)] }),
      'test/gw2',
      'serviceName',
      'must start with a lower-case letter',
    );
  });

  test('a 15-character IANA port name and ports next to the proxy range are accepted', () => {
    const gw = new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443, { name: 'tls-egress-wiki' }), EgressPort.tls(15443)] });
    const deployment = synthValid(chart).find((o) => o.kind === 'Deployment');
    expect(deployment.spec.template.spec.containers[0].ports.map((p: any) => p.name)).toEqual(['tls-egress-wiki', 'tls-15443']);
    expect(gw.ports.map((p) => p.targetPort)).toEqual([8443, 15443]);
  });
});

describe('L7: EgressGateway: wrong JavaScript types', () => {
  test.each([
    ['ports', { ports: 'tls-443' }, 'ports', 'expected a list, got the string "tls-443"; wrap it in a list'],
    ['ports[0] plain object', { ports: [{ number: 443, protocol: 'TLS', name: 'tls-443' }] }, 'ports[0]', 'expected an EgressPort, got an object {"number":443'],
    ['ports[0] number', { ports: [443] }, 'ports[0]', 'expected an EgressPort, got the number 443; make one with EgressPort.tls or another EgressPort factory'],
    ['ports[0] undefined', { ports: [undefined] }, 'ports[0]', 'an EgressPort must not be undefined; remove the empty entry'],
    ['mesh', { mesh: { trustDomain: 'example.org' } }, 'mesh', 'expected a MeshSettings, got an object {"trustDomain":"example.org"}; make one with the MeshSettings constructor'],
    ['tolerations', { tolerations: 'dedicated' }, 'tolerations', 'expected a list, got the string "dedicated"'],
    ['tolerations[0]', { tolerations: [{ key: 'dedicated' }] }, 'tolerations[0]', 'expected a NodeTaintQuery, got an object {"key":"dedicated"}'],
    ['name', { name: 42 }, 'name', 'invalid gateway name 42: expected a string'],
    ['nodeSelector', { nodeSelector: 'egress' }, 'nodeSelector', 'labels "egress" must be an object of label keys and values'],
    ['nodeSelector value', { nodeSelector: { pool: 'egress nodes' } }, 'nodeSelector', 'invalid value "egress nodes" for label "pool"'],
    ['priorityClassName', { priorityClassName: 'High_Priority' }, 'priorityClassName', 'invalid priority class name "High_Priority"'],
    ['spreadAcrossZones', { spreadAcrossZones: 'no' }, 'spreadAcrossZones', 'expected true or false, got the string "no"'],
    ['resources', { resources: '1Gi' }, 'resources', 'expected ContainerResources (an object of options), got the string "1Gi"'],
    ['resources.cpu', { resources: { cpu: '100m' } }, 'resources.cpu', 'expected CpuResources (an object of options), got the string "100m"'],
    ['resources.cpu.request', { resources: { cpu: { request: '100m' } } }, 'resources.cpu.request', 'expected a Cpu, got the string "100m"; make one with Cpu.millis '],
    ['resources.memory.limit', { resources: { memory: { limit: 1024 } } }, 'resources.memory.limit', 'expected a Size, got the number 1024; make one with Size.mebibytes '],
  ])('fails for a wrong %s', (_what, props, field, fragment) => {
    expectFails(() => new EgressGateway(chart, 'gw', any(props)), 'test/gw', field, fragment);
  });

  test('fails for props that are not an object', () => {
    expectFails(() => new EgressGateway(chart, 'gw', any('egress')), 'test/gw', 'props', 'expected EgressGatewayProps (an object of options), got the string "egress"');
  });
});

describe('L7: WildcardEgressGateway: values Istio or Envoy would refuse', () => {
  const make = (props: object) => () => new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'], ...any(props) });

  test.each([
    [{ envoyFilterPriority: 2 ** 31 }, 'envoyFilterPriority', 'priority 2147483648 is out of range (a protobuf int32); use a whole number in -2147483648..2147483647'],
    [{ envoyFilterPriority: -(2 ** 31) - 1 }, 'envoyFilterPriority', 'out of range (a protobuf int32)'],
    [{ dnsCache: { maxHosts: 2 ** 32 } }, 'dnsCache.maxHosts', 'maxHosts 4294967296 is out of range (a protobuf uint32)'],
    [{ dnsCache: { maxPendingRequests: 2 ** 32 } }, 'dnsCache.maxPendingRequests', 'out of range (a protobuf uint32)'],
    [{ dnsCache: { hostTtl: Duration.days(10 ** 8) } }, 'dnsCache.hostTtl', 'is longer than a protobuf Duration allows (315576000000 s'],
    [{ dnsCache: { lookupFamily: 'BOGUS' } }, 'dnsCache.lookupFamily', 'lookupFamily "BOGUS" is not a DnsLookupFamily; use one of DnsLookupFamily.V4_ONLY, DnsLookupFamily.V6_ONLY'],
    [{ proxyVersion: '^1\\.30(?!\\.0)' }, 'proxyVersion', 'is not valid RE2 (Go regexp, which Istio compiles it with): negative lookahead "(?!" is not supported by RE2'],
    [{ proxyVersion: '(1)\\1' }, 'proxyVersion', 'backreference "\\1" is not supported by RE2'],
    [{ proxyVersion: '^1\\.30(?<=0)' }, 'proxyVersion', 'lookbehind "(?<=" is not supported by RE2'],
    [{ proxyVersion: '^1\\.30.*+' }, 'proxyVersion', 'a repetition operator cannot follow another'],
  ])('fails for %j', (props, field, fragment) => {
    expectFails(make(props), 'test/wc', field, fragment);
  });

  test('accepts the largest values the protobuf types allow and RE2-only syntax', () => {
    new WildcardEgressGateway(chart, 'wc', {
      hosts: ['*.example.com'],
      envoyFilterPriority: 2 ** 31 - 1,
      dnsCache: {
        maxHosts: 2 ** 32 - 1,
        maxPendingRequests: 2 ** 32 - 1,
        hostTtl: Duration.seconds(315576000000),
        lookupFamily: DnsLookupFamily.ALL,
      },
      // named groups in both Go forms (Go >= 1.22); JavaScript's RegExp would refuse (?P<...>)
      proxyVersion: '^1\\.(?P<minor>30)\\.(?<patch>[0-9]+)',
    });
    const filter = synthValid(chart).find((o) => o.kind === 'EnvoyFilter');
    expect(filter.spec.priority).toBe(2147483647);
    const cache = filter.spec.configPatches[0].patch.value.cluster_type.typed_config.dns_cache_config;
    expect([cache.max_hosts, cache.host_ttl, cache.dns_lookup_family]).toEqual([4294967295, '315576000000s', 'ALL']);
  });
});

describe('L7: WildcardEgressGateway: wrong JavaScript types', () => {
  test.each([
    [{ hosts: 'a.com' }, 'hosts', 'expected a list, got the string "a.com"; wrap it in a list: ["a.com"]'],
    [{ hosts: [42] }, 'hosts[0]', 'expected a string such as "api.example.com", got the number 42'],
    [{ hosts: ['a.com', null] }, 'hosts[1]', 'a host such as "api.example.com" must not be null; remove the empty entry'],
    [{ hosts: ['a.com'], allowFrom: [{}] }, 'allowFrom[0]', 'expected a WorkloadIdentity, got an object {}; make one with WorkloadIdentity.serviceAccount'],
    [{ hosts: ['a.com'], allowFrom: [{ namespace: 'x' }] }, 'allowFrom[0]', 'expected a WorkloadIdentity, got an object {"namespace":"x"}'],
    [{ hosts: ['a.com'], allowFrom: WorkloadIdentity.anyInMesh() }, 'allowFrom', 'expected a list, got an object'],
    [{ hosts: ['a.com'], ports: 443 }, 'ports', 'expected a list, got the number 443'],
    [{ hosts: ['a.com'], ports: ['443'] }, 'ports[0]', 'port number "443" must be an integer in the range 1..65535'],
    [{ hosts: ['a.com'], gateway: {} }, 'gateway', 'expected an IEgressGateway, got an object {} (no claimPort, addClientSubset, requireMutualTls)'],
    [{ hosts: ['a.com'], mesh: { clusterDomain: 'x' } }, 'mesh', 'expected a MeshSettings'],
    [{ hosts: ['a.com'], dnsCache: 1024 }, 'dnsCache', 'expected SniDnsCacheOptions (an object of options), got the number 1024'],
    [{ hosts: ['a.com'], dnsCache: { hostTtl: 300 } }, 'dnsCache.hostTtl', 'hostTtl 300 must be a Duration, e.g. Duration.minutes(5)'],
    [{ hosts: ['a.com'], dnsCache: { maxHosts: '1024' } }, 'dnsCache.maxHosts', 'maxHosts "1024" must be a whole number'],
    [{ hosts: ['a.com'], envoyFilterPriority: '10' }, 'envoyFilterPriority', 'priority "10" must be a whole number'],
    [{ hosts: ['a.com'], proxyVersion: 1.3 }, 'proxyVersion', 'regular expression 1.3 must be a string'],
    [{ hosts: ['a.com'], accessLogging: 'yes' }, 'accessLogging', 'expected true or false, got the string "yes"'],
  ])('fails for %j', (props, field, fragment) => {
    expectFails(() => new WildcardEgressGateway(chart, 'wc', any(props)), 'test/wc', field, fragment);
  });

  test('fails for addHost with a non-string', () => {
    const wc = new WildcardEgressGateway(chart, 'wc', { hosts: ['a.com'] });
    expectFails(() => wc.addHost(any(['b.com'])), 'test/wc', 'addHost ["b.com"]', 'expected a string such as "api.example.com", got a list ["b.com"]');
  });

  test('fails naming both sides when two constructs use one client subset name on a gateway', () => {
    const gw = new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443), EgressPort.tls(9443)] });
    new WildcardEgressGateway(chart, 'wc1', { gateway: gw, hosts: ['a.com'], ports: [443] });
    expectFails(
      () => new WildcardEgressGateway(chart, 'wc2', { gateway: gw, hosts: ['b.com'], ports: [9443] }),
      'test/wc2',
      'name',
      'egress gateway istio-egress/egress-gateway ("test/gw") already has a client subset "wildcard-egress" from another construct; give each construct',
    );
  });
});

describe('L7: factory errors name the factory call; constructs name path and field', () => {
  test.each([
    [() => EgressPort.tls(0), 'EgressPort.tls(0): port number 0 must be an integer in the range 1..65535'],
    [() => EgressPort.http(80, any('http-80')), 'EgressPort.http(80): options "http-80" must be an object such as { name: "tls-api" }'],
    [() => EgressPort.of(any(443)), 'EgressPort.of: expected EgressPortProps such as { number: 443, protocol: Protocol.TLS }, got 443'],
    [() => WorkloadIdentity.serviceAccount('*', 'x'), 'WorkloadIdentity.serviceAccount("*", "x"): invalid namespace "*"'],
    [() => WorkloadIdentity.allInNamespace(any(7)), 'WorkloadIdentity.allInNamespace(7): invalid namespace 7: expected a string'],
    [() => WorkloadIdentity.fromServiceAccount(any({ name: 'x' })), 'WorkloadIdentity.fromServiceAccount: expected a cdk8s-plus ServiceAccount'],
    [() => new MeshSettings({ trustDomain: '*' }), 'new MeshSettings: invalid trustDomain "*"'],
    [() => new MeshSettings(any('cluster.local')), 'new MeshSettings: expected MeshSettingsProps'],
  ])('fails %#: a self-contained message', (make, message) => {
    expect(make).toThrow(message);
    try {
      make();
    } catch (e) {
      expect(e).not.toBeInstanceOf(TypeError);
      expect((e as Error).message.startsWith(message)).toBe(true);
    }
  });

  test('fails with path and field when a construct reads a bad value, keeping the building block error as cause', () => {
    const error = expectFails(() => new WildcardEgressGateway(chart, 'wc', { hosts: ['a..com'] }), 'test/wc', 'hosts[0]', 'invalid host "a..com": empty label');
    const cause = (error as any).cause as Error;
    expect(cause).toBeInstanceOf(InputError);
    expect(cause.message).toBe('ExternalHost.of("a..com"): invalid host "a..com": empty label (two dots in a row, or a leading dot)');
    // the factory prefix is replaced, never stacked
    expect(error.message).toBe('test/wc: hosts[0]: invalid host "a..com": empty label (two dots in a row, or a leading dot)');
  });

  test('fails once: an error that names a construct is not prefixed again by an outer construct', () => {
    const error = expectFails(() => new WildcardEgressGateway(chart, 'wc', { hosts: ['a.com'], ports: [15021] }), 'test/wc/EgressGateway', 'ports[0]', 'port 15021 is the health check port');
    expect(error.message.match(/test\//g)).toHaveLength(1);
  });
});

describe('L7: boundary property: any JavaScript value in any prop gives a located error or a valid synth, never a TypeError', () => {
  const keys = ['hosts', 'ports', 'allowFrom', 'name', 'gateway', 'mesh', 'dnsCache', 'envoyFilterPriority', 'proxyVersion', 'accessLogging'];
  test('fails only with messages naming test/wc (or its gateway) and the field', () => {
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.anything({ withNullPrototype: false }), (key, value) => {
        const c = Testing.chart();
        try {
          new WildcardEgressGateway(c, 'wc', { hosts: ['a.com'], [key]: value } as any);
        } catch (e) {
          expect(e).not.toBeInstanceOf(TypeError);
          expect((e as Error).message).toMatch(new RegExp(`^test/wc(/EgressGateway)?: (${key}|props|name)[\\[.:]`));
          return;
        }
        try {
          synthValid(c);
        } catch (e) {
          // an empty allow-list is reported by the construct's validation at synth, with path and field
          expect(key).toBe('hosts');
          expect((e as Error).message).toContain('[test/wc] hosts: the allow-list is empty');
        }
      }),
      { numRuns: 300 },
    );
  });

  const gatewayKeys = ['namespace', 'name', 'ports', 'mesh', 'tolerations', 'nodeSelector', 'priorityClassName', 'spreadAcrossZones', 'resources', 'replicas', 'minAvailable', 'autoscaling'];
  test('fails only with messages naming test/gw and the field (EgressGateway)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...gatewayKeys), fc.anything(), (key, value) => {
        const c = Testing.chart();
        try {
          new EgressGateway(c, 'gw', { [key]: value } as any);
        } catch (e) {
          expect(e).not.toBeInstanceOf(TypeError);
          expect((e as Error).message).toMatch(new RegExp(`^test/gw: ${key}[\\[.:]`));
          return;
        }
        synthValid(c);
      }),
      { numRuns: 200 },
    );
  });
});

test('InputError from the building blocks is internal: not exported from the package', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  expect(Object.keys(require('../src'))).not.toContain('InputError');
});

/** The cases of the security review's fuzzing section (L7) in sidecar mode: each failed before this change (checked). */
const l7Cases: Array<[string, (c: Chart) => unknown]> = [
  ['hosts string', (c: Chart) => new WildcardEgressGateway(c, 'wc', { hosts: 'a.com' as any })],
  ['allowFrom [{}]', (c: Chart) => new WildcardEgressGateway(c, 'wc', { hosts: ['a.com'], allowFrom: [{}] as any })],
  ['allowFrom [{namespace}]', (c: Chart) => new WildcardEgressGateway(c, 'wc', { hosts: ['a.com'], allowFrom: [{ namespace: 'x' }] as any })],
  ['priority 2^31', (c: Chart) => new WildcardEgressGateway(c, 'wc', { hosts: ['a.com'], envoyFilterPriority: 2 ** 31 })],
  ['maxHosts 2^32', (c: Chart) => new WildcardEgressGateway(c, 'wc', { hosts: ['a.com'], dnsCache: { maxHosts: 2 ** 32 } })],
  ['hostTtl 1e8 days', (c: Chart) => new WildcardEgressGateway(c, 'wc', { hosts: ['a.com'], dnsCache: { hostTtl: Duration.days(1e8) } })],
  ['lookupFamily BOGUS', (c: Chart) => new WildcardEgressGateway(c, 'wc', { hosts: ['a.com'], dnsCache: { lookupFamily: 'BOGUS' as any } })],
  ['proxyVersion (?!', (c: Chart) => new WildcardEgressGateway(c, 'wc', { hosts: ['a.com'], proxyVersion: '^1\\.30(?!\\.0)' })],
  ['proxyVersion \\1', (c: Chart) => new WildcardEgressGateway(c, 'wc', { hosts: ['a.com'], proxyVersion: '(1)\\1' })],
  ['TlsOriginationEgress hosts string', (c: Chart) => new TlsOriginationEgress(c, 'wc', { hosts: 'a.com' as any, allowFrom: [WorkloadIdentity.anyInMesh()] })],
  ['TlsOriginationEgress allowFrom [{}]', (c: Chart) => new TlsOriginationEgress(c, 'wc', { hosts: ['a.com'], allowFrom: [{}] as any })],
  ['name 1gw', (c: Chart) => new EgressGateway(c, 'gw', { name: '1gw' })],
  ['name 443', (c: Chart) => new EgressGateway(c, 'gw', { name: '443' })],
  ['port name 20 chars', (c: Chart) => new EgressGateway(c, 'gw', { ports: [EgressPort.tls(443, { name: 'tls-egress-wikipedia' })] })],
  ['port 15021', (c: Chart) => new EgressGateway(c, 'gw', { ports: [EgressPort.tls(15021)] })],
  ['port 15090', (c: Chart) => new EgressGateway(c, 'gw', { ports: [EgressPort.tls(15090)] })],
];
test.each(l7Cases)('L7: fails for %s with a located error, never a TypeError', (_n, make) => {
  const c = Testing.chart();
  let err: any;
  try {
    make(c);
    Testing.synth(c);
  } catch (e) {
    err = e;
  }
  expect(err).toBeDefined();
  expect(err).not.toBeInstanceOf(TypeError);
  expect(err.message).toMatch(/^test\/(wc|gw)(\/EgressGateway)?: /);
});

const ADMIN = WorkloadIdentity.serviceAccount('shop', 'admin');

describe('M3: AmbientEgressWaypoint refuses in-cluster, metadata and public-suffix hosts, like the sidecar constructs', () => {
  test.each([
    ['kubernetes.default.svc.cluster.local', 'kubernetes-default-svc-cluster-local', 'an in-cluster name under the cluster domain "cluster.local"'],
    ['*.internal', 'wildcard-internal', 'the top-level domain ".internal" is reserved for private networks'],
    ['metadata.google.internal', 'metadata-google-internal', 'the top-level domain ".internal"'],
    ['*.com', 'wildcard-com', 'matches every name under the top-level domain ".com"'],
    ['*.co.uk', 'wildcard-co-uk', '"co.uk" is a public suffix where anyone can register a name'],
    ['*.s3.amazonaws.com', 'wildcard-s3-amazonaws-com', 'any AWS customer\'s S3 buckets'],
    ['metadata.goog', 'metadata-goog', 'the Google Cloud instance metadata service'],
    ['169.254.169.254.nip.io', '169-254-169-254-nip-io', 'resolve to the IP address written in the name'],
    ['api.istio-egress', 'api-istio-egress', '"istio-egress" is a Kubernetes namespace of this cluster'],
  ])('M3: fails for the host %j', (host, id, fragment) => {
    const waypoint = new AmbientEgressWaypoint(chart, 'wp', { istiodWildcardTlsEnabled: true });
    const e = expectFails(() => waypoint.addHost(host), `test/wp/${id}`, 'host', `refused host "${host}": `);
    expect(e.message).toContain(fragment);
    expect(e.message).toContain(`list it in hostExemptions with the reason (a HostExemption with host "${host}" and a reason)`);
  });

  test('M3: fails for a refused host of an existing waypoint (fromAttributes) too', () => {
    const waypoint = AmbientEgressWaypoint.fromAttributes(chart, 'wp', { namespace: 'istio-egress', name: 'waypoint' });
    expectFails(() => waypoint.addHost('kubernetes.default.svc.cluster.local'), 'test/wp/kubernetes-default-svc-cluster-local', 'host', 'in-cluster name');
    expectFails(() => waypoint.addHost('*.com', { ports: [EgressPort.http(80)] }), 'test/wp/wildcard-com', 'host', 'top-level domain ".com"');
  });

  test('M3: the cluster domain of the mesh settings counts', () => {
    const waypoint = new AmbientEgressWaypoint(chart, 'wp', { mesh: new MeshSettings({ clusterDomain: 'prod.example.net' }) });
    expectFails(() => waypoint.addHost('api.shop.svc.prod.example.net'), 'test/wp/api-shop-svc-prod-example-net', 'host', 'under the cluster domain "prod.example.net"');
  });

  test('M3: an exempted host is accepted with its reason recorded on its own ServiceEntry only', () => {
    const waypoint = new AmbientEgressWaypoint(chart, 'wp', {
      hostExemptions: [{ host: 'metadata.google.internal', reason: 'node agent reads its own metadata (TICKET-7)' }],
    });
    waypoint.addHost('metadata.google.internal', { ports: [EgressPort.http(80)] }).allow('agent', { identities: [ADMIN] });
    waypoint.addHost('api.example.com').allow('admin', { identities: [ADMIN] });
    const entries = synthValid(chart).filter((o) => o.kind === 'ServiceEntry');
    const byName = Object.fromEntries(entries.map((e) => [e.metadata.name, e]));
    expect(byName['metadata-google-internal'].metadata.annotations).toEqual({
      'cdk8s-istio-egress/host-exemptions': JSON.stringify({ 'metadata.google.internal': 'node agent reads its own metadata (TICKET-7)' }),
    });
    expect(byName['api-example-com'].metadata.annotations).toBeUndefined();
  });

  test('M3: an exemption on an existing waypoint is accepted the same way', () => {
    const waypoint = AmbientEgressWaypoint.fromAttributes(chart, 'wp', {
      namespace: 'istio-egress',
      name: 'waypoint',
      hostExemptions: [{ host: '*.s3.amazonaws.com', reason: 'bucket policies restrict access to our account' }],
    });
    waypoint.addHost('*.s3.amazonaws.com', { ports: [EgressPort.http(80)] }).allow('admin', { identities: [ADMIN] });
    const entry = synthValid(chart).find((o) => o.kind === 'ServiceEntry');
    expect(entry.metadata.annotations['cdk8s-istio-egress/host-exemptions']).toContain('bucket policies restrict access');
  });

  test('M3: fails for an exemption without a reason, one the library does not need, and one never used', () => {
    expectFails(
      () => new AmbientEgressWaypoint(chart, 'a', { hostExemptions: [{ host: '*.com', reason: ' ' }] }),
      'test/a',
      'hostExemptions[0].reason',
      'the exemption of "*.com" needs a reason',
    );
    const b = new AmbientEgressWaypoint(chart, 'b', { namespace: 'egress-b', hostExemptions: [{ host: 'api.example.com', reason: 'x' }] });
    expectFails(() => b.addHost('api.example.com'), 'test/b/api-example-com', 'host', 'is exempted in hostExemptions[0] but the library does not refuse it');
    const c = Testing.chart();
    const unused = new AmbientEgressWaypoint(c, 'c', { hostExemptions: [{ host: '*.com', reason: 'x' }] });
    unused.addHost('api.example.com').allow('admin', { identities: [ADMIN] });
    expect(() => Testing.synth(c)).toThrow('hostExemptions[0]: "*.com" is exempted but not among the hosts');
  });
});

describe('L7: AmbientEgressWaypoint: values the API server or Istio would refuse', () => {
  test.each(['1wp', '443', '0-waypoint'])('fails for the waypoint name %j (DNS-1035: Istio creates a Service of that name)', (name) => {
    expectFails(() => new AmbientEgressWaypoint(chart, 'wp', { name }), 'test/wp', 'name', `invalid waypoint name "${name}": it must start with a lower-case letter`);
  });

  test('fails for a waypoint name that is not a DNS-1035 label on an existing waypoint too', () => {
    expectFails(() => AmbientEgressWaypoint.fromAttributes(chart, 'wp', { namespace: 'istio-egress', name: '1wp' }), 'test/wp', 'name', 'Istio creates a Service of that name');
  });

  test('a waypoint name that starts with a letter is accepted', () => {
    expect(new AmbientEgressWaypoint(chart, 'wp', { name: 'wp1' }).name).toBe('wp1');
  });
});

describe('AmbientEgressWaypoint: istioVersion comes from MeshSettings', () => {
  test('defaults to mesh.istioVersion', () => {
    expect(new AmbientEgressWaypoint(chart, 'a').istioVersion).toBe(MeshSettings.defaults().istioVersion);
    const mesh = new MeshSettings({ istioVersion: IstioVersion.V1_31 });
    expect(new AmbientEgressWaypoint(chart, 'b', { namespace: 'b', mesh }).istioVersion).toBe(IstioVersion.V1_31);
    expect(AmbientEgressWaypoint.fromAttributes(chart, 'c', { namespace: 'c', name: 'wp', mesh }).istioVersion).toBe(IstioVersion.V1_31);
  });

  test('an explicit istioVersion still works, also with mesh settings that do not set one', () => {
    expect(new AmbientEgressWaypoint(chart, 'a', { istioVersion: IstioVersion.V1_29 }).istioVersion).toBe(IstioVersion.V1_29);
    const mesh = new MeshSettings({ trustDomain: 'prod.example.com' });
    expect(new AmbientEgressWaypoint(chart, 'b', { namespace: 'b', mesh, istioVersion: IstioVersion.V1_28 }).istioVersion).toBe(IstioVersion.V1_28);
    const same = new MeshSettings({ istioVersion: IstioVersion.V1_30 });
    expect(new AmbientEgressWaypoint(chart, 'c', { namespace: 'c', mesh: same, istioVersion: IstioVersion.V1_30 }).istioVersion).toBe(IstioVersion.V1_30);
  });

  test('fails when the waypoint and the mesh settings name different releases', () => {
    const mesh = new MeshSettings({ istioVersion: IstioVersion.V1_31 });
    expectFails(
      () => new AmbientEgressWaypoint(chart, 'wp', { mesh, istioVersion: IstioVersion.V1_30 }),
      'test/wp',
      'istioVersion',
      "1.30 differs from the mesh's istioVersion 1.31: a mesh runs one Istio release; set it once in MeshSettings ({ istioVersion }) and drop it here",
    );
    expectFails(
      () => AmbientEgressWaypoint.fromAttributes(chart, 'wp2', { namespace: 'istio-egress', name: 'wp', mesh, istioVersion: IstioVersion.V1_32 }),
      'test/wp2',
      'istioVersion',
      "1.32 differs from the mesh's istioVersion 1.31",
    );
  });
});

describe('L7: AmbientEgressWaypoint: wrong JavaScript types', () => {
  test.each([
    ['props', 'egress', 'props', 'expected AmbientEgressWaypointProps (an object of options), got the string "egress"'],
    ['mesh', { mesh: { trustDomain: 'x' } }, 'mesh', 'expected a MeshSettings, got an object {"trustDomain":"x"}; make one with new MeshSettings'],
    ['istioVersion', { istioVersion: '1.31' }, 'istioVersion', 'expected an IstioVersion, got the string "1.31"; make one with IstioVersion.V1_32'],
    ['istiodWildcardTlsEnabled', { istiodWildcardTlsEnabled: 'yes' }, 'istiodWildcardTlsEnabled', 'expected true or false, got the string "yes"'],
    ['createNamespace', { createNamespace: 0 }, 'createNamespace', 'expected true or false, got the number 0'],
    ['spreadAcrossZones', { spreadAcrossZones: 'no' }, 'spreadAcrossZones', 'expected true or false, got the string "no"'],
    ['allowedNamespaces', { allowedNamespaces: 'shop' }, 'allowedNamespaces', 'expected a list, got the string "shop"; wrap it in a list: ["shop"]'],
    ['allowedNamespaces[0]', { allowedNamespaces: [null] }, 'allowedNamespaces[0]', 'a namespace must not be null; remove the empty entry'],
    ['allowedNamespaces[1]', { allowedNamespaces: ['shop', 7] }, 'allowedNamespaces[1]', 'invalid namespace 7: expected a string'],
    ['resources', { resources: '1Gi' }, 'resources', 'expected ContainerResources (an object of options), got the string "1Gi"'],
    ['resources.cpu.limit', { resources: { cpu: { limit: '2' } } }, 'resources.cpu.limit', 'expected a Cpu, got the string "2"; make one with Cpu.millis'],
    ['replicas', { replicas: 2 ** 31 }, 'replicas', '2147483648 must be a whole number >= 1'],
    ['hostExemptions', { hostExemptions: '*.com' }, 'hostExemptions', 'expected a list of HostExemptions, each with a host and a reason'],
    ['hostExemptions[0]', { hostExemptions: [null] }, 'hostExemptions[0]', 'expected a HostExemption with a host and a reason'],
  ])('fails for a wrong %s', (_what, props, field, fragment) => {
    expectFails(() => new AmbientEgressWaypoint(chart, 'wp', any(props)), 'test/wp', field, fragment);
  });

  test.each([
    ['attrs', 'istio-egress/waypoint', 'attrs', 'expected EgressWaypointAttributes (an object of options), got the string "istio-egress/waypoint"'],
    ['mesh', { namespace: 'istio-egress', name: 'wp', mesh: 'cluster.local' }, 'mesh', 'expected a MeshSettings, got the string "cluster.local"'],
    ['istioVersion', { namespace: 'istio-egress', name: 'wp', istioVersion: 30 }, 'istioVersion', 'expected an IstioVersion, got the number 30'],
    ['allowedNamespaces', { namespace: 'istio-egress', name: 'wp', allowedNamespaces: { shop: true } }, 'allowedNamespaces', 'expected a list, got an object {"shop":true}'],
  ])('fails for a wrong %s of an existing waypoint', (_what, attrs, field, fragment) => {
    expectFails(() => AmbientEgressWaypoint.fromAttributes(chart, 'wp', any(attrs)), 'test/wp', field, fragment);
  });

  const host = 'test/wp/api-example-com';
  test.each([
    ['options', 'tls', 'test/wp', 'options', 'expected EgressWaypointHostOptions (an object of options), got the string "tls"'],
    ['ports', { ports: EgressPort.tls(443) }, host, 'ports', 'expected a list, got an object {"number":443,"protocol":"TLS","name":"tls-443"}; give a list, each an EgressPort'],
    ['ports[0]', { ports: [443] }, host, 'ports[0]', 'expected an EgressPort, got the number 443; make one with EgressPort.tls'],
    ['ports[0] plain object', { ports: [{ number: 443, protocol: 'TLS' }] }, host, 'ports[0]', 'expected an EgressPort, got an object {"number":443,"protocol":"TLS"}'],
    ['resolution', { resolution: 'NONE' }, host, 'resolution', 'resolution "NONE" is not a WaypointHostResolution; use one of WaypointHostResolution.DNS'],
    ['tlsOrigination', { ports: [EgressPort.http(80)], tlsOrigination: 'SIMPLE' }, host, 'tlsOrigination', 'expected an OriginationTls, got the string "SIMPLE"; make one with OriginationTls.simple'],
    ['exportTo', { exportTo: '*' }, host, 'exportTo', 'expected a list, got the string "*"; wrap it in a list: ["*"]'],
    ['exportTo[1]', { exportTo: ['.', 42] }, host, 'exportTo[1]', 'expected a string such as "shop", got the number 42'],
    ['namespace', { namespace: ['shop'] }, host, 'namespace', 'invalid namespace ["shop"]: expected a string'],
  ])('fails for a wrong addHost %s', (_what, options, path, field, fragment) => {
    const waypoint = new AmbientEgressWaypoint(chart, 'wp');
    expectFails(() => waypoint.addHost('api.example.com', any(options)), path, field, fragment);
  });

  test('fails for a host that is not a string', () => {
    const waypoint = new AmbientEgressWaypoint(chart, 'wp');
    expectFails(() => waypoint.addHost(any(['api.example.com'])), 'test/wp', 'host', 'invalid host ["api.example.com"]: a host must be a string such as "api.example.com"');
  });

  test.each([
    ['options', 'admin', 'rule "r"', 'expected WaypointAllowOptions (an object of options), got the string "admin"'],
    ['identities', { identities: ADMIN }, 'rule "r".identities', 'expected a list, got an object {"namespace":"shop","serviceAccountName":"admin"}; give a list, each a WorkloadIdentity'],
    ['identities[0]', { identities: [{ namespace: 'shop' }] }, 'rule "r".identities[0]', 'expected a WorkloadIdentity, got an object {"namespace":"shop"}; make one with WorkloadIdentity.serviceAccount'],
    ['ports', { identities: [ADMIN], ports: 443 }, 'rule "r".ports', 'expected a list, got the number 443'],
    ['methods', { identities: [ADMIN], methods: 'GET' }, 'rule "r".methods', 'expected a list, got the string "GET"; wrap it in a list: ["GET"]'],
    ['paths', { identities: [ADMIN], paths: '/get' }, 'rule "r".paths', 'expected a list, got the string "/get"'],
    ['paths[0]', { identities: [ADMIN], paths: [7] }, 'rule "r".paths[0]', 'expected a string such as "/get", got the number 7'],
  ])('fails for a wrong allow %s', (_what, options, field, fragment) => {
    const waypoint = new AmbientEgressWaypoint(chart, 'wp');
    const h = waypoint.addHost('api.example.com', { ports: [EgressPort.http(80)] });
    expectFails(() => h.allow('r', any(options)), host, field, fragment);
  });

  test('fails for allow props on the waypoint that are not an object', () => {
    const waypoint = new AmbientEgressWaypoint(chart, 'wp');
    expectFails(() => waypoint.allow('r', any('api.example.com')), 'test/wp', 'rule "r"', 'expected WaypointAllowProps (an object of options), got the string "api.example.com"');
  });
});

describe('L7: EgressNetworkPolicy and EgressGatewayNetworkPolicy: wrong JavaScript types', () => {
  test.each([
    ['props', 'shop', 'props', 'expected EgressNetworkPolicyProps (an object of options), got the string "shop"'],
    ['mesh', { mesh: {} }, 'mesh', 'expected a MeshSettings, got an object {}; make one with new MeshSettings'],
    ['dataplane', { dataplane: 'ambient' }, 'dataplane', 'dataplane "ambient" is not a DataplaneMode; use one of DataplaneMode.SIDECAR, DataplaneMode.AMBIENT'],
    ['dns', { dns: DnsResolver.kubeDns() }, 'dns', 'expected a list, got an object {"kind":"pods","port":53'],
    ['dns[0]', { dns: [{ port: 53, namespace: 'kube-system' }] }, 'dns[0]', 'expected a DnsResolver, got an object {"port":53,"namespace":"kube-system"}; make one with DnsResolver.kubeDns'],
    ['egressPaths', { egressPaths: 'gateway' }, 'egressPaths', 'expected a list, got the string "gateway"'],
    ['egressPaths[0]', { egressPaths: [{ namespace: 'istio-egress' }] }, 'egressPaths[0]', 'expected an IEgressPath, got an object {"namespace":"istio-egress"} (no toEgressPathConfig)'],
    ['waypoints', { waypoints: 15008 }, 'waypoints', 'expected a list, got the number 15008'],
    ['waypoints[0]', { dataplane: DataplaneMode.AMBIENT, waypoints: ['waypoint'] }, 'waypoints[0]', 'expected an IEgressPath, got the string "waypoint" (no toEgressPathConfig)'],
  ])('fails for a wrong EgressNetworkPolicy %s', (_what, props, field, fragment) => {
    const given = typeof props === 'string' ? props : { namespace: 'shop', ...props };
    expectFails(() => new EgressNetworkPolicy(chart, 'np', any(given)), 'test/np', field, fragment);
  });

  test('fails for a path given to allowEgressPath that is not an IEgressPath', () => {
    const np = new EgressNetworkPolicy(chart, 'np', { namespace: 'shop' });
    expectFails(() => np.allowEgressPath(any(null)), 'test/np', 'allowEgressPath #0', 'expected an IEgressPath, got null (no toEgressPathConfig)');
  });

  const gatewayPath = () => new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'] });
  test.each([
    ['paths', () => ({ paths: 'wc' }), 'paths', 'expected a list, got the string "wc"; wrap it in a list: ["wc"]'],
    ['paths[0]', () => ({ paths: [42] }), 'paths[0]', 'expected an IEgressPath, got the number 42 (no toEgressPathConfig)'],
    ['mesh', () => ({ paths: [gatewayPath()], mesh: 'istio-system' }), 'mesh', 'expected a MeshSettings, got the string "istio-system"'],
    ['restrictIngress', () => ({ paths: [gatewayPath()], restrictIngress: 'false' }), 'restrictIngress', 'expected true or false, got the string "false"'],
    ['ipv6', () => ({ paths: [gatewayPath()], ipv6: 1 }), 'ipv6', 'expected true or false, got the number 1'],
    ['externalPorts[0]', () => ({ paths: [gatewayPath()], externalPorts: [null] }), 'externalPorts[0]', 'a port number such as 443 must not be null; remove the empty entry'],
    ['excludeCidrs[0]', () => ({ paths: [gatewayPath()], excludeCidrs: [undefined] }), 'excludeCidrs[0]', 'must not be undefined; remove the empty entry'],
    ['internalDestinations[0]', () => ({ paths: [gatewayPath()], internalDestinations: ['10.0.0.0/8'] }), 'internalDestinations[0]', 'expected InternalDestination (an object of options), got the string "10.0.0.0/8"'],
    ['dns[0]', () => ({ paths: [gatewayPath()], dns: ['10.96.0.10'] }), 'dns[0]', 'expected a DnsResolver, got the string "10.96.0.10"'],
  ])('fails for a wrong EgressGatewayNetworkPolicy %s', (_what, props, field, fragment) => {
    expectFails(() => new EgressGatewayNetworkPolicy(chart, 'gnp', any(props())), 'test/gnp', field, fragment);
  });

  test('fails for props that are not an object, and a client that is not an EgressNetworkPolicy', () => {
    expectFails(() => new EgressGatewayNetworkPolicy(chart, 'a', any('wc')), 'test/a', 'paths', 'at least one egress path is required');
    const policy = new EgressGatewayNetworkPolicy(chart, 'b', { paths: [gatewayPath()] });
    expectFails(() => policy.allowClient(any({ namespace: 'shop' })), 'test/b', 'allowClient #0', 'expected an EgressNetworkPolicy, got an object {"namespace":"shop"}; make one with new EgressNetworkPolicy');
  });
});

describe('L7: TlsOriginationEgress: wrong JavaScript types', () => {
  const base = { hosts: ['api.example.com'], allowFrom: [WorkloadIdentity.allInNamespace('shop')] };
  test.each([
    ['props', 'api.example.com', 'props', 'expected TlsOriginationEgressProps (an object of options), got the string "api.example.com"'],
    ['tls', { ...base, tls: 'SIMPLE' }, 'tls', 'expected an OriginationTls, got the string "SIMPLE"; make one with OriginationTls.simple'],
    ['tls object', { ...base, tls: { mode: 'SIMPLE' } }, 'tls', 'expected an OriginationTls, got an object {"mode":"SIMPLE"}'],
    ['gateway', { ...base, gateway: { namespace: 'istio-egress' } }, 'gateway', 'expected an IEgressGateway, got an object {"namespace":"istio-egress"} (no findPort, claimPort'],
    ['mesh', { ...base, mesh: { trustDomain: 'x' } }, 'mesh', 'expected a MeshSettings, got an object {"trustDomain":"x"}'],
    ['gatewayPort', { ...base, gatewayPort: '80' }, 'gatewayPort', 'gateway port "80" must be an integer in the range 1..65535'],
    ['httpPort', { ...base, httpPort: 0 }, 'httpPort', 'port number 0 must be an integer in the range 1..65535'],
    ['tlsPort', { ...base, tlsPort: 65536 }, 'tlsPort', 'port number 65536 must be an integer in the range 1..65535'],
    ['accessLogging', { ...base, accessLogging: 'on' }, 'accessLogging', 'expected true or false, got the string "on"'],
    ['hosts[0]', { ...base, hosts: [7] }, 'hosts[0]', 'expected a string such as "api.example.com", got the number 7'],
  ])('fails for a wrong %s', (_what, props, field, fragment) => {
    expectFails(() => new TlsOriginationEgress(chart, 'tls', any(props)), 'test/tls', field, fragment);
  });

  test('fails for addHost options that are not an object, or a tls that is not an OriginationTls', () => {
    const egress = new TlsOriginationEgress(chart, 'tls', base);
    expectFails(() => egress.addHost('b.example.com', any('SIMPLE')), 'test/tls', 'addHost "b.example.com".options', 'expected OriginationHostOptions (an object of options), got the string "SIMPLE"');
    expectFails(() => egress.addHost('c.example.com', any({ tls: {} })), 'test/tls', 'addHost "c.example.com".tls', 'expected an OriginationTls, got an object {}');
    egress.addHost('d.example.com', { tls: OriginationTls.simple() });
    expect(egress.hosts).toEqual(['api.example.com', 'd.example.com']);
  });
});

describe('L7: boundary property for the ambient and network-policy constructs: a located error or a valid synth, never a TypeError', () => {
  const waypointKeys = [
    'namespace', 'name', 'createNamespace', 'allowedNamespaces', 'istioVersion', 'istiodWildcardTlsEnabled', 'replicas', 'autoscaling',
    'minAvailable', 'resources', 'spreadAcrossZones', 'mesh', 'hostExemptions',
  ];
  test('fails only with messages naming test/wp and the field (AmbientEgressWaypoint)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...waypointKeys), fc.anything({ withNullPrototype: false }), (key, value) => {
        const c = Testing.chart();
        try {
          new AmbientEgressWaypoint(c, 'wp', { [key]: value } as any).addHost('api.example.com').allow('admin', { identities: [ADMIN] });
        } catch (e) {
          expect(e).not.toBeInstanceOf(TypeError);
          expect((e as Error).message).toMatch(new RegExp(`^test/wp: ${key}[\\[.:]`));
          return;
        }
        try {
          synthValid(c);
        } catch (e) {
          // an exemption for a host the waypoint does not have is reported at synth, with path and field
          expect(key).toBe('hostExemptions');
          expect((e as Error).message).toMatch(/\[test\/wp\] hostExemptions\[\d+\]: /);
        }
      }),
      { numRuns: 300 },
    );
  });

  const hostKeys = ['ports', 'resolution', 'tlsOrigination', 'namespace', 'name', 'exportTo'];
  test('fails only with messages naming the host (or the waypoint) and the field (addHost options)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...hostKeys), fc.anything({ withNullPrototype: false }), (key, value) => {
        const c = Testing.chart();
        const waypoint = new AmbientEgressWaypoint(c, 'wp');
        try {
          waypoint.addHost('api.example.com', { [key]: value } as any).allow('admin', { identities: [ADMIN] });
        } catch (e) {
          expect(e).not.toBeInstanceOf(TypeError);
          expect((e as Error).message).toMatch(new RegExp(`^test/wp(/[a-z0-9-]+)?: (${key}|ports|name)[\\[.:]`));
          return;
        }
        synthValid(c);
      }),
      { numRuns: 300 },
    );
  });

  const policyKeys = ['name', 'podLabels', 'dataplane', 'dns', 'egressPaths', 'waypoints', 'mesh'];
  test('fails only with messages naming test/np and the field (EgressNetworkPolicy)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...policyKeys), fc.anything({ withNullPrototype: false }), (key, value) => {
        const c = Testing.chart();
        try {
          new EgressNetworkPolicy(c, 'np', { namespace: 'shop', [key]: value } as any);
        } catch (e) {
          expect(e).not.toBeInstanceOf(TypeError);
          expect((e as Error).message).toMatch(new RegExp(`^test/np: ${key}[\\[.:]`));
          return;
        }
        synthValid(c);
      }),
      { numRuns: 300 },
    );
  });

  const gatewayPolicyKeys = ['paths', 'name', 'externalPorts', 'internalDestinations', 'excludeCidrs', 'ipv6', 'restrictIngress', 'dns', 'mesh'];
  test('fails only with messages naming test/gnp and the field (EgressGatewayNetworkPolicy)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...gatewayPolicyKeys), fc.anything({ withNullPrototype: false }), (key, value) => {
        const c = Testing.chart();
        const wc = new WildcardEgressGateway(c, 'wc', { hosts: ['*.example.com'] });
        try {
          const policy = new EgressGatewayNetworkPolicy(c, 'gnp', { paths: [wc], [key]: value } as any);
          if (policy.restrictIngress) {
            policy.allowClientNamespace('shop');
          }
        } catch (e) {
          expect(e).not.toBeInstanceOf(TypeError);
          expect((e as Error).message).toMatch(new RegExp(`^test/gnp: ${key}[\\[.:]`));
          return;
        }
        synthValid(c);
      }),
      { numRuns: 300 },
    );
  });
});
