/**
 * Bad input at the boundary (issue #11 item 6, review finding L7): wrong JavaScript types, values the API server or
 * Istio would refuse after synthesis, and factory errors. Every case asserts the construct path, the field and a key
 * fragment of the message (not the whole text).
 */
import { Chart, Duration, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { DnsLookupFamily, EgressGateway, EgressPort, MeshSettings, TlsOriginationEgress, WildcardEgressGateway, WorkloadIdentity } from '../src';
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
    ['resources.cpu.request', { resources: { cpu: { request: '100m' } } }, 'resources.cpu.request', 'expected a Cpu, got the string "100m"; make one with Cpu.millis (cdk8s-plus)'],
    ['resources.memory.limit', { resources: { memory: { limit: 1024 } } }, 'resources.memory.limit', 'expected a Size, got the number 1024; make one with Size.mebibytes (cdk8s)'],
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
