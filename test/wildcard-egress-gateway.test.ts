import { Duration, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { WildcardEgressExample } from '../examples/wildcard-egress/chart';
import { DnsLookupFamily, EgressGateway, EgressPort, TlsOriginationEgress, WildcardEgressGateway, WorkloadIdentity } from '../src';
import { synthValid } from './schema';

const byKind = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: any[], kind: string, name: string) => {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0];
};

/** Where the allow-list appears: the four places the issue names. */
function hostLists(objects: any[], name = 'wildcard-egress') {
  const vs = named(objects, 'VirtualService', name);
  const se = named(objects, 'ServiceEntry', name);
  const ef = named(objects, 'EnvoyFilter', `${name}-sni-forwarder`);
  const listeners = ef.spec.configPatches.filter((p: any) => p.applyTo === 'LISTENER');
  return {
    virtualServiceHosts: vs.spec.hosts,
    sniHosts: vs.spec.tls.map((t: any) => t.match[0].sniHosts),
    serviceEntryHosts: se.spec.hosts,
    serverNames: listeners.map((l: any) => l.patch.value.filter_chains[0].filter_chain_match.server_names),
  };
}

describe('WildcardEgressGateway | the blog scenario (examples/wildcard-egress)', () => {
  const objects = synthValid(new WildcardEgressExample(Testing.app(), 'wildcard-egress'));

  test('snapshot', () => {
    expect(objects).toMatchSnapshot();
  });

  test('has every resource kind of the blog, or its replacement', () => {
    // blog: Service, Deployment, Role, RoleBinding, Gateway, VirtualService, DestinationRule, ServiceEntry, Telemetry,
    // EnvoyFilter. Role/RoleBinding are not needed (ISTIO_MUTUAL reads no Secret); PeerAuthentication,
    // AuthorizationPolicy, ServiceAccount and PodDisruptionBudget are added.
    expect([...new Set(objects.map((o) => o.kind))].sort()).toEqual([
      'AuthorizationPolicy', 'Deployment', 'DestinationRule', 'EnvoyFilter', 'Gateway', 'Namespace', 'PeerAuthentication',
      'PodDisruptionBudget', 'Service', 'ServiceAccount', 'ServiceEntry', 'Telemetry', 'VirtualService',
    ]);
  });

  test('the host list is identical in the VirtualService, its SNI match, the ServiceEntry and the EnvoyFilter', () => {
    const lists = hostLists(objects);
    expect(lists.virtualServiceHosts).toEqual(['*.wikipedia.org']);
    expect(lists.sniHosts).toEqual([['*.wikipedia.org']]);
    expect(lists.serviceEntryHosts).toEqual(['*.wikipedia.org']);
    expect(lists.serverNames).toEqual([['*.wikipedia.org']]);
  });

  test('every EnvoyFilter selects only this gateway\'s pods, and the listener patch only its port', () => {
    const gatewayLabels = byKind(objects, 'Deployment')[0].spec.template.metadata.labels;
    for (const ef of byKind(objects, 'EnvoyFilter')) {
      expect(ef.metadata.namespace).toBe('istio-egress');
      expect(ef.spec.workloadSelector.labels).toEqual({ 'cdk8s-istio-egress/gateway': 'egress-gateway.istio-egress' });
      for (const [k, v] of Object.entries(ef.spec.workloadSelector.labels)) {
        expect(gatewayLabels[k]).toBe(v);
      }
      expect(ef.spec.priority).toBe(10);
      expect(ef.spec.configPatches.every((p: any) => p.match.context === 'GATEWAY')).toBe(true);
      const merge = ef.spec.configPatches.find((p: any) => p.applyTo === 'NETWORK_FILTER');
      expect(merge.match.listener).toEqual({ portNumber: 8443, filterChain: { filter: { name: 'envoy.filters.network.tcp_proxy' } } });
      expect(merge.patch.value.typed_config.cluster).toBe('wildcard-egress_sni_cluster_443');
    }
  });

  test('the SNI forwarder is bounded and logs', () => {
    const ef = byKind(objects, 'EnvoyFilter')[0];
    const listener = ef.spec.configPatches.find((p: any) => p.applyTo === 'LISTENER').patch.value;
    expect(listener.internal_listener).toEqual({});
    const [dfp, tcp] = listener.filter_chains[0].filters;
    expect(dfp.typed_config.port_value).toBe(443);
    expect(dfp.typed_config.dns_cache_config).toEqual({
      name: 'wildcard-egress_dns_cache',
      dns_lookup_family: 'V4_ONLY',
      // names are resolved as given, never through the pod's search domains
      typed_dns_resolver_config: {
        name: 'envoy.network.dns_resolver.cares',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig',
          'dns_resolver_options': { no_default_search_domain: true },
        },
      },
      max_hosts: 1024,
      host_ttl: '300s',
      dns_cache_circuit_breaker: { max_pending_requests: 1024 },
    });
    const cluster = ef.spec.configPatches.find((p: any) => p.patch.value.name === 'wildcard-egress_dynamic_forward_proxy_cluster').patch.value;
    // the cluster and the filter must share one cache configuration
    expect(cluster.cluster_type.typed_config.dns_cache_config).toEqual(dfp.typed_config.dns_cache_config);
    expect(tcp.typed_config.cluster).toBe('wildcard-egress_dynamic_forward_proxy_cluster');
    // both added clusters get Istio's own limits, not Envoy's 1024-connection defaults
    for (const added of ef.spec.configPatches.filter((p: any) => p.applyTo === 'CLUSTER').map((p: any) => p.patch.value)) {
      expect(added.connect_timeout).toBe('10s');
      expect(added.circuit_breakers.thresholds[0].max_connections).toBe(4294967295);
      expect(added.circuit_breakers.thresholds[0].max_pending_requests).toBe(4294967295);
    }
    expect(tcp.typed_config.access_log).toHaveLength(1);
  });

  test('sidecars reach the gateway over Istio mTLS, and the gateway accepts only that', () => {
    // the gateway's one client rule, shared by every construct that routes through it
    const dr = named(objects, 'DestinationRule', 'egress-gateway-clients');
    expect(dr.spec.host).toBe('egress-gateway.istio-egress.svc.cluster.local');
    expect(dr.spec.exportTo).toEqual(['.', 'default']);
    expect(dr.spec.trafficPolicy).toEqual({ tls: { mode: 'ISTIO_MUTUAL' } });
    expect(dr.spec.subsets).toEqual([
      {
        name: 'wildcard-egress',
        trafficPolicy: { portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'ISTIO_MUTUAL', sni: 'egress-gateway.istio-egress.svc.cluster.local' } }] },
      },
    ]);
    const gw = named(objects, 'Gateway', 'wildcard-egress');
    expect(gw.spec.servers).toEqual([
      {
        port: { number: 443, name: 'tls-443-wildcard-egress', protocol: 'TLS' },
        hosts: ['./egress-gateway.istio-egress.svc.cluster.local'],
        tls: { mode: 'ISTIO_MUTUAL' },
      },
    ]);
    expect(byKind(objects, 'PeerAuthentication')[0].spec.mtls).toEqual({ mode: 'STRICT' });
    const ap = named(objects, 'AuthorizationPolicy', 'wildcard-egress');
    expect(ap.spec).toEqual({
      selector: { matchLabels: { 'cdk8s-istio-egress/gateway': 'egress-gateway.istio-egress' } },
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { principals: ['cluster.local/ns/default/sa/sleep'] } }],
          to: [{ operation: { ports: ['8443'] } }],
          // only this construct's server: not another Gateway's server bound to the same pods
          when: [{ key: 'connection.sni', values: ['egress-gateway.istio-egress.svc.cluster.local'] }],
        },
      ],
    });
  });

  test('routes: mesh -> gateway by SNI; the gateway listener route names an allowed, registered host', () => {
    const mesh = named(objects, 'VirtualService', 'wildcard-egress');
    expect(mesh.spec.gateways).toEqual(['mesh']);
    expect(mesh.spec.exportTo).toEqual(['.', 'default']);
    expect(mesh.spec.tls[0].route).toEqual([{ destination: { host: 'egress-gateway.istio-egress.svc.cluster.local', subset: 'wildcard-egress', port: { number: 443 } } }]);
    const gw = named(objects, 'VirtualService', 'wildcard-egress-gateway');
    expect(gw.spec.gateways).toEqual(['wildcard-egress']);
    expect(gw.spec.exportTo).toEqual(['.']);
    const destination = gw.spec.tcp[0].route[0].destination.host;
    expect(destination).not.toBe('dummy.local');
    expect(named(objects, 'ServiceEntry', 'wildcard-egress').spec.hosts).toContain(destination);
  });

  test('access logging is scoped to the gateway pods, never mesh-wide', () => {
    const telemetry = byKind(objects, 'Telemetry');
    expect(telemetry).toHaveLength(1);
    expect(telemetry[0].metadata.namespace).toBe('istio-egress');
    expect(telemetry[0].spec.selector.matchLabels).toEqual({ 'cdk8s-istio-egress/gateway': 'egress-gateway.istio-egress' });
  });

  test('nothing is placed in the root namespace', () => {
    expect(objects.filter((o) => o.metadata.namespace === 'istio-system')).toEqual([]);
  });
});

describe('WildcardEgressGateway | options', () => {
  test('snapshot: several hosts and ports, addHost, an existing Helm gateway, tuned DNS cache, no logging', () => {
    // GIVEN
    const chart = Testing.chart();
    const helm = EgressGateway.fromAttributes(chart, 'helm', {
      namespace: 'istio-egress',
      serviceName: 'istio-egressgateway',
      selectorLabels: { istio: 'egressgateway' },
      ports: [EgressPort.tls(443, { name: 'tls' }), EgressPort.tls(9443, { name: 'tls-mqtt' })],
    });
    // WHEN
    const wildcard = new WildcardEgressGateway(chart, 'wc', {
      gateway: helm,
      name: 'partners',
      hosts: ['api.github.com', '*.wikipedia.org'],
      ports: [443, 9443],
      allowFrom: [WorkloadIdentity.allInNamespace('shop'), WorkloadIdentity.serviceAccount('billing', 'invoicer'), WorkloadIdentity.allInNamespace('istio-egress'), WorkloadIdentity.allInNamespace('ops')],
      accessLogging: false,
      dnsCache: { maxHosts: 256, maxPendingRequests: 64, hostTtl: Duration.minutes(1), lookupFamily: DnsLookupFamily.ALL },
      envoyFilterPriority: 20,
      proxyVersion: '^1\\.30.*',
    });
    wildcard.addHost('*.mqtt.example.com');
    wildcard.addHost('api.github.com'); // already listed: no change
    const objects = synthValid(chart);
    // THEN
    expect(objects).toMatchSnapshot();
    expect(wildcard.hosts).toEqual(['*.mqtt.example.com', '*.wikipedia.org', 'api.github.com']);
    const lists = hostLists(objects, 'partners');
    expect(lists).toEqual({
      virtualServiceHosts: wildcard.hosts,
      sniHosts: [wildcard.hosts, wildcard.hosts],
      serviceEntryHosts: wildcard.hosts,
      serverNames: [wildcard.hosts, wildcard.hosts],
    });
    expect(byKind(objects, 'Telemetry')).toHaveLength(0);
    const ef = named(objects, 'EnvoyFilter', 'partners-sni-forwarder');
    expect(ef.spec.priority).toBe(20);
    expect(ef.spec.configPatches.every((p: any) => p.match.proxy.proxyVersion === '^1\\.30.*')).toBe(true);
    // the Helm gateway's pods listen on the Service ports themselves (no targetPort given)
    expect(ef.spec.configPatches.filter((p: any) => p.applyTo === 'NETWORK_FILTER').map((p: any) => p.match.listener.portNumber)).toEqual([443, 9443]);
    // the gateway's own namespace is '.', never listed twice
    expect(named(objects, 'VirtualService', 'partners').spec.exportTo).toEqual(['.', 'billing', 'ops', 'shop']);
    expect(named(objects, 'AuthorizationPolicy', 'partners').spec.rules[0]).toEqual({
      from: [{ source: { principals: ['cluster.local/ns/billing/sa/invoicer'] } }, { source: { namespaces: ['istio-egress', 'ops', 'shop'] } }],
      to: [{ operation: { ports: ['443', '9443'] } }],
      when: [{ key: 'connection.sni', values: ['istio-egressgateway.istio-egress.svc.cluster.local'] }],
    });
  });

  test('defaults: a new gateway with one TLS port per application port, any in-mesh client', () => {
    const chart = Testing.chart();
    const wildcard = new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'], ports: [443, 8883] });
    const objects = synthValid(chart);
    expect(wildcard.gateway.ports.map((p) => [p.number, p.targetPort])).toEqual([[443, 8443], [8883, 8883]]);
    expect(byKind(objects, 'Deployment')).toHaveLength(1);
    expect(named(objects, 'VirtualService', 'wildcard-egress').spec.exportTo).toEqual(['*']);
    expect(named(objects, 'AuthorizationPolicy', 'wildcard-egress').spec.rules[0].from).toEqual([{ source: { principals: ['*'] } }]);
    expect(wildcard.allowedIdentities.map(String)).toEqual(['any in-mesh identity']);
  });

  test('two constructs can share a gateway on different ports', () => {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443), EgressPort.tls(9443)] });
    new WildcardEgressGateway(chart, 'a', { gateway, name: 'a', hosts: ['*.a.example'], ports: [443] });
    new WildcardEgressGateway(chart, 'b', { gateway, name: 'b', hosts: ['*.b.example'], ports: [9443] });
    const objects = synthValid(chart);
    expect(byKind(objects, 'PeerAuthentication')).toHaveLength(1);
    expect(byKind(objects, 'Telemetry')).toHaveLength(1);
    expect(byKind(objects, 'EnvoyFilter').map((e) => e.metadata.name)).toEqual(['a-sni-forwarder', 'b-sni-forwarder']);
    // one client rule with both subsets: Istio would not merge two rules for the gateway with different exportTo
    expect(byKind(objects, 'DestinationRule').map((d) => [d.metadata.name, d.spec.subsets.map((x: any) => x.name)])).toEqual([['egress-gateway-clients', ['a', 'b']]]);
  });

  test('the host list is the same everywhere for any allow-list (property)', () => {
    const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,8}[a-z0-9])?$/);
    const host = fc.tuple(fc.boolean(), fc.array(label, { minLength: 2, maxLength: 3 })).map(([wild, ls]) => (wild ? '*.' : '') + ls.join('.'));
    fc.assert(
      fc.property(fc.uniqueArray(host, { minLength: 1, maxLength: 8 }), (hosts) => {
        const chart = Testing.chart();
        const wildcard = new WildcardEgressGateway(chart, 'wc');
        const accepted: string[] = [];
        for (const h of hosts) {
          try {
            wildcard.addHost(h);
            accepted.push(h);
          } catch (e) {
            expect((e as Error).message).toMatch(/^test\/wc: addHost\(".*"\): invalid host ".*": it overlaps/);
          }
        }
        const objects = Testing.synth(chart);
        const lists = hostLists(objects);
        expect(lists.virtualServiceHosts).toEqual([...accepted].sort());
        expect(lists.sniHosts).toEqual([lists.virtualServiceHosts]);
        expect(lists.serviceEntryHosts).toEqual(lists.virtualServiceHosts);
        expect(lists.serverNames).toEqual([lists.virtualServiceHosts]);
      }),
      { numRuns: 50 },
    );
  });
});

describe('WildcardEgressGateway | bad input', () => {
  test('fails at synth with an empty allow-list', () => {
    const chart = Testing.chart();
    new WildcardEgressGateway(chart, 'wc');
    expect(() => Testing.synth(chart)).toThrow(
      '[test/wc] hosts: the allow-list is empty, so the gateway would forward nothing; pass hosts or call addHost("*.example.com")',
    );
  });

  test.each([
    [{ hosts: ['*foo.example.com'] }, 'test/wc: hosts[0]: invalid host "*foo.example.com": a wildcard must be the whole leftmost label, as in "*.example.com"'],
    [{ hosts: ['api.example.com', 'foo.*.example.com'] }, 'test/wc: hosts[1]: invalid host "foo.*.example.com": a wildcard is only allowed as the whole leftmost label'],
    [{ hosts: ['*'] }, 'test/wc: hosts[0]: invalid host "*": Istio cannot route every host from sidecars (ServiceEntry and mesh VirtualService hosts reject "*"); list the domains you need, e.g. "*.example.com"'],
    [{ hosts: ['*.a.com', 'b.a.com'] }, 'test/wc: hosts[1]: invalid host "b.a.com": it overlaps "*.a.com"'],
    [{ hosts: ['example'] }, 'test/wc: hosts[0]: invalid host "example": short names are not allowed'],
    [{ hosts: ['a.com'], ports: [0] }, 'test/wc: ports[0]: port number 0 must be an integer in the range 1..65535'],
    [{ hosts: ['a.com'], ports: [70000] }, 'test/wc: ports[0]: port number 70000 must be an integer in the range 1..65535'],
    [{ hosts: ['a.com'], ports: [443, 443] }, 'test/wc: ports[1]: port 443 is already listed at ports[0]; list each port once'],
    [{ hosts: ['a.com'], ports: [] }, 'test/wc: ports: at least one TLS port is required, e.g. [443]'],
    [{ hosts: ['a.com'], name: 'Wild.Card' }, 'test/wc: name: invalid name "Wild.Card"'],
    [{ hosts: ['a.com'], allowFrom: [] }, 'test/wc: allowFrom: an empty list would allow nobody; omit it to allow any in-mesh workload, or list identities'],
    [{ hosts: ['a.com'], allowFrom: [null] }, 'test/wc: allowFrom[0]: a WorkloadIdentity must not be null; remove the empty entry'],
    [{ hosts: ['a.com'], dnsCache: { maxHosts: 0 } }, 'test/wc: dnsCache.maxHosts: maxHosts 0 is out of range (a protobuf uint32); use a whole number in 1..4294967295'],
    [{ hosts: ['a.com'], dnsCache: { maxPendingRequests: 1.5 } }, 'test/wc: dnsCache.maxPendingRequests: maxPendingRequests 1.5 must be a whole number in the range 1..4294967295'],
    [{ hosts: ['a.com'], dnsCache: { hostTtl: Duration.millis(10) } }, 'test/wc: dnsCache.hostTtl: hostTtl of 10 ms is too short; use at least Duration.seconds(1)'],
    [{ hosts: ['a.com'], envoyFilterPriority: 1.5 }, 'test/wc: envoyFilterPriority: priority 1.5 must be a whole number in the range -2147483648..2147483647'],
    [{ hosts: ['a.com'], proxyVersion: '1.30[' }, 'test/wc: proxyVersion: regular expression "1.30[" is not valid RE2 (Go regexp, which Istio compiles it with): missing closing "]"'],
  ])('fails for %j', (props, message) => {
    const chart = Testing.chart();
    expect(() => new WildcardEgressGateway(chart, 'wc', props as any)).toThrow(message);
  });

  test('fails for a gateway without a matching TLS port, or a port another construct uses', () => {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443), EgressPort.http(80)] });
    expect(() => new WildcardEgressGateway(chart, 'a', { gateway, hosts: ['a.com'], ports: [8443] })).toThrow(
      'test/a: ports[0]: egress gateway istio-egress/egress-gateway has no port 8443 (it has 443, 80); add it to the gateway\'s ports',
    );
    expect(() => new WildcardEgressGateway(chart, 'b', { gateway, hosts: ['a.com'], ports: [80] })).toThrow(
      'test/b: ports[0]: gateway port HTTP 80 (http-80) is not TLS; the gateway needs a TLS port 80 (e.g. EgressPort.tls(80))',
    );
    new WildcardEgressGateway(chart, 'c', { gateway, name: 'c', hosts: ['a.com'] });
    expect(() => new WildcardEgressGateway(chart, 'd', { gateway, name: 'd', hosts: ['b.com'] })).toThrow(
      'test/d: ports[0]: port 443 of egress gateway istio-egress/egress-gateway is already configured by "test/c"',
    );
  });

  test('fails for a bad addHost with the method in the message', () => {
    const chart = Testing.chart();
    const wildcard = new WildcardEgressGateway(chart, 'wc', { hosts: ['*.example.com'] });
    expect(() => wildcard.addHost('api.example.com')).toThrow(
      'test/wc: addHost("api.example.com"): invalid host "api.example.com": it overlaps "*.example.com" ("*.example.com" already matches "api.example.com")',
    );
    expect(() => wildcard.addHost('API.example.org')).toThrow('test/wc: addHost("API.example.org"): invalid host "API.example.org": label "API" contains upper-case letters');
  });

  test('fails for bad gateway settings (namespace, name, replicas, disruption budget) of the gateway it uses', () => {
    const chart = Testing.chart();
    expect(() => new EgressGateway(chart, 'gw1', { namespace: 'Egress' })).toThrow('test/gw1: namespace: invalid namespace "Egress"');
    expect(() => new EgressGateway(chart, 'gw2', { name: 'egress_gw' })).toThrow('test/gw2: name: invalid gateway name "egress_gw"');
    expect(() => new EgressGateway(chart, 'gw3', { replicas: 0 })).toThrow('test/gw3: replicas: 0 must be a whole number >= 1');
    expect(() => new EgressGateway(chart, 'gw4', { replicas: 1, minAvailable: 1 })).toThrow('test/gw4: minAvailable: 1 must be below replicas (1)');
  });
});

describe('WildcardEgressGateway | as an egress path', () => {
  test('gives the gateway pods, the listener pod ports it uses and the external ports', () => {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443), EgressPort.tls(9443), EgressPort.http(80)] });
    const wildcard = new WildcardEgressGateway(chart, 'wc', { gateway, hosts: ['*.example.com'], ports: [443, 9443] });
    expect(wildcard.toEgressPathConfig()).toEqual({
      namespace: 'istio-egress',
      podLabels: gateway.selectorLabels,
      podPorts: [8443, 9443],
      externalPorts: [443, 9443],
    });
    expect(gateway.toEgressPathConfig()).toEqual({ namespace: 'istio-egress', podLabels: gateway.selectorLabels, podPorts: [8443, 9443, 8080], externalPorts: [] });
  });
});

describe('WildcardEgressGateway | hosts routed by two constructs', () => {
  test('fails when another construct of the app already routes the host from sidecars (IST0109)', () => {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.tls(443), EgressPort.tls(9443), EgressPort.http(80)] });
    new WildcardEgressGateway(chart, 'a', { gateway, name: 'a', hosts: ['*.example.com'], ports: [443] });
    expect(() => new WildcardEgressGateway(chart, 'b', { gateway, name: 'b', hosts: ['*.example.com'], ports: [9443] })).toThrow(
      'test/b: hosts[0]: host "*.example.com" is already routed from sidecars by "test/a"; Istio keeps only one mesh VirtualService per host (IST0109) ' +
        'and would drop one of the routes, so route it through one construct only',
    );
    // a TLS origination of the same exact host conflicts too
    new WildcardEgressGateway(chart, 'c', { gateway: new EgressGateway(chart, 'gw2', { name: 'gw2' }), name: 'c', hosts: ['api.partner.example'] });
    expect(() => new TlsOriginationEgress(chart, 'o', { gateway, hosts: ['api.partner.example'], allowFrom: [WorkloadIdentity.anyInMesh()] })).toThrow(
      'test/o: hosts[0]: host "api.partner.example" is already routed from sidecars by "test/c"',
    );
    // different apps never meet
    const other = Testing.chart();
    expect(() => new WildcardEgressGateway(other, 'b', { hosts: ['*.example.com'] })).not.toThrow();
  });
});
