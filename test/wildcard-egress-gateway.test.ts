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
      expect(merge.match.listener).toEqual({
        portNumber: 8443,
        filterChain: { sni: 'egress-gateway.istio-egress.svc.cluster.local', filter: { name: 'envoy.filters.network.tcp_proxy' } },
      });
      expect(merge.patch.value.typed_config.cluster).toBe('wildcard-egress_sni_cluster_443');
    }
  });

  test('X1: the tcp_proxy MERGE matches only the filter chain of its own Gateway server (its SNI), not every chain on the port', () => {
    // Another team's Gateway server on the same pods and port gets its own filter chain on the same listener; a MERGE
    // matched by port alone would rewrite that chain's tcp_proxy into the SNI forwarder (see test/xds X1).
    const gateway = named(objects, 'Gateway', 'wildcard-egress');
    const ownSni = gateway.spec.servers.map((s: any) => s.hosts.map((h: string) => h.replace(/^\.\//, '')));
    expect(ownSni).toEqual([['egress-gateway.istio-egress.svc.cluster.local']]);
    const merges = byKind(objects, 'EnvoyFilter').flatMap((ef) => ef.spec.configPatches.filter((p: any) => p.patch.operation === 'MERGE'));
    expect(merges.length).toBeGreaterThan(0);
    for (const merge of merges) {
      expect(merge.match.listener.filterChain.sni).toBe(ownSni[0][0]);
      // the SNI the clients present is the one the chain is selected by
      const subset = named(objects, 'DestinationRule', 'egress-gateway-clients').spec.subsets.find((x: any) => x.name === 'wildcard-egress');
      expect(subset.trafficPolicy.portLevelSettings[0].tls.sni).toBe(merge.match.listener.filterChain.sni);
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
    // a small alphabet beside arbitrary labels, so that overlapping hosts (and the refusal branch) come up often
    const label = fc.oneof(fc.constantFrom('a', 'b'), fc.stringMatching(/^[a-z]([a-z0-9-]{0,8}[a-z0-9])?$/));
    const host = fc.tuple(fc.boolean(), fc.array(label, { minLength: 2, maxLength: 3 })).map(([wild, ls]) => (wild ? '*.' : '') + ls.join('.'));
    let refused = 0;
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
            refused++;
            expect((e as Error).message).toMatch(/^test\/wc: addHost "[^"]+": invalid host "[^"]+": it overlaps "[^"]+"/);
          }
        }
        const objects = Testing.synth(chart);
        const lists = hostLists(objects);
        expect(lists.virtualServiceHosts).toEqual([...accepted].sort());
        expect(lists.sniHosts).toEqual([lists.virtualServiceHosts]);
        expect(lists.serviceEntryHosts).toEqual(lists.virtualServiceHosts);
        expect(lists.serverNames).toEqual([lists.virtualServiceHosts]);
      }),
      // the first run always has an overlap (CI once drew one the refusal check had gone stale for)
      { numRuns: 50, examples: [[['*.i.w', 'a.i.w', 'a.a']]] },
    );
    expect(refused).toBeGreaterThan(0);
  });
});

describe('WildcardEgressGateway | bad input', () => {
  test('fails at synth with an empty allow-list', () => {
    const chart = Testing.chart();
    new WildcardEgressGateway(chart, 'wc');
    expect(() => Testing.synth(chart)).toThrow(
      '[test/wc] hosts: the allow-list is empty, so the gateway would forward nothing; pass hosts or add one with addHost (e.g. "*.example.com")',
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
    [{ hosts: ['a.com'], dnsCache: { hostTtl: Duration.millis(10) } }, 'test/wc: dnsCache.hostTtl: hostTtl of 10 ms is too short; use at least 1 second'],
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
      'test/b: ports[0]: gateway port HTTP 80 (http-80) is not TLS; the gateway needs a TLS port 80 (e.g. from EgressPort.tls with 80)',
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
      'test/wc: addHost "api.example.com": invalid host "api.example.com": it overlaps "*.example.com" ("*.example.com" already matches "api.example.com")',
    );
    expect(() => wildcard.addHost('API.example.org')).toThrow('test/wc: addHost "API.example.org": invalid host "API.example.org": label "API" contains upper-case letters');
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
      'test/b: hosts[0]: host "*.example.com" is already routed from sidecars by "test/a" (SNI forwarder "a" at gateway istio-egress/egress-gateway); ' +
        'Istio keeps only one mesh VirtualService per host (IST0109) and would drop one of the routes. Route it through one construct only',
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

describe('WildcardEgressGateway | security review 2026-12', () => {
  const example = synthValid(new WildcardEgressExample(Testing.app(), 'wildcard-egress'));
  const forwarder = named(example, 'EnvoyFilter', 'wildcard-egress-sni-forwarder');
  const gatewayHost = 'egress-gateway.istio-egress.svc.cluster.local';

  test('L6: the SNI forwarder\'s log line names the client (mTLS identity and address), handed over from the gateway listener as filter state', () => {
    // the forwarder's log line prints the two values
    const listener = forwarder.spec.configPatches.find((p: any) => p.applyTo === 'LISTENER').patch.value;
    const log = listener.filter_chains[0].filters[1].typed_config.access_log[0].typed_config.log_format.text_format_source.inline_string;
    expect(log).toContain('%REQUESTED_SERVER_NAME% "%FILTER_STATE(cdk8s-istio-egress.client_identity:PLAIN)%" %FILTER_STATE(cdk8s-istio-egress.client_address:PLAIN)%');

    // the gateway listener's chain of this construct (its port and its SNI) records them before its tcp_proxy
    const chainMatch = { portNumber: 8443, filterChain: { sni: gatewayHost, filter: { name: 'envoy.filters.network.tcp_proxy' } } };
    const insert = forwarder.spec.configPatches.filter((p: any) => p.patch.operation === 'INSERT_BEFORE');
    expect(insert).toHaveLength(1);
    expect(insert[0]).toEqual({
      applyTo: 'NETWORK_FILTER',
      match: { context: 'GATEWAY', listener: chainMatch },
      patch: {
        operation: 'INSERT_BEFORE',
        value: {
          name: 'envoy.filters.network.set_filter_state',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.set_filter_state.v3.Config',
            'on_new_connection': [
              {
                object_key: 'cdk8s-istio-egress.client_address',
                factory_key: 'envoy.string',
                format_string: { text_format_source: { inline_string: '%DOWNSTREAM_REMOTE_ADDRESS%' } },
                shared_with_upstream: 'ONCE',
              },
            ],
            'on_downstream_tls_handshake': [
              {
                object_key: 'cdk8s-istio-egress.client_identity',
                factory_key: 'envoy.string',
                format_string: { text_format_source: { inline_string: '%DOWNSTREAM_PEER_URI_SAN%' } },
                shared_with_upstream: 'ONCE',
              },
            ],
          },
        },
      },
    });
    // the tcp_proxy connects to the forwarder only after the handshake, when the identity is known
    expect(forwarder.spec.configPatches).toContainEqual({
      applyTo: 'NETWORK_FILTER',
      match: { context: 'GATEWAY', listener: chainMatch },
      patch: {
        operation: 'MERGE',
        value: {
          name: 'envoy.filters.network.tcp_proxy',
          typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', 'upstream_connect_mode': 'ON_DOWNSTREAM_TLS_HANDSHAKE' },
        },
      },
    });
    // the internal connection receives the shared filter state: internal_upstream transport, no metadata passthrough
    const sniCluster = forwarder.spec.configPatches.find((p: any) => p.patch.value.name === 'wildcard-egress_sni_cluster_443').patch.value;
    expect(sniCluster.transport_socket).toEqual({
      name: 'envoy.transport_sockets.internal_upstream',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.internal_upstream.v3.InternalUpstreamTransport',
        'transport_socket': { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' } },
      },
    });
  });

  test('L6 (and the claim "port and host pinning"): no filter state key of Envoy\'s own is set, so envoy.upstream.dynamic_host/dynamic_port cannot reach the forwarder', () => {
    const text = JSON.stringify(forwarder.spec);
    const keys = [...text.matchAll(/"object_key":"([^"]+)"/g)].map((m) => m[1]).sort();
    expect(keys).toEqual(['cdk8s-istio-egress.client_address', 'cdk8s-istio-egress.client_identity']);
    expect(text).not.toContain('passthrough_metadata');
    expect(text).not.toContain('envoy.upstream.dynamic_');
    const dfp = forwarder.spec.configPatches.find((p: any) => p.applyTo === 'LISTENER').patch.value.filter_chains[0].filters[0];
    expect(dfp.typed_config.port_value).toBe(443);
  });

  test('L6: without access logging nothing is recorded or handed over', () => {
    const chart = Testing.chart();
    new WildcardEgressGateway(chart, 'w', { hosts: ['*.example.com'], accessLogging: false });
    const ef = named(synthValid(chart), 'EnvoyFilter', 'wildcard-egress-sni-forwarder');
    expect(JSON.stringify(ef.spec)).not.toContain('set_filter_state');
    expect(JSON.stringify(ef.spec)).not.toContain('internal_upstream');
  });

  test.each([
    ['*.svc.cluster.local', 'it covers an in-cluster name under the cluster domain "cluster.local"'],
    ['*.cluster.local', 'it covers an in-cluster name under the cluster domain "cluster.local"'],
    ['*.local', 'it covers an in-cluster name under the cluster domain "cluster.local"'],
    ['kubernetes.default.svc.cluster.local', 'it is an in-cluster name under the cluster domain "cluster.local"'],
    [gatewayHost, `"${gatewayHost}" is this egress gateway's own Service`],
    ['metadata.google.internal', 'the top-level domain ".internal" is reserved for private networks'],
    ['*.internal', 'the top-level domain ".internal"'],
    ['*.ec2.internal', 'the top-level domain ".internal"'],
    ['istiod.istio-system.svc', 'the top-level domain ".svc"'],
    ['*.metadata.goog', '"metadata.goog" is the Google Cloud instance metadata service'],
    ['169.254.169.254.nip.io', 'names under "nip.io" resolve to the IP address written in the name'],
    ['*.sslip.io', 'names under "sslip.io"'],
  ])('M3: refuses %s, naming the risk', (host, reason) => {
    expect(() => new WildcardEgressGateway(Testing.chart(), 'w', { hosts: [host] })).toThrow(`test/w: hosts[0]: refused host "${host}": ${reason}`);
    const w = new WildcardEgressGateway(Testing.chart(), 'w', { hosts: ['*.wikipedia.org'] });
    expect(() => w.addHost(host)).toThrow(`test/w: addHost ${JSON.stringify(host)}: refused host "${host}"`);
  });

  test.each([
    ['*.com', '"*.com" matches every name under the top-level domain ".com", where anyone can register a name and receive the traffic; a wildcard needs at least two labels after "*" (e.g. "*.example.com")'],
    ['*.io', 'a wildcard needs at least two labels after "*"'],
    ['*.co.uk', '"co.uk" is a public suffix where anyone can register a name, so "*.co.uk" would admit names an attacker registers'],
    ['*.com.au', '"com.au" is a public suffix'],
    ['*.amazonaws.com', '"*.amazonaws.com" covers any AWS customer\'s S3 buckets, API gateways, load balancers and instances'],
    ['*.s3.amazonaws.com', '(names under "amazonaws.com" are created by its customers)'],
    ['*.execute-api.eu-west-1.amazonaws.com', '(names under "amazonaws.com" are created by its customers)'],
    ['*.blob.core.windows.net', 'covers any Azure customer\'s storage accounts'],
    ['*.cloudfront.net', '"*.cloudfront.net" covers any AWS customer\'s CloudFront distribution: anyone can create a name there and receive the traffic'],
    ['*.github.io', '"*.github.io" covers any GitHub user\'s Pages site'],
    ['*.ngrok.io', 'covers any ngrok tunnel'],
    ['*.herokuapp.com', 'covers any Heroku app'],
    ['*.googleapis.com', 'storage.googleapis.com serves every Cloud Storage bucket'],
  ])('L5: refuses the wildcard %s, naming the risk', (host, reason) => {
    expect(() => new WildcardEgressGateway(Testing.chart(), 'w', { hosts: [host] })).toThrow(`test/w: hosts[0]: refused host "${host}": `);
    expect(() => new WildcardEgressGateway(Testing.chart(), 'w', { hosts: [host] })).toThrow(reason);
    expect(() => new WildcardEgressGateway(Testing.chart(), 'w', { hosts: [host] })).toThrow(`list it in hostExemptions with the reason (a HostExemption with host "${host}" and a reason)`);
  });

  test('L5: accepts a tenant\'s own names under multi-tenant domains, and wildcards under a registrable domain', () => {
    const chart = Testing.chart();
    const w = new WildcardEgressGateway(chart, 'w', {
      hosts: ['*.wikipedia.org', '*.example.co.uk', 'my-bucket.s3.amazonaws.com', 'my-site.github.io', '*.my-site.github.io', 'storage.googleapis.com'],
    });
    synthValid(chart);
    expect(w.hosts).toHaveLength(6);
  });

  test('L5/M3: an exemption with a reason admits the host; the reason is recorded on the ServiceEntry', () => {
    const chart = Testing.chart();
    const w = new WildcardEgressGateway(chart, 'w', {
      hosts: ['*.wikipedia.org', '*.s3.eu-west-1.amazonaws.com'],
      hostExemptions: [
        { host: '*.s3.eu-west-1.amazonaws.com', reason: 'buckets of partners, rotating names (SEC-7)' },
        { host: 'metadata.google.internal', reason: 'node-identity broker (SEC-9)' },
      ],
    });
    w.addHost('metadata.google.internal');
    const se = named(synthValid(chart), 'ServiceEntry', 'wildcard-egress');
    expect(se.spec.hosts).toEqual(['*.s3.eu-west-1.amazonaws.com', '*.wikipedia.org', 'metadata.google.internal']);
    expect(JSON.parse(se.metadata.annotations['cdk8s-istio-egress/host-exemptions'])).toEqual({
      '*.s3.eu-west-1.amazonaws.com': 'buckets of partners, rotating names (SEC-7)',
      'metadata.google.internal': 'node-identity broker (SEC-9)',
    });
    // no exemption, no annotation
    expect(named(example, 'ServiceEntry', 'wildcard-egress').metadata.annotations).toBeUndefined();
  });
});

describe('WildcardEgressGateway | claims of the security review that hold', () => {
  const objects = synthValid(new WildcardEgressExample(Testing.app(), 'wildcard-egress'));
  const forwarder = named(objects, 'EnvoyFilter', 'wildcard-egress-sni-forwarder');

  test('claim: the SNI forwarder\'s internal listener has one filter chain matching the allow-list and no catch-all', () => {
    const listener = forwarder.spec.configPatches.find((p: any) => p.applyTo === 'LISTENER').patch.value;
    expect(listener.filter_chains).toHaveLength(1);
    expect(listener.filter_chains[0].filter_chain_match).toEqual({ server_names: ['*.wikipedia.org'] });
    expect(listener.default_filter_chain).toBeUndefined();
    expect(listener.filter_chain_matcher).toBeUndefined();
  });

  test('claim: only ISTIO_MUTUAL clients, allowed by principal, pod port and connection.sni = the gateway\'s name', () => {
    const ap = named(objects, 'AuthorizationPolicy', 'wildcard-egress');
    expect(ap.spec.rules).toEqual([
      {
        from: [{ source: { principals: ['cluster.local/ns/default/sa/sleep'] } }],
        to: [{ operation: { ports: ['8443'] } }],
        when: [{ key: 'connection.sni', values: ['egress-gateway.istio-egress.svc.cluster.local'] }],
      },
    ]);
    expect(named(objects, 'Gateway', 'wildcard-egress').spec.servers.map((s: any) => s.tls.mode)).toEqual(['ISTIO_MUTUAL']);
  });

  test('claim: the EnvoyFilter is scoped (workloadSelector, GATEWAY context, explicit priority) and never in the root namespace', () => {
    expect(forwarder.metadata.namespace).toBe('istio-egress');
    expect(forwarder.spec.workloadSelector).toEqual({ labels: { 'cdk8s-istio-egress/gateway': 'egress-gateway.istio-egress' } });
    expect(forwarder.spec.priority).toBe(10);
    expect(forwarder.spec.configPatches.every((p: any) => p.match.context === 'GATEWAY')).toBe(true);
    expect(() => new WildcardEgressGateway(Testing.chart(), 'w', { hosts: ['*.example.com'], gateway: new EgressGateway(Testing.chart(), 'g', { namespace: 'istio-system' }) })).toThrow(
      'namespace: an egress gateway cannot run in namespace "istio-system"',
    );
  });
});
