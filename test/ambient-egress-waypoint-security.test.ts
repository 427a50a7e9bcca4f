/**
 * The December security review's findings for the ambient egress waypoint (H1, H2, M1, M2, M5, M6, L8) and the
 * waypoint part of the registry issue (#11 item 4: hosts on an imported waypoint, escape hatches), each reproducing
 * the review's scenario and showing it closed at the config level. The xDS suite checks the same policies in the
 * configuration istiod generates.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, Chart, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { parse } from 'yaml';
import {
  AmbientEgressWaypoint,
  AmbientEgressWaypointProps,
  EgressPort,
  ExternalHost,
  IEgressPath,
  IEgressWaypoint,
  MeshSettings,
  OriginationTls,
  WorkloadIdentity,
} from '../src';
import { synthValid } from './schema';

const policies = (objects: any[]) => objects.filter((o) => o.kind === 'AuthorizationPolicy');
const policy = (objects: any[], name: string) => {
  const found = policies(objects).filter((o) => o.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0];
};

const TEAM_A = WorkloadIdentity.allInNamespace('team-a');
const ADMIN = WorkloadIdentity.serviceAccount('default', 'admin');

function waypointWith(props: AmbientEgressWaypointProps = {}) {
  const chart = Testing.chart();
  return { chart, waypoint: new AmbientEgressWaypoint(chart, 'Waypoint', { namespace: 'istio-egress', ...props }) };
}

describe('H1: wildcard TLS at the waypoint is bound to names under the wildcard', () => {
  test('H1: the review scenario: every rule on the TLS port of *.example.com requires connection.sni under *.example.com', () => {
    // GIVEN the review's scenario
    const { chart, waypoint } = waypointWith({ istiodWildcardTlsEnabled: true });
    const h = waypoint.addHost('*.example.com', { ports: [EgressPort.tls(443)] });
    // WHEN
    h.allow('team-a', { identities: [TEAM_A] });
    // THEN the only rule needs an SNI under the wildcard: `-servername exfil.attacker.net` matches no rule
    const objects = synthValid(chart);
    expect(policy(objects, 'wildcard-example-com-team-a').spec.rules).toEqual([
      { from: [{ source: { namespaces: ['team-a'] } }], when: [{ key: 'connection.sni', values: ['*.example.com'] }] },
    ]);
  });

  test('H1: a rule over HTTP and TLS ports of a wildcard becomes one rule per kind, the TLS one bound to the SNI', () => {
    const { chart, waypoint } = waypointWith({ istiodWildcardTlsEnabled: true });
    const h = waypoint.addHost('*.example.com', { ports: [EgressPort.http(80), EgressPort.tls(443)] });
    h.allow('team-a', { identities: [TEAM_A] });
    h.allow('tls-only', { identities: [ADMIN], ports: [443] });
    h.allow('get', { identities: [ADMIN], ports: [80], methods: ['GET'] });
    const objects = synthValid(chart);
    const from = [{ source: { namespaces: ['team-a'] } }];
    expect(policy(objects, 'wildcard-example-com-team-a').spec.rules).toEqual([
      { from, to: [{ operation: { ports: ['80'] } }] },
      { from, to: [{ operation: { ports: ['443'] } }], when: [{ key: 'connection.sni', values: ['*.example.com'] }] },
    ]);
    const admin = [{ source: { principals: ['cluster.local/ns/default/sa/admin'] } }];
    expect(policy(objects, 'wildcard-example-com-tls-only').spec.rules).toEqual([
      { from: admin, to: [{ operation: { ports: ['443'] } }], when: [{ key: 'connection.sni', values: ['*.example.com'] }] },
    ]);
    expect(policy(objects, 'wildcard-example-com-get').spec.rules).toEqual([{ from: admin, to: [{ operation: { ports: ['80'], methods: ['GET'] } }] }]);
  });

  test('H1: every rule on a TLS port of a wildcard host, whatever the mix, names connection.sni (property over port and rule mixes)', () => {
    const { chart, waypoint } = waypointWith({ istiodWildcardTlsEnabled: true });
    const mixes: number[][] = [[443], [8443], [443, 8443], [80, 443], [80, 443, 8443]];
    mixes.forEach((numbers, i) => {
      const ports = numbers.map((n) => (n === 80 ? EgressPort.http(80) : EgressPort.tls(n)));
      const h = waypoint.addHost(`*.d${i}.example.com`, { ports });
      h.allow('all', { identities: [TEAM_A] });
      numbers.forEach((n) => h.allow(`p${n}`, { identities: [ADMIN], ports: [n] }));
    });
    for (const ap of policies(synthValid(chart))) {
      const host = `*.${ap.metadata.name.replace(/^wildcard-/, '').replace(/-(all|p\d+)$/, '').replace(/-/g, '.')}`;
      for (const rule of ap.spec.rules) {
        const ports: string[] | undefined = rule.to?.[0]?.operation?.ports;
        const tls = ports === undefined ? true : ports.some((p) => p !== '80');
        if (tls) {
          expect(ports?.includes('80') ?? false).toBe(false);
          expect(rule.when).toEqual([{ key: 'connection.sni', values: [host] }]);
        } else {
          expect(rule.when).toBeUndefined();
        }
      }
    }
  });

  test('H1: exact hosts keep their rules as they were (the chain of an exact host goes to that host only)', () => {
    const { chart, waypoint } = waypointWith();
    waypoint.addHost('api.example.com').allow('team-a', { identities: [TEAM_A] });
    expect(policy(synthValid(chart), 'api-example-com-team-a').spec.rules).toEqual([{ from: [{ source: { namespaces: ['team-a'] } }] }]);
  });
});

describe('H2: a wildcard host never admits traffic to a more specific host of the same waypoint', () => {
  test('H2 (HTTP): the review scenario: everyone may GET *.example.com, only admin api.example.com: the wildcard rule excludes api.example.com', () => {
    // GIVEN the review's scenario, with the more specific host added after the wildcard's rule
    const { chart, waypoint } = waypointWith();
    const wild = waypoint.addHost('*.example.com', { ports: [EgressPort.http(80)] });
    wild.allow('everyone-get', { identities: [WorkloadIdentity.anyInMesh()], methods: ['GET'] });
    const api = waypoint.addHost('api.example.com', { ports: [EgressPort.http(80)] });
    api.allow('admin', { identities: [ADMIN] });
    // THEN `curl -H 'Host: api.example.com' http://anything.example.com/` matches no rule of the wildcard
    const objects = synthValid(chart);
    expect(policy(objects, 'wildcard-example-com-everyone-get').spec.rules).toEqual([
      { from: [{ source: { principals: ['*'] } }], to: [{ operation: { methods: ['GET'], notHosts: ['api.example.com'] } }] },
    ]);
    // and the exact host's own rule is unchanged
    expect(policy(objects, 'api-example-com-admin').spec.rules).toEqual([{ from: [{ source: { principals: ['cluster.local/ns/default/sa/admin'] } }] }]);
  });

  test('H2 (TLS): the wildcard TLS rule excludes the more specific hosts with connection.sni notValues', () => {
    const { chart, waypoint } = waypointWith({ istiodWildcardTlsEnabled: true });
    waypoint.addHost('*.example.com').allow('everyone', { identities: [WorkloadIdentity.anyInMesh()] });
    waypoint.addHost('api.example.com').allow('admin', { identities: [ADMIN] });
    waypoint.addHost('*.internal.example.com', { namespace: 'istio-egress' }).allow('admin', { identities: [ADMIN] });
    waypoint.addHost('other.org').allow('admin', { identities: [ADMIN] });
    const objects = synthValid(chart);
    // `-servername api.example.com` (or x.internal.example.com) at a wildcard address matches no rule of the wildcard
    expect(policy(objects, 'wildcard-example-com-everyone').spec.rules).toEqual([
      {
        from: [{ source: { principals: ['*'] } }],
        when: [{ key: 'connection.sni', values: ['*.example.com'], notValues: ['*.internal.example.com', 'api.example.com'] }],
      },
    ]);
    // the nested wildcard is bound to its own names, and excludes nothing (no host under it)
    expect(policy(objects, 'wildcard-internal-example-com-admin').spec.rules).toEqual([
      { from: [{ source: { principals: ['cluster.local/ns/default/sa/admin'] } }], when: [{ key: 'connection.sni', values: ['*.internal.example.com'] }] },
    ]);
  });

  test('H2: mixed ports: the HTTP rule gets notHosts and the TLS rule notValues, for hosts in other namespaces of the waypoint too', () => {
    const { chart, waypoint } = waypointWith({ istiodWildcardTlsEnabled: true, allowedNamespaces: ['team-a'] });
    waypoint.addHost('*.example.com', { ports: [EgressPort.http(80), EgressPort.tls(443)] }).allow('team-a', { identities: [TEAM_A] });
    waypoint.addHost('pay.example.com', { namespace: 'team-a', ports: [EgressPort.tls(443)] }).allow('admin', { identities: [ADMIN] });
    const from = [{ source: { namespaces: ['team-a'] } }];
    expect(policy(synthValid(chart), 'wildcard-example-com-team-a').spec.rules).toEqual([
      { from, to: [{ operation: { ports: ['80'], notHosts: ['pay.example.com'] } }] },
      { from, to: [{ operation: { ports: ['443'] } }], when: [{ key: 'connection.sni', values: ['*.example.com'], notValues: ['pay.example.com'] }] },
    ]);
  });

  test('H2: hosts outside the wildcard are not excluded, and a wildcard alone excludes nothing', () => {
    const { chart, waypoint } = waypointWith();
    waypoint.addHost('*.example.com', { ports: [EgressPort.http(80)] }).allow('all', { identities: [TEAM_A] });
    waypoint.addHost('example.com', { ports: [EgressPort.http(80)] }).allow('all', { identities: [TEAM_A] });
    waypoint.addHost('api.example.org', { ports: [EgressPort.http(80)] }).allow('all', { identities: [TEAM_A] });
    expect(policy(synthValid(chart), 'wildcard-example-com-all').spec.rules).toEqual([{ from: [{ source: { namespaces: ['team-a'] } }] }]);
  });

  test('H2: on a waypoint from fromAttributes the wildcard excludes the more specific hosts added to it', () => {
    const chart = Testing.chart();
    const existing = AmbientEgressWaypoint.fromAttributes(chart, 'Existing', { namespace: 'egress', name: 'waypoint' });
    existing.addHost('*.example.com', { ports: [EgressPort.http(80)] }).allow('all', { identities: [TEAM_A] });
    existing.addHost('api.example.com', { ports: [EgressPort.http(80)] }).allow('admin', { identities: [ADMIN] });
    expect(policy(synthValid(chart), 'wildcard-example-com-all').spec.rules[0].to).toEqual([{ operation: { notHosts: ['api.example.com'] } }]);
  });
});

describe('H1/H2: a model of how Istio evaluates the generated rules at the waypoint', () => {
  /** Istio's string match for AuthorizationPolicy values (`matcher.StringMatcherWithPrefix`, `HostMatcher`). */
  const valueMatches = (value: string, name: string) =>
    value === '*' ? name.length > 0 : value.startsWith('*') ? name.endsWith(value.slice(1)) : value.endsWith('*') ? name.startsWith(value.slice(0, -1)) : name === value;
  /** Whether an ALLOW rule admits a request for `name` on `port` (HTTP `Host` or TLS SNI) from an identity it names. */
  const ruleAdmits = (rule: any, name: string, port: number, http: boolean) => {
    const op = rule.to?.[0]?.operation ?? {};
    if (op.ports && !op.ports.includes(String(port))) return false;
    if (op.hosts || op.methods || op.paths || op.notHosts) {
      if (!http) return false; // Istio drops rules with HTTP conditions from TCP chains
      if ((op.notHosts ?? []).some((v: string) => valueMatches(v, name))) return false;
    }
    for (const w of rule.when ?? []) {
      expect(w.key).toBe('connection.sni');
      const sni = http ? '' : name; // plain HTTP carries no server name
      if (w.values && !w.values.some((v: string) => valueMatches(v, sni))) return false;
      if ((w.notValues ?? []).some((v: string) => valueMatches(v, sni))) return false;
    }
    return true;
  };

  test('H1/H2: at a wildcard host\'s address, exactly the names under the wildcard that no more specific host of the waypoint covers are admitted (random host mixes)', () => {
    // labels from a small alphabet so hosts nest often; "d" appears only in requested names, never in hosts
    const label = fc.constantFrom('a', 'b', 'c');
    const name = fc.array(label, { minLength: 2, maxLength: 3 }).map((ls) => ls.join('.'));
    const entry = fc.record({ host: fc.oneof(name, name.map((n) => `*.${n}`)), ports: fc.subarray([80, 443], { minLength: 1 }) });
    const requested: string[] = [];
    const grow = (prefix: string[], depth: number) => {
      if (prefix.length > 0) requested.push(prefix.join('.'));
      if (depth === 0) return;
      for (const l of ['a', 'b', 'c', 'd']) grow([l, ...prefix], depth - 1);
    };
    grow([], 4);
    fc.assert(
      fc.property(fc.uniqueArray(entry, { minLength: 1, maxLength: 8, selector: (e) => e.host }), (entries) => {
        const { chart, waypoint } = waypointWith({ istiodWildcardTlsEnabled: true });
        for (const e of entries) {
          const ports = e.ports.map((n) => (n === 80 ? EgressPort.http(80) : EgressPort.tls(443)));
          waypoint.addHost(e.host, { ports }).allow('r', { identities: [WorkloadIdentity.anyInMesh()] });
        }
        const objects = synthValid(chart);
        const hosts = entries.map((e) => ExternalHost.of(e.host));
        for (const [i, wild] of hosts.entries()) {
          if (!wild.isWildcard) continue;
          const ap = policies(objects).find((o) => o.spec.targetRefs[0].name === waypoint.hosts[i].serviceEntryName);
          for (const port of entries[i].ports) {
            const http = port === 80;
            for (const n of requested) {
              // HTTP: the wildcard's route accepts only Hosts under it (buildRouteVHostDomains)
              const routed = !http || wild.matches(n);
              const admitted = routed && ap.spec.rules.some((r: any) => ruleAdmits(r, n, port, http));
              const owner = hosts.find((h) => h !== wild && wild.covers(h) && h.matches(n));
              const expected = wild.matches(n) && owner === undefined;
              if (admitted !== expected) {
                throw new Error(`${wild.name} port ${port}: ${n} admitted=${admitted}, expected ${expected} (hosts ${entries.map((e) => e.host).join(', ')})`);
              }
            }
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('M1: the waypoint namespace is not bound to the waypoint wholesale', () => {
  test('M1: the Namespace carries no istio.io/use-waypoint; only the generated ServiceEntries are bound', () => {
    // GIVEN the review's scenario (default createNamespace: true)
    const { chart, waypoint } = waypointWith({ namespace: 'common-infrastructure', name: 'egress-gateway' });
    waypoint.addHost('httpbin.org', { ports: [EgressPort.http(80, { targetPort: 443 })], tlsOrigination: OriginationTls.simple() }).allow('admin', { identities: [ADMIN] });
    // THEN a ServiceEntry someone else creates in common-infrastructure is not bound to the waypoint by the namespace
    const objects = synthValid(chart);
    const ns = objects.filter((o) => o.kind === 'Namespace');
    expect(ns).toHaveLength(1);
    expect(ns[0].metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress', 'app.kubernetes.io/part-of': 'egress-gateway', 'istio.io/dataplane-mode': 'ambient' });
    expect(objects.filter((o) => o.metadata.labels?.['istio.io/use-waypoint']).map((o) => o.kind)).toEqual(['ServiceEntry']);
  });

  test('M1: the allowedNamespaces docs say that listing a namespace delegates binding rights', () => {
    const source = fs.readFileSync(path.join(__dirname, '..', 'src', 'ambient', 'ambient-egress-waypoint.ts'), 'utf8');
    const doc = source.slice(source.indexOf('Other namespaces whose ServiceEntries'), source.indexOf('readonly allowedNamespaces?'));
    expect(doc).toContain('delegates binding rights');
    expect(doc).toContain('no ALLOW AuthorizationPolicy');
  });
});

describe('M2: the waypoint is an IEgressPath, so its own egress can be fenced', () => {
  const asPath = (p: IEgressPath) => p.toEgressPathConfig();

  test('M2: an AmbientEgressWaypoint names its pods, the HBONE port and the server ports of its hosts', () => {
    const { waypoint } = waypointWith({ name: 'edge', istiodWildcardTlsEnabled: true });
    expect(asPath(waypoint)).toEqual({ namespace: 'istio-egress', podLabels: { 'gateway.networking.k8s.io/gateway-name': 'edge' }, podPorts: [15008], externalPorts: [] });
    waypoint.addHost('httpbin.org', { ports: [EgressPort.http(80, { targetPort: 443 })], tlsOrigination: OriginationTls.simple() });
    waypoint.addHost('*.example.com', { ports: [EgressPort.http(80), EgressPort.tls(8443)] });
    waypoint.addHost('api.example.org', { ports: [EgressPort.tls(443)] });
    // the waypoint connects out to 443 for httpbin.org (TLS originated from 80), 80 and 8443 for the wildcard
    expect(asPath(waypoint)).toEqual({ namespace: 'istio-egress', podLabels: { 'gateway.networking.k8s.io/gateway-name': 'edge' }, podPorts: [15008], externalPorts: [80, 443, 8443] });
    expect(waypoint.hbonePort).toBe(15008);
  });

  test('M2: a waypoint from fromAttributes is an IEgressPath the same way', () => {
    const chart = Testing.chart();
    const existing: IEgressWaypoint = AmbientEgressWaypoint.fromAttributes(chart, 'Existing', { namespace: 'egress', name: 'waypoint' });
    existing.addHost('api.example.com', { ports: [EgressPort.tls(443)] });
    expect(asPath(existing)).toEqual({ namespace: 'egress', podLabels: { 'gateway.networking.k8s.io/gateway-name': 'waypoint' }, podPorts: [15008], externalPorts: [443] });
  });

  test('M2: the HBONE port has one definition, in src/core', () => {
    const dir = path.join(__dirname, '..', 'src');
    const definitions: string[] = [];
    for (const folder of ['core', 'ambient']) {
      for (const file of fs.readdirSync(path.join(dir, folder))) {
        if (/HBONE_PORT\s*=|=\s*15008\b/.test(fs.readFileSync(path.join(dir, folder, file), 'utf8'))) {
          definitions.push(`${folder}/${file}`);
        }
      }
    }
    expect(definitions).toEqual(['core/egress-path.ts']);
  });
});

describe('M5: a waypoint never runs in a reserved namespace', () => {
  test.each([
    ['istio-system', "Istio's root namespace"],
    ['kube-system', 'Kubernetes itself'],
    ['kube-public', 'Kubernetes itself'],
    ['default', 'unrelated workloads'],
  ])('M5: namespace %s is refused, with the reason, before any Namespace object is defined', (namespace, reason) => {
    const chart = Testing.chart();
    expect(() => new AmbientEgressWaypoint(chart, 'Waypoint', { namespace })).toThrow(`test/Waypoint: namespace: An egress waypoint cannot run in namespace "${namespace}": it`);
    expect(() => new AmbientEgressWaypoint(Testing.chart(), 'Waypoint', { namespace })).toThrow(reason);
    expect(() => AmbientEgressWaypoint.fromAttributes(Testing.chart(), 'Existing', { namespace, name: 'waypoint' })).toThrow(`test/Existing: namespace: An egress waypoint cannot run in namespace "${namespace}"`);
    expect(Testing.synth(chart as Chart)).toEqual([]);
  });

  test("M5: the mesh's own root and istiod namespaces are refused", () => {
    const mesh = new MeshSettings({ rootNamespace: 'mesh-root', istiodNamespace: 'istiod-ns' });
    expect(() => waypointWith({ namespace: 'mesh-root', mesh })).toThrow('cannot run in namespace "mesh-root"');
    expect(() => waypointWith({ namespace: 'istiod-ns', mesh })).toThrow('cannot run in namespace "istiod-ns"');
    // istio-system is an ordinary namespace when the mesh's root and istiod live elsewhere
    expect(() => waypointWith({ namespace: 'istio-system', mesh })).not.toThrow();
  });
});

describe('M6: the waypoint pods look external names up as given before the search path', () => {
  test('M6: the Deployment overlay sets ndots 1 on the waypoint pods (httpbin.org is tried as httpbin.org. first)', () => {
    const { chart, waypoint } = waypointWith({ replicas: 1, spreadAcrossZones: false });
    waypoint.addHost('httpbin.org', { ports: [EgressPort.http(80, { targetPort: 443 })], tlsOrigination: OriginationTls.simple() }).allow('admin', { identities: [ADMIN] });
    const configMap = synthValid(chart).find((o) => o.kind === 'ConfigMap');
    const overlay = parse(configMap.data.deployment);
    expect(overlay.spec.template.spec.dnsConfig).toEqual({ options: [{ name: 'ndots', value: '1' }] });
    // the overlay adds options only: the pods keep the cluster DNS (dnsPolicy and nameservers are not touched)
    expect(overlay.spec.template.spec.dnsPolicy).toBeUndefined();
  });
});

describe('L8: exportTo is not described as isolation in ambient mode', () => {
  test('L8: no docstring of src/ambient claims that clients which cannot see a ServiceEntry bypass the waypoint; exportTo cites istio/istio#55163', () => {
    const dir = path.join(__dirname, '..', 'src', 'ambient');
    const sources = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    for (const source of sources) {
      expect(source).not.toMatch(/cannot see the ServiceEntry are not sent to the waypoint/);
    }
    const host = fs.readFileSync(path.join(dir, 'waypoint-host.ts'), 'utf8');
    const doc = host.slice(host.indexOf('Namespaces the ServiceEntry is exported to'), host.indexOf('readonly exportTo?'));
    expect(doc).toContain('ztunnel ignores `exportTo`');
    expect(doc).toContain('istio/istio#55163');
  });
});

describe('#11 item 4: hosts on an imported waypoint, stable ids and escape hatches', () => {
  test('a waypoint made by istioctl waypoint apply (fromAttributes) carries hosts and rules, and defines nothing of its own', () => {
    const chart = Testing.chart();
    const existing = AmbientEgressWaypoint.fromAttributes(chart, 'Existing', { namespace: 'egress', name: 'waypoint', allowedNamespaces: ['shop'] });
    existing.addHost('api.example.com').allow('admin', { identities: [ADMIN] });
    existing.addHost('pay.example.com', { namespace: 'shop' });
    existing.allow('checkout', { host: 'pay.example.com', identities: [WorkloadIdentity.serviceAccount('shop', 'checkout')] });
    const objects = synthValid(chart);
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'ServiceEntry/egress/api-example-com',
      'AuthorizationPolicy/egress/api-example-com-admin',
      'ServiceEntry/shop/pay-example-com',
      'AuthorizationPolicy/shop/pay-example-com-checkout',
    ]);
    expect(objects[0].metadata.labels).toMatchObject({ 'istio.io/use-waypoint': 'waypoint' });
    expect(objects[0].metadata.labels['istio.io/use-waypoint-namespace']).toBeUndefined();
    expect(objects[2].metadata.labels).toMatchObject({ 'istio.io/use-waypoint': 'waypoint', 'istio.io/use-waypoint-namespace': 'egress' });
    expect(existing.hosts.map((h) => h.host.name)).toEqual(['api.example.com', 'pay.example.com']);
  });

  test('an imported waypoint refuses hosts in namespaces its listener does not accept, and hosts without rules', () => {
    const chart = Testing.chart();
    const existing = AmbientEgressWaypoint.fromAttributes(chart, 'Existing', { namespace: 'egress', name: 'waypoint' });
    expect(() => existing.addHost('api.example.com', { namespace: 'shop' })).toThrow('test/Existing/api-example-com: namespace: namespace "shop" may not use waypoint egress/waypoint');
    existing.addHost('pay.example.com');
    expect(() => Testing.synth(chart)).toThrow('host "pay.example.com" has no allow rule');
  });

  test('ApiObject.of(waypoint) is the Gateway, ApiObject.of(host) the ServiceEntry; key children are properties', () => {
    const { chart, waypoint } = waypointWith({ name: 'edge' });
    const host = waypoint.addHost('httpbin.org', { ports: [EgressPort.http(80, { targetPort: 443 })], tlsOrigination: OriginationTls.simple() });
    host.allow('admin', { identities: [ADMIN] });
    expect(ApiObject.of(waypoint)).toBe(waypoint.gateway);
    expect(ApiObject.of(waypoint).kind).toBe('Gateway');
    expect(ApiObject.of(waypoint).name).toBe('edge');
    expect(waypoint.parametersConfigMap.name).toBe('edge-config');
    expect(waypoint.namespaceObject?.name).toBe('istio-egress');
    expect(ApiObject.of(host)).toBe(host.serviceEntry);
    expect(host.serviceEntry.kind).toBe('ServiceEntry');
    expect(host.destinationRule?.name).toBe('httpbin-org-tls');
    expect(host.authorizationPolicies.map((p) => p.name)).toEqual(['httpbin-org-admin']);
    // the escape hatch reaches the synthesized object
    ApiObject.of(waypoint).metadata.addAnnotation('example.com/owner', 'platform');
    expect(synthValid(chart).find((o) => o.kind === 'Gateway').metadata.annotations).toEqual({ 'example.com/owner': 'platform' });
  });

  test('no Namespace object without createNamespace', () => {
    const { waypoint } = waypointWith({ createNamespace: false });
    expect(waypoint.namespaceObject).toBeUndefined();
  });
});

describe('layers: src/ambient imports only core and itself', () => {
  test('no file of src/ambient imports src/sidecar or src/network-policy', () => {
    const dir = path.join(__dirname, '..', 'src', 'ambient');
    for (const file of fs.readdirSync(dir)) {
      const imports = [...fs.readFileSync(path.join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      for (const i of imports.filter((x) => x.startsWith('.'))) {
        expect(`${file}: ${i}`).toMatch(/: (\.\.\/core\/|\.\/|\.\.\/\.\.\/imports\/)/);
      }
    }
  });
});
