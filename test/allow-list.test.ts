/**
 * EgressAllowList: realisation per mode, least privilege per team at every enforcement point (client sidecar,
 * gateway, waypoint, NetworkPolicy), conflicts at synth in both modes, the egress matrix, and properties over random
 * allow-lists.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import {
  AmbientEgressWaypoint,
  DataplaneMode,
  EgressAllowEntry,
  EgressAllowList,
  EgressAllowListSpec,
  EgressGateway,
  EgressPort,
  OriginationTls,
  RemoteGenerated,
  RemoteProtocol,
  TlsOriginationEgress,
  WildcardEgressGateway,
  WorkloadIdentity,
} from '../src';
import { synthValid } from './schema';

type Teams = { [namespace: string]: { mode?: DataplaneMode; allow: EgressAllowEntry[] } };

function specOf(teams: Teams): EgressAllowListSpec {
  const spec = new EgressAllowListSpec();
  for (const [ns, t] of Object.entries(teams)) {
    if (t.mode) {
      spec.setNamespaceMode(ns, t.mode);
    }
    t.allow.forEach((e) => spec.allow(ns, e));
  }
  return spec;
}

function build(teams: Teams, chart: Chart = Testing.chart()) {
  const list = new EgressAllowList(chart, 'egress', { spec: specOf(teams), writeMatrix: false });
  return { chart, list, objects: () => synthValid(chart) };
}

const find = (objects: any[], kind: string, namespace?: string) =>
  objects.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
const named = (objects: any[], kind: string, namespace: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.namespace === namespace && x.metadata.name === name);
  if (o === undefined) {
    throw new Error(`no ${kind} ${namespace}/${name}; have ${find(objects, kind).map((x) => `${x.metadata.namespace}/${x.metadata.name}`).join(', ')}`);
  }
  return o;
};
/** Every identity (principal or namespace) an AuthorizationPolicy admits. */
const admitted = (ap: any): string[] => ap.spec.rules.flatMap((r: any) => r.from.flatMap((f: any) => [...(f.source.principals ?? []), ...(f.source.namespaces ?? []).map((n: string) => `ns:${n}`)])).sort();
/** The hosts of the VirtualServices / ServiceEntries a namespace's sidecars can see (exportTo), among the given objects. */
const visibleTo = (objects: any[], ns: string) =>
  new Set(
    objects
      .filter((o) => ['VirtualService', 'ServiceEntry'].includes(o.kind) && o.metadata.namespace === 'istio-egress')
      .filter((o) => (o.spec.exportTo ?? ['*']).some((e: string) => e === '*' || e === ns))
      .flatMap((o) => o.spec.hosts),
  );

const SIDECAR = DataplaneMode.SIDECAR;
const AMBIENT = DataplaneMode.AMBIENT;

describe('EgressAllowList | sidecar mode', () => {
  const teams: Teams = {
    'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'api.a.example' }, { remoteHost: '*.shared.example' }, { remoteHost: 'billing.a.example', tlsOrigination: OriginationTls.simple(), selector: { app: 'billing' } }] },
    'team-b': { mode: SIDECAR, allow: [{ remoteHost: 'api.b.example', serviceAccount: 'worker' }, { remoteHost: '*.shared.example' }] },
  };

  test('one gateway per identity group; each gateway admits only its group (team B refused at team A\'s gateway)', () => {
    const { list, objects } = build(teams);
    const o = objects();
    expect(list.gateways.map((g) => g.serviceName).sort()).toEqual(['egress-shared-' + list.gateways.find((g) => g.serviceName.startsWith('egress-shared'))!.serviceName.slice(14), 'egress-team-a', 'egress-team-b-worker'].sort());
    const aps = find(o, 'AuthorizationPolicy', 'istio-egress');
    const bySelector = (gw: string) => aps.filter((ap) => ap.spec.selector.matchLabels['cdk8s-istio-egress/gateway'] === `${gw}.istio-egress`);
    for (const ap of bySelector('egress-team-a')) {
      expect(admitted(ap)).toEqual(['ns:team-a']);
    }
    for (const ap of bySelector('egress-team-b-worker')) {
      expect(admitted(ap)).toEqual(['cluster.local/ns/team-b/sa/worker']);
    }
    const shared = list.gateways.find((g) => g.serviceName.startsWith('egress-shared'))!.serviceName;
    for (const ap of bySelector(shared)) {
      expect(admitted(ap)).toEqual(['ns:team-a', 'ns:team-b']);
    }
    // every gateway AuthorizationPolicy belongs to one of the three groups: none admits everyone
    expect(aps.every((ap) => !admitted(ap).includes('*'))).toBe(true);
  });

  test("team B's sidecars never see team A's routes (exportTo) and its Sidecar lists only its hosts", () => {
    const { objects } = build(teams);
    const o = objects();
    const forA = visibleTo(o, 'team-a');
    const forB = visibleTo(o, 'team-b');
    expect(forB.has('api.a.example')).toBe(false);
    expect(forB.has('billing.a.example')).toBe(false);
    expect(forA.has('api.b.example')).toBe(false);
    expect(forB.has('*.shared.example') && forA.has('*.shared.example')).toBe(true);
    const sidecarB = named(o, 'Sidecar', 'team-b', 'egress-allow-list');
    expect(sidecarB.spec.outboundTrafficPolicy.mode).toBe('REGISTRY_ONLY');
    expect(sidecarB.spec.workloadSelector).toBeUndefined();
    const hostsB: string[] = sidecarB.spec.egress[0].hosts;
    expect(hostsB.filter((h) => !h.endsWith('.svc.cluster.local'))).toEqual(['./*', 'istio-egress/*.shared.example', 'istio-egress/api.b.example']);
  });

  test('a selector gets its own Sidecar and NetworkPolicy: the billing pods see billing.a.example, the others do not', () => {
    const { objects } = build(teams);
    const o = objects();
    const all = named(o, 'Sidecar', 'team-a', 'egress-allow-list');
    const billing = find(o, 'Sidecar', 'team-a').find((s) => s.spec.workloadSelector !== undefined)!;
    expect(billing.spec.workloadSelector).toEqual({ labels: { app: 'billing' } });
    expect(billing.spec.egress[0].hosts).toContain('istio-egress/billing.a.example');
    expect(billing.spec.egress[0].hosts).toContain('istio-egress/api.a.example');
    expect(all.spec.egress[0].hosts).not.toContain('istio-egress/billing.a.example');
    const policies = find(o, 'NetworkPolicy', 'team-a');
    expect(policies.map((p) => p.spec.podSelector)).toEqual([{}, { matchLabels: { app: 'billing' } }]);
    // only the billing policy reaches the origination port of team A's gateway (pod port 8080)
    const ports = (p: any) => p.spec.egress.flatMap((e: any) => e.ports.map((x: any) => x.port));
    expect(ports(policies[0])).not.toContain(8080);
    expect(ports(policies[1])).toContain(8080);
  });

  test('every gateway is fenced: its NetworkPolicy admits only the client namespaces that use it', () => {
    const { list, objects } = build(teams);
    const o = objects();
    const fence = named(o, 'NetworkPolicy', 'istio-egress', 'egress-team-b-worker-lockdown');
    const clients = JSON.stringify(fence.spec.ingress);
    expect(clients).toContain('"team-b"');
    expect(clients).not.toContain('"team-a"');
    expect(list.gateways).toHaveLength(3);
    expect(find(o, 'NetworkPolicy', 'istio-egress')).toHaveLength(3);
  });

  test('ports a host needs are added to its gateway; different TLS port sets of one group get distinct gateway ports or gateways', () => {
    const { list, objects } = build({ 'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'a.example.com', ports: [443, 9443] }, { remoteHost: 'b.example.com', port: 8443 }, { remoteHost: 'c.example.com' }] } });
    objects();
    const byName = new Map(list.gateways.map((g) => [g.serviceName, g.ports.map((p) => p.number)]));
    expect([...byName.entries()]).toEqual([
      ['egress-team-a', [443, 8443, 9443]],
      ['egress-team-a-1', [443]],
    ]);
    // 443 and 8443 on one gateway: distinct pod ports
    const both = build({ 'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'a.example.com' }, { remoteHost: 'b.example.com', port: 8443 }] } });
    both.objects();
    expect(both.list.gateways[0].ports.map((p) => [p.number, p.targetPort])).toEqual([[443, 20000], [8443, 8443]]);
  });

  test('remoteCidr gets a NetworkPolicy rule and, for REGISTRY_ONLY sidecars, a ServiceEntry; Anywhere turns the Sidecar to ALLOW_ANY', () => {
    const { objects } = build({
      'team-a': { mode: SIDECAR, allow: [{ remoteCidr: '203.0.113.0/24', port: 5432 }, { remoteGenerated: RemoteGenerated.ANYWHERE, selector: { app: 'crawler' } }, { remoteGenerated: RemoteGenerated.CLOUD_METADATA, port: 80, selector: { app: 'crawler' } }] },
    });
    const o = objects();
    const se = find(o, 'ServiceEntry', 'team-a');
    expect(se.map((s) => s.spec.addresses)).toEqual([['203.0.113.0/24'], ['169.254.169.254/32']]);
    expect(se[0].spec).toMatchObject({ exportTo: ['.'], resolution: 'NONE', ports: [{ number: 5432, protocol: 'TCP', name: 'tcp-5432' }] });
    const crawlerPolicy = find(o, 'NetworkPolicy', 'team-a').find((p) => p.spec.podSelector.matchLabels?.app === 'crawler')!;
    expect(crawlerPolicy.spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }], ports: [{ protocol: 'TCP' }] });
    expect(crawlerPolicy.spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '169.254.169.254/32' } }], ports: [{ protocol: 'TCP', port: 80 }] });
    const crawlerSidecar = find(o, 'Sidecar', 'team-a').find((s) => s.spec.workloadSelector?.labels.app === 'crawler')!;
    expect(crawlerSidecar.spec.outboundTrafficPolicy.mode).toBe('ALLOW_ANY');
    expect(named(o, 'Sidecar', 'team-a', 'egress-allow-list').spec.outboundTrafficPolicy.mode).toBe('REGISTRY_ONLY');
  });

  test('refuses what sidecar mode cannot enforce: plain HTTP, TCP CIDRs without ports, KubeAPI without CIDRs', () => {
    expect(() => build({ 'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'a.example.com', remoteProtocol: RemoteProtocol.HTTP }] } })).toThrow(
      'test/egress: allow "team-a" #0: remoteProtocol: plain HTTP to "a.example.com" would leave the cluster unencrypted',
    );
    expect(() => build({ 'team-a': { mode: SIDECAR, allow: [{ remoteCidr: '10.1.0.0/16' }] } })).toThrow('allow "team-a" #0: ports: in sidecar mode a REGISTRY_ONLY sidecar passes TCP only to declared ports');
    expect(() => build({ 'team-a': { allow: [{ remoteGenerated: RemoteGenerated.KUBE_API, port: 443 }] } })).toThrow('allow "team-a" #0: remoteGenerated: KubeAPI needs the API server\'s endpoint CIDRs');
  });

  test('HTTP rules with TLS origination are enforced at the gateway: a DENY policy for the restricted identity only', () => {
    const { list, objects } = build({
      'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'api.partner.example', tlsOrigination: OriginationTls.simple(), methods: ['GET'], paths: ['/v1/*'] }, { remoteHost: 'other.partner.example', tlsOrigination: OriginationTls.simple() }] },
      'team-b': { mode: SIDECAR, allow: [{ remoteHost: 'api.partner.example', tlsOrigination: OriginationTls.simple() }] },
    });
    const o = objects();
    const deny = find(o, 'AuthorizationPolicy', 'istio-egress').filter((ap) => ap.spec.action === 'DENY');
    expect(deny).toHaveLength(1);
    expect(deny[0].spec.rules).toEqual([
      { from: [{ source: { namespaces: ['team-a'] } }], to: [{ operation: { ports: ['8080'], notMethods: ['GET'] } }] },
      { from: [{ source: { namespaces: ['team-a'] } }], to: [{ operation: { ports: ['8080'], notPaths: ['/v1/*'] } }] },
    ]);
    // the restricted host has its own gateway (shared by both teams); team A's unrestricted host is elsewhere
    const gw = deny[0].spec.selector.matchLabels['cdk8s-istio-egress/gateway'];
    const allowOnThatGateway = find(o, 'AuthorizationPolicy', 'istio-egress').filter((ap) => ap.spec.action === 'ALLOW' && ap.spec.selector.matchLabels['cdk8s-istio-egress/gateway'] === gw);
    expect(allowOnThatGateway.map(admitted)).toEqual([['ns:team-a', 'ns:team-b']]);
    expect(list.gateways).toHaveLength(2);
    expect(list.matrix.find((r) => r.remote === 'api.partner.example' && r.namespace === 'team-a')!.l7).toBe('GET /v1/*');
  });

  test('HTTP rules that cannot be expressed at the gateway are refused with the fix', () => {
    const o = OriginationTls.simple();
    expect(() => build({ 'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'a.example.com', tlsOrigination: o, methods: ['GET'] }, { remoteHost: 'a.example.com', tlsOrigination: o, methods: ['POST'], selector: { app: 'x' } }] } })).toThrow(
      'allow "team-a" #1: methods: host "a.example.com" already has other HTTP rules for namespace team-a in allow "team-a" #0; give one entry with all the methods and paths',
    );
    expect(() => build({ 'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'a.example.com', tlsOrigination: o, methods: ['GET'] }, { remoteHost: 'a.example.com', tlsOrigination: o, serviceAccount: 'admin' }] } })).toThrow(
      'allow "team-a" #1: serviceAccount: the namespace-wide HTTP rule of allow "team-a" #0 for host "a.example.com" would also restrict service account team-a/admin',
    );
  });

  test('serviceAccount works in sidecar mode (UDS refuses it): the gateway admits that principal only', () => {
    const { objects } = build({ 'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'api.github.com', serviceAccount: 'ci' }] } });
    const aps = find(objects(), 'AuthorizationPolicy', 'istio-egress');
    expect(aps.map(admitted)).toEqual([['cluster.local/ns/team-a/sa/ci']]);
  });
});

describe('EgressAllowList | ambient mode', () => {
  test('one waypoint host per remote host, one ALLOW rule per entry: team B is absent from team A\'s hosts', () => {
    const { list, objects } = build({
      'team-a': { allow: [{ remoteHost: 'api.a.example' }, { remoteHost: 'httpbin.org', remoteProtocol: RemoteProtocol.HTTP, methods: ['GET'], paths: ['/get'] }] },
      'team-b': { allow: [{ remoteHost: 'httpbin.org', remoteProtocol: RemoteProtocol.HTTP, serviceAccount: 'bot' }, { remoteHost: '*.b.example', remoteProtocol: RemoteProtocol.HTTP }] },
    });
    const o = objects();
    expect(list.waypoint!.namespace).toBe('istio-egress-ambient');
    const aps = find(o, 'AuthorizationPolicy', 'istio-egress-ambient');
    const forHost = (se: string) => aps.filter((ap) => ap.spec.targetRefs[0].name === se);
    expect(forHost('api-a-example').map(admitted)).toEqual([['ns:team-a']]);
    expect(forHost('wildcard-b-example').map(admitted)).toEqual([['ns:team-b']]);
    const httpbin = forHost('httpbin-org');
    expect(httpbin.map(admitted).sort()).toEqual([['cluster.local/ns/team-b/sa/bot'], ['ns:team-a']]);
    const teamA = httpbin.find((ap) => admitted(ap)[0] === 'ns:team-a')!;
    expect(teamA.spec.rules[0].to).toEqual([{ operation: { ports: ['80'], methods: ['GET'], paths: ['/get'] } }]);
    // the NetworkPolicies reach the waypoint over HBONE, and the waypoint is fenced to its clients
    expect(JSON.stringify(named(o, 'NetworkPolicy', 'team-a', 'egress-allow-list').spec.egress)).toContain('15008');
    expect(JSON.stringify(named(o, 'NetworkPolicy', 'istio-egress-ambient', 'egress-waypoint-lockdown').spec.ingress)).toContain('"team-b"');
    // ambient namespaces get no Sidecar
    expect(find(o, 'Sidecar')).toEqual([]);
  });

  test('TLS origination at the waypoint; a given waypoint is used', () => {
    const chart = Testing.chart();
    const waypoint = new AmbientEgressWaypoint(chart, 'wp', { namespace: 'egress-ambient' });
    const list = new EgressAllowList(chart, 'egress', { spec: specOf({ 'team-a': { allow: [{ remoteHost: 'api.partner.example', tlsOrigination: OriginationTls.simple() }] } }), waypoint, writeMatrix: false });
    const o = synthValid(chart);
    expect(list.waypoint).toBe(waypoint);
    expect(named(o, 'ServiceEntry', 'egress-ambient', 'api-partner-example').spec.ports).toEqual([{ number: 80, name: 'http-80', protocol: 'HTTP', targetPort: 443 }]);
    expect(named(o, 'DestinationRule', 'egress-ambient', 'api-partner-example-tls').spec.trafficPolicy.tls.mode).toBe('SIMPLE');
  });

  test('a waypoint that already runs (fromAttributes) is used: hosts bound to it, rules for its namespace, no Gateway defined', () => {
    const chart = Testing.chart();
    const waypoint = AmbientEgressWaypoint.fromAttributes(chart, 'wp', { namespace: 'egress-ambient', name: 'waypoint' });
    const list = new EgressAllowList(chart, 'egress', {
      spec: specOf({ 'team-a': { allow: [{ remoteHost: 'api.partner.example', serviceAccount: 'bot' }] } }),
      waypoint,
      writeMatrix: false,
    });
    const o = synthValid(chart);
    expect(list.waypoint).toBe(waypoint);
    expect(o.filter((x) => x.kind === 'Gateway')).toEqual([]);
    const se = named(o, 'ServiceEntry', 'egress-ambient', 'api-partner-example');
    expect(se.metadata.labels['istio.io/use-waypoint']).toBe('waypoint');
    const policies = o.filter((x) => x.kind === 'AuthorizationPolicy' && x.metadata.namespace === 'egress-ambient');
    expect(policies.flatMap((p) => p.spec.rules.flatMap((r: any) => r.from.flatMap((f: any) => f.source.principals)))).toEqual(['cluster.local/ns/team-a/sa/bot']);
    expect(list.matrix.map((r) => r.path)).toEqual(['waypoint egress-ambient/waypoint']);
  });
});

describe('EgressAllowList | conflicts at synth (both modes)', () => {
  for (const mode of [SIDECAR, AMBIENT]) {
    test(`${mode}: an exact host under a wildcard of the same namespace is refused naming both entries`, () => {
      expect(() => build({ 'team-a': { mode, allow: [{ remoteHost: '*.example.com' }, { remoteHost: 'api.example.com', selector: { app: 'x' } }] } })).toThrow(
        'test/egress: allow "team-a" #1: remoteHost: host "api.example.com" (namespace "team-a") overlaps "*.example.com" of allow "team-a" #0 (namespace "team-a") on port 443',
      );
    });

    test(`${mode}: a duplicate entry and a protocol conflict are refused`, () => {
      expect(() => build({ 'team-a': { mode, allow: [{ remoteHost: 'a.example.com' }, { remoteHost: 'a.example.com', port: 443 }] } })).toThrow('allow "team-a" #1: duplicate entry');
      expect(() => build({ 'team-a': { mode, allow: [{ remoteHost: 'a.example.com', port: 8080 }] }, 'team-b': { mode, allow: [{ remoteHost: 'a.example.com', port: 8080, tlsOrigination: OriginationTls.simple() }] } })).toThrow(
        'allow "team-b" #0: protocol conflict for a.example.com:8080',
      );
    });

    test(`${mode}: a host already routed by another construct of the app is refused naming the entry`, () => {
      const chart = Testing.chart();
      if (mode === SIDECAR) {
        const gateway = new EgressGateway(chart, 'gw', { name: 'other', namespace: 'istio-egress' });
        new WildcardEgressGateway(chart, 'other', { gateway, name: 'other', hosts: ['api.stripe.com'] });
      } else {
        // a sidecar route for the host elsewhere in the app (every namespace sees it)
        new WildcardEgressGateway(chart, 'other', { hosts: ['api.stripe.com'], allowFrom: [WorkloadIdentity.anyInMesh()] });
      }
      expect(() => build({ 'team-a': { mode, allow: [{ remoteHost: 'api.stripe.com' }] } }, chart)).toThrow(/test\/egress: allow "team-a" #0: .*host "api\.stripe\.com" is already (routed from sidecars|claimed) by "test\/other"/);
    });
  }

  test('overlapping hosts of different teams are refused in both modes (H2: the wildcard\'s proxy would forward the narrower host to its own teams)', () => {
    expect(() => build({ 'team-a': { mode: SIDECAR, allow: [{ remoteHost: '*.example.com' }] }, 'team-b': { mode: SIDECAR, allow: [{ remoteHost: 'api.example.com' }] } }).objects()).toThrow(
      /allow "team-b" #0: .*host "api.example.com" overlaps "\*.example.com" of .* with other rules: the clients "\*.example.com" admits could reach "api.example.com" under its rules/,
    );
    expect(() => build({ 'team-a': { allow: [{ remoteHost: '*.example.com' }] }, 'team-b': { allow: [{ remoteHost: 'api.example.com' }] } })).toThrow(
      'allow "team-b" #0: remoteHost: host "api.example.com" (namespace "team-b") overlaps "*.example.com" of allow "team-a" #0 (namespace "team-a")',
    );
  });

  test('one host in both modes, and one sidecar host with different ports per team, are refused with the fix', () => {
    expect(() => build({ 'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'a.example.com' }] }, 'team-b': { allow: [{ remoteHost: 'a.example.com' }] } })).toThrow(
      'allow "team-b" #0: remoteHost: host "a.example.com" is allowed in ambient namespace "team-b" and in sidecar namespace "team-a"',
    );
    expect(() => build({ 'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'a.example.com' }] }, 'team-b': { mode: SIDECAR, allow: [{ remoteHost: 'a.example.com', ports: [443, 8443] }] } })).toThrow(
      'allow "team-b" #0: ports: host "a.example.com" is TLS on ports 443, 8443 here but TLS on port 443 in allow "team-a" #0',
    );
  });

  test('sidecar: selectors that may select the same pod are refused; nested ones are fine', () => {
    expect(() => build({ 'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'a.example.com', selector: { app: 'x' } }, { remoteHost: 'b.example.com', selector: { tier: 'web' } }] } })).toThrow(
      'allow "team-a" #1: selector: tier=web and app=x (allow "team-a" #0) can select the same pod of namespace "team-a"',
    );
    expect(() => build({ 'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'a.example.com', selector: { app: 'x' } }, { remoteHost: 'b.example.com', selector: { app: 'y' } }, { remoteHost: 'c.example.com', selector: { app: 'x', tier: 'web' } }] } }).objects()).not.toThrow();
  });

  test('the mesh root and istiod namespaces cannot be team namespaces', () => {
    expect(() => build({ 'istio-system': { allow: [{ remoteHost: 'a.example.com' }] } })).toThrow('test/egress: spec: namespace "istio-system" cannot be a team namespace');
  });
});

describe('EgressAllowList | egress matrix', () => {
  test('lists every namespace, workload, remote, port, protocol, path, origination and HTTP rule; written at synth as Markdown and JSON', () => {
    const app = new App({ outdir: fs.mkdtempSync('/tmp/allow-list-matrix-') });
    const chart = new Chart(app, 'platform');
    const spec = specOf({
      'team-a': { mode: SIDECAR, allow: [{ remoteHost: 'billing.a.example', tlsOrigination: OriginationTls.simple(), selector: { app: 'billing' }, description: 'billing API' }] },
      'team-b': { allow: [{ remoteHost: 'httpbin.org', remoteProtocol: RemoteProtocol.HTTP, methods: ['GET'], paths: ['/get'], serviceAccount: 'bot' }, { remoteCidr: '203.0.113.0/24', port: 5432, selector: { app: 'db-client' } }] },
    });
    const list = new EgressAllowList(chart, 'egress', { spec });
    app.synth();
    expect(list.matrix).toEqual([
      { namespace: 'team-a', mode: 'sidecar', workload: 'app=billing', identity: 'namespace team-a', remote: 'billing.a.example', ports: [80], protocol: 'HTTP', path: 'gateway istio-egress/egress-team-a', tlsOrigination: 'TLS to 443', l7: '', entry: 'allow "team-a" #0', description: 'billing API' },
      { namespace: 'team-b', mode: 'ambient', workload: 'all pods', identity: 'service account team-b/bot', remote: 'httpbin.org', ports: [80], protocol: 'HTTP', path: 'waypoint istio-egress-ambient/egress-waypoint', tlsOrigination: '', l7: 'GET /get', entry: 'allow "team-b" #0', description: '' },
      { namespace: 'team-b', mode: 'ambient', workload: 'app=db-client', identity: '-', remote: '203.0.113.0/24', ports: [5432], protocol: 'TCP', path: 'direct (NetworkPolicy)', tlsOrigination: '', l7: '', entry: 'allow "team-b" #1', description: '' },
    ]);
    const json = JSON.parse(fs.readFileSync(path.join(app.outdir, 'platform-egress.egress-matrix.json'), 'utf-8'));
    expect(json.rows).toEqual(list.matrix);
    expect(JSON.parse(list.matrixJson())).toEqual(json);
    const md = fs.readFileSync(path.join(app.outdir, 'platform-egress.egress-matrix.md'), 'utf-8');
    expect(md).toBe(list.matrixMarkdown());
    expect(md).toContain('| team-b | ambient | all pods | service account team-b/bot | `httpbin.org` | 80 | HTTP | waypoint istio-egress-ambient/egress-waypoint | - | GET /get | allow "team-b" #0 |');
  });

  test('skipped entries are listed, not dropped', () => {
    const spec = new EgressAllowListSpec({ skipUnsupported: true });
    spec.allow('team-a', { remoteNamespace: 'db' });
    spec.allow('team-a', { remoteHost: 'a.example.com' });
    const list = new EgressAllowList(Testing.chart(), 'egress', { spec, writeMatrix: false });
    expect(list.matrix.filter((r) => r.path.startsWith('not realised: remoteNamespace'))).toEqual([expect.objectContaining({ namespace: 'team-a', entry: 'allow "team-a" #0', description: expect.stringContaining('skipped: remoteNamespace') })]);
  });

  test('generated names and construct ids are stable: the same allow-list in another order gives the same objects', () => {
    const entries: Array<[string, EgressAllowEntry]> = [
      ['team-a', { remoteHost: 'a.example.com' }],
      ['team-b', { remoteHost: 'a.example.com' }],
      ['team-b', { remoteHost: 'b.example.com', serviceAccount: 'x' }],
      ['team-c', { remoteHost: 'c.example.com', tlsOrigination: OriginationTls.simple() }],
    ];
    const synthOf = (list: Array<[string, EgressAllowEntry]>) => {
      const spec = new EgressAllowListSpec();
      ['team-a', 'team-b', 'team-c'].forEach((ns) => spec.setNamespaceMode(ns, SIDECAR));
      list.forEach(([ns, e]) => spec.allow(ns, e));
      const chart = Testing.chart();
      new EgressAllowList(chart, 'egress', { spec, writeMatrix: false });
      return synthValid(chart)
        .map((o: any) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)
        .sort();
    };
    expect(synthOf([...entries].reverse())).toEqual(synthOf(entries));
  });
});

describe('EgressAllowList | inputs and NetworkPolicy details', () => {
  test('a spec takes no entry after an EgressAllowList realised it (the entry would be left out silently)', () => {
    const spec = specOf({ 'team-a': { allow: [{ remoteHost: 'api.a.example' }] } });
    new EgressAllowList(Testing.chart(), 'egress', { spec, writeMatrix: false });
    const fix = 'the spec is already realised by test/egress, which would not see this change; add every entry and mode before creating the EgressAllowList';
    expect(() => spec.allow('team-b', { remoteHost: 'api.b.example' })).toThrow(`EgressAllowListSpec.allow("team-b"): ${fix}`);
    expect(() => spec.setNamespaceMode('team-b', DataplaneMode.SIDECAR)).toThrow(`EgressAllowListSpec.setNamespaceMode("team-b"): ${fix}`);
    expect(() => spec.addYaml('namespaces: {}', 'late.yaml')).toThrow(`EgressAllowListSpec.addYaml("late.yaml"): ${fix}`);
    expect(() => spec.addDocument({ namespaces: {} })).toThrow(`EgressAllowListSpec.addDocument("document"): ${fix}`);
    expect(() => spec.addFile('late.yaml')).toThrow(`EgressAllowListSpec.addFile("late.yaml"): ${fix}`);
    expect(() => spec.addUdsPackage({})).toThrow(`EgressAllowListSpec.addUdsPackage("Package"): ${fix}`);
    // realising the same spec again (another chart, another cluster) is fine
    const again = new EgressAllowList(Testing.chart(), 'egress', { spec, writeMatrix: false });
    expect(again.matrix.map((r) => r.remote)).toEqual(['api.a.example']);
  });

  test('the spec lock names odd arguments safely, and lifts when every allow-list that realised it left its app', () => {
    const open = new EgressAllowListSpec();
    // a source that JSON cannot show is no TypeError while the spec is open
    expect(() => open.addDocument({ namespaces: {} }, 5n as any)).not.toThrow();
    expect(() => open.allow(10n as any, { remoteHost: 'api.a.example' })).toThrow('allow (a bigint) #0: invalid namespace (a bigint): expected a string such as "istio-egress"');
    expect(() => open.setNamespaceMode(2n as any, DataplaneMode.SIDECAR)).toThrow('setNamespaceMode((a bigint)): invalid namespace (a bigint): expected a string');
    const chart = Testing.chart();
    const spec = specOf({ 'team-a': { allow: [{ remoteHost: 'api.a.example' }] } });
    new EgressAllowList(chart, 'egress', { spec, writeMatrix: false });
    expect(() => spec.addDocument({ namespaces: {} }, 5n as any)).toThrow('EgressAllowListSpec.addDocument((a bigint)): the spec is already realised by test/egress');
    expect(() => spec.allow(7n as any, { remoteHost: 'api.b.example' })).toThrow('EgressAllowListSpec.allow((a bigint)): the spec is already realised by test/egress');
    chart.node.tryRemoveChild('egress');
    spec.allow('team-b', { remoteHost: 'api.b.example' });
    expect(spec.namespaces).toEqual(['team-a', 'team-b']);
  });

  test('fromFile reads a file of UDS Packages, skipping what is not realised when asked', () => {
    const dir = fs.mkdtempSync('/tmp/allow-list-file-');
    const file = path.join(dir, 'packages.yaml');
    fs.writeFileSync(file, [
      'apiVersion: uds.dev/v1alpha1',
      'kind: Package',
      'metadata: { name: app, namespace: team-a }',
      'spec:',
      '  network:',
      '    serviceMesh: { mode: sidecar }',
      '    allow:',
      '      - { direction: Egress, remoteHost: api.example.com, serviceAccount: app }',
      '      - { direction: Ingress, remoteNamespace: monitoring, port: 9090 }',
    ].join('\n'));
    const chart = Testing.chart();
    expect(() => EgressAllowList.fromFile(chart, 'strict', file, { writeMatrix: false })).toThrow(`${file}: document 1 (Package team-a/app): spec.network.allow[1]: direction Ingress is not realised`);
    const list = EgressAllowList.fromFile(Testing.chart(), 'egress', file, { writeMatrix: false }, { skipUnsupported: true });
    expect(list.modeOf('team-a')).toBe(SIDECAR);
    expect(list.matrix.map((r) => r.path)).toEqual([expect.stringMatching(/^not realised: direction Ingress/), 'gateway istio-egress/egress-team-a-app']);
  });

  test('entry labels go on the NetworkPolicy of their selector; two values for one label are refused', () => {
    const { objects } = build({ 'team-a': { allow: [{ remoteCidr: '10.0.0.0/8', port: 5432, labels: { 'cost-center': 'db' }, selector: { app: 'x' } }] } });
    const np = find(objects(), 'NetworkPolicy', 'team-a').find((p) => p.spec.podSelector.matchLabels?.app === 'x')!;
    expect(np.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress', 'cost-center': 'db' });
    expect(() => build({ 'team-a': { allow: [{ remoteCidr: '10.0.0.0/8', port: 1, labels: { a: 'x' } }, { remoteCidr: '10.0.0.0/8', port: 2, labels: { a: 'y' } }] } })).toThrow(
      'allow "team-a" #1: labels.a: "y" differs from "x" given by allow "team-a" #0 for the same NetworkPolicy',
    );
  });

  test('KubeAPI with the API server CIDRs; UDP CIDRs need no ServiceEntry (sidecars do not capture UDP)', () => {
    const chart = Testing.chart();
    new EgressAllowList(chart, 'egress', {
      spec: specOf({ 'team-a': { mode: SIDECAR, allow: [{ remoteGenerated: RemoteGenerated.KUBE_API, port: 6443 }, { remoteCidr: '192.0.2.53/32', port: 53, remoteProtocol: RemoteProtocol.UDP }] } }),
      kubeApiCidrs: ['10.0.0.1/32', '10.0.0.2/32'],
      writeMatrix: false,
    });
    const o = synthValid(chart);
    const np = named(o, 'NetworkPolicy', 'team-a', 'egress-allow-list');
    expect(np.spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.0.0.1/32' } }], ports: [{ port: 6443, protocol: 'TCP' }] });
    expect(np.spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.0.0.2/32' } }], ports: [{ port: 6443, protocol: 'TCP' }] });
    expect(np.spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '192.0.2.53/32' } }], ports: [{ port: 53, protocol: 'UDP' }] });
    expect(named(o, 'Sidecar', 'team-a', 'egress-allow-list').spec.egress[0].hosts).toEqual(['./*', 'default/kubernetes.default.svc.cluster.local']);
    expect(find(o, 'ServiceEntry', 'team-a')).toEqual([]);
  });

  test('a namespace with a mode and no entries is locked down (DNS and istiod only, REGISTRY_ONLY)', () => {
    const spec = new EgressAllowListSpec();
    spec.setNamespaceMode('quiet', SIDECAR);
    const chart = Testing.chart();
    new EgressAllowList(chart, 'egress', { spec, writeMatrix: false });
    const o = synthValid(chart);
    expect(named(o, 'NetworkPolicy', 'quiet', 'egress-allow-list').spec.egress.flatMap((e: any) => e.ports.map((p: any) => p.port))).toEqual([53, 53, 15012]);
    expect(named(o, 'Sidecar', 'quiet', 'egress-allow-list').spec).toEqual({ egress: [{ hosts: ['./*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } });
  });
});

/**
 * Property: for random allow-lists over three teams, both modes, wildcard and exact hosts, ports, service accounts
 * and origination, synth either fails naming an entry, or succeeds with per-team least privilege: every gateway or
 * waypoint AuthorizationPolicy admits only identities whose entries allow a host it serves, and no team's sidecars
 * see (exportTo) or list (Sidecar) a host it did not allow.
 */
describe('EgressAllowList | properties', () => {
  const hostArb = fc.constantFrom('api.example.com', '*.example.com', 'www.example.com', 'api.other.org', '*.svc.other.org', 'x.svc.other.org');
  const entryArb = fc.record({
    ns: fc.constantFrom('team-a', 'team-b', 'team-c'),
    host: hostArb,
    port: fc.constantFrom(443, 8443),
    sa: fc.option(fc.constantFrom('one', 'two'), { nil: undefined }),
    originate: fc.boolean(),
  });
  const modesArb = fc.record({ 'team-a': fc.constantFrom(SIDECAR, AMBIENT), 'team-b': fc.constantFrom(SIDECAR, AMBIENT), 'team-c': fc.constantFrom(SIDECAR, AMBIENT) });

  test('synth fails naming an entry, or every enforcement point admits exactly the allowed teams', () => {
    fc.assert(
      fc.property(modesArb, fc.array(entryArb, { minLength: 1, maxLength: 6 }), (modes, entries) => {
        const spec = new EgressAllowListSpec();
        Object.entries(modes).forEach(([ns, m]) => spec.setNamespaceMode(ns, m));
        const accepted: typeof entries = [];
        for (const e of entries) {
          const entry: EgressAllowEntry =
            e.originate && !e.host.startsWith('*')
              ? { remoteHost: e.host, tlsOrigination: OriginationTls.simple(), port: e.port === 443 ? 80 : 8080, serviceAccount: e.sa }
              : { remoteHost: e.host, port: e.port, serviceAccount: e.sa };
          try {
            spec.allow(e.ns, entry);
            accepted.push(e);
          } catch (err) {
            expect((err as Error).message).toMatch(/^allow "team-[abc]" #\d+: /);
          }
        }
        const chart = new Chart(new App({ outdir: '/tmp/unused' }), 'test');
        let objects: any[];
        try {
          new EgressAllowList(chart, 'egress', { spec, writeMatrix: false });
          objects = synthValid(chart);
        } catch (err) {
          expect((err as Error).message).toMatch(/^test\/egress: (allow "team-[abc]" #\d+(, allow "team-[abc]" #\d+)*: |spec: )/);
          return;
        }
        const allowedHosts = (ns: string) => new Set(accepted.filter((e) => e.ns === ns).map((e) => e.host));
        for (const ns of ['team-a', 'team-b', 'team-c']) {
          const mine = allowedHosts(ns);
          // sidecar visibility
          for (const h of visibleTo(objects, ns)) {
            if (!h.endsWith('.svc.cluster.local')) {
              expect(mine.has(h)).toBe(true);
            }
          }
          for (const s of find(objects, 'Sidecar', ns)) {
            for (const h of s.spec.egress[0].hosts as string[]) {
              const host = h.split('/')[1];
              if (h !== './*' && !host.endsWith('.svc.cluster.local')) {
                expect(mine.has(host)).toBe(true);
              }
            }
          }
        }
        // gateway APs: every admitted identity has an entry for every host the gateway's construct serves
        const seByLabel = new Map<string, string[]>();
        for (const se of find(objects, 'ServiceEntry', 'istio-egress')) {
          seByLabel.set(se.metadata.labels['app.kubernetes.io/part-of'], se.spec.hosts);
        }
        for (const ap of find(objects, 'AuthorizationPolicy', 'istio-egress')) {
          const hosts = seByLabel.get(ap.metadata.labels['app.kubernetes.io/part-of']) ?? [];
          for (const who of admitted(ap)) {
            const ns = who.startsWith('ns:') ? who.slice(3) : who.split('/')[2];
            const sa = who.startsWith('ns:') ? undefined : who.split('/')[4];
            for (const h of hosts) {
              const sameIdentity = (e: (typeof accepted)[number]) => (sa === undefined ? e.sa === undefined : e.sa === sa || e.sa === undefined);
              const allows = (e: (typeof accepted)[number]) => e.ns === ns && e.host === h && sameIdentity(e);
              expect(accepted.some(allows)).toBe(true);
            }
          }
        }
        // waypoint APs: each admits identities with an entry for that host
        const wpHosts = new Map(find(objects, 'ServiceEntry', 'istio-egress-ambient').map((se) => [se.metadata.name, se.spec.hosts[0]]));
        for (const ap of find(objects, 'AuthorizationPolicy', 'istio-egress-ambient')) {
          const h = wpHosts.get(ap.spec.targetRefs[0].name)!;
          for (const who of admitted(ap)) {
            const ns = who.startsWith('ns:') ? who.slice(3) : who.split('/')[2];
            expect(accepted.some((e) => e.ns === ns && e.host === h)).toBe(true);
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('EgressAllowList | a given egress gateway', () => {
  const SIDE = DataplaneMode.SIDECAR;
  function withGateway(teams: Teams, ports = [EgressPort.tls(443, { targetPort: 8443 }), EgressPort.http(80, { targetPort: 8080 })]) {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', { namespace: 'shared-egress', name: 'egress', ports });
    const list = new EgressAllowList(chart, 'egress', { spec: specOf(teams), gateway, writeMatrix: false });
    return { chart, gateway, list };
  }

  test('one group: every host routes through it (TLS and origination), no gateway is created, the Sidecar sees it', () => {
    const { chart, gateway, list } = withGateway({
      'team-a': { mode: SIDE, allow: [{ remoteHost: '*.stripe.com' }, { remoteHost: 'api.partner.example', tlsOrigination: OriginationTls.simple() }] },
    });
    const o = synthValid(chart);
    expect(list.gateways).toEqual([]);
    expect(find(o, 'Deployment').map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toEqual(['shared-egress/egress']);
    expect(list.matrix.map((r) => r.path)).toEqual(['gateway shared-egress/egress', 'gateway shared-egress/egress']);
    // the servers are on the given gateway's pods, and the client Sidecar lists the gateway Service in its namespace
    const servers = find(o, 'Gateway', 'shared-egress').flatMap((g) => g.spec.servers.map((s: any) => `${JSON.stringify(g.spec.selector)} ${s.port.number}`));
    expect(servers.sort()).toEqual([`${JSON.stringify(gateway.selectorLabels)} 443`, `${JSON.stringify(gateway.selectorLabels)} 80`]);
    const sidecar = find(o, 'Sidecar', 'team-a')[0];
    expect(sidecar.spec.egress[0].hosts).toContain(`shared-egress/${gateway.serviceFqdn}`);
  });

  test('two groups that need the same port are refused, naming both entries: one port of a gateway serves one group', () => {
    expect(() =>
      withGateway({
        'team-a': { mode: SIDE, allow: [{ remoteHost: '*.stripe.com' }] },
        'team-b': { mode: SIDE, allow: [{ remoteHost: 'api.github.com' }] },
      }),
    ).toThrow(
      'test/egress: allow "team-b" #0: gateway: port 443 of the given gateway shared-egress/egress already serves namespace team-a (allow "team-a" #0), ' +
        "and this entry's hosts are for namespace team-b; one port serves one group, or one group would reach the other's hosts at the gateway. " +
        'Drop the gateway option (the allow-list then creates a gateway per group), or give the entries other ports',
    );
  });

  test('two groups on distinct ports share it, each admitted only on its own port', () => {
    const { chart } = withGateway(
      {
        'team-a': { mode: SIDE, allow: [{ remoteHost: '*.stripe.com' }] },
        'team-b': { mode: SIDE, allow: [{ remoteHost: 'mqtt.example.com', port: 8883 }] },
      },
      [EgressPort.tls(443, { targetPort: 8443 }), EgressPort.tls(8883)],
    );
    const o = synthValid(chart);
    const policies = find(o, 'AuthorizationPolicy', 'shared-egress').filter((p) => p.spec.action === 'ALLOW');
    const byPort = Object.fromEntries(policies.flatMap((p) => p.spec.rules.map((r: any) => [r.to[0].operation.ports.join(','), admitted({ spec: { rules: [r] } })])));
    expect(byPort).toEqual({ 8443: ['ns:team-a'], 8883: ['ns:team-b'] });
  });

  test('a port the gateway lacks, or no free HTTP port for origination, is refused with the fix', () => {
    expect(() => withGateway({ 'team-a': { mode: SIDE, allow: [{ remoteHost: 'mqtt.example.com', port: 8883 }] } })).toThrow(/allow "team-a" #0: .*8883/);
    expect(() =>
      withGateway({ 'team-a': { mode: SIDE, allow: [{ remoteHost: 'api.partner.example', tlsOrigination: OriginationTls.simple() }] } }, [EgressPort.tls(443, { targetPort: 8443 })]),
    ).toThrow(
      'test/egress: allow "team-a" #0: tlsOrigination: the given gateway shared-egress/egress has no free HTTP port for the TLS origination of "api.partner.example" ' +
        '(its HTTP ports: none, each serving one group or another construct); add an HTTP port to the gateway (e.g. EgressPort.http(8081)), or drop the gateway option',
    );
  });

  test('a given gateway or waypoint is not fenced unless fenceGivenProxies: its other clients and ports stay open', () => {
    const teams: Teams = {
      'team-a': { mode: SIDE, allow: [{ remoteHost: '*.stripe.com' }] },
      'team-b': { mode: DataplaneMode.AMBIENT, allow: [{ remoteHost: 'api.github.com' }] },
    };
    const fences = (fenceGivenProxies?: boolean) => {
      const chart = Testing.chart();
      const gateway = new EgressGateway(chart, 'gw', { namespace: 'shared-egress', name: 'egress', ports: [EgressPort.tls(443), EgressPort.tls(5432)] });
      // another user of the same gateway, on its own port
      new WildcardEgressGateway(chart, 'db', { gateway, name: 'db', hosts: ['db.partner.example'], ports: [5432], allowFrom: [WorkloadIdentity.allInNamespace('db')] });
      const waypoint = AmbientEgressWaypoint.fromAttributes(chart, 'wp', { namespace: 'egress-ambient', name: 'waypoint' });
      new EgressAllowList(chart, 'egress', { spec: specOf(teams), gateway, waypoint, fenceGivenProxies, writeMatrix: false });
      return find(synthValid(chart), 'NetworkPolicy')
        .filter((np) => ['shared-egress', 'egress-ambient'].includes(np.metadata.namespace))
        .map((np) => `${np.metadata.namespace}/${np.metadata.name}`);
    };
    expect(fences()).toEqual([]);
    expect(fences(true).sort()).toEqual(['egress-ambient/waypoint-lockdown', 'shared-egress/egress-team-a-lockdown']);
  });

  test('one group with overlapping port sets, a port another construct uses, a reserved-range Service port', () => {
    // the same identities, hosts on 443 and on 443+9443: one port serves one set of hosts on a given gateway
    expect(() =>
      withGateway({ 'team-a': { mode: SIDE, allow: [{ remoteHost: 'a.example.com' }, { remoteHost: 'b.example.com', ports: [443, 9443] }] } }, [
        EgressPort.tls(443),
        EgressPort.tls(9443),
      ]),
    ).toThrow(/allow "team-a" #\d: ports: host "[ab]\.example\.com" needs ports .* for the same identities; on the given gateway shared-egress\/egress one port serves one set of hosts/);
    // port 80 is another construct's: the origination takes 81
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', { namespace: 'shared-egress', name: 'egress', ports: [EgressPort.http(80), EgressPort.http(81)] });
    new TlsOriginationEgress(chart, 'other', { gateway, hosts: ['other.example.com'], gatewayPort: 80, allowFrom: [WorkloadIdentity.allInNamespace('other')] });
    const list = new EgressAllowList(chart, 'egress', {
      spec: specOf({ 'team-a': { mode: SIDE, allow: [{ remoteHost: 'api.partner.example', tlsOrigination: OriginationTls.simple() }] } }),
      gateway,
      writeMatrix: false,
    });
    const o = synthValid(chart);
    expect(list.matrix[0].path).toBe('gateway shared-egress/egress');
    expect(find(o, 'Gateway', 'shared-egress').flatMap((g) => g.spec.servers.map((sv: any) => sv.port.number)).sort()).toEqual([80, 81]);
    // a Service port in the proxy's reserved range is the gateway's own choice (its pods listen elsewhere)
    const { chart: c2 } = withGateway({ 'team-a': { mode: SIDE, allow: [{ remoteHost: 'api.partner.example', tlsOrigination: OriginationTls.simple() }] } }, [
      EgressPort.http(15010, { targetPort: 8080 }),
    ]);
    expect(find(synthValid(c2), 'Gateway', 'shared-egress')[0].spec.servers[0].port.number).toBe(15010);
  });

  test('waypointNamespace or istiodWildcardTlsEnabled beside a waypoint, or a waypoint that is not one, are refused', () => {
    const chart = Testing.chart();
    const waypoint = AmbientEgressWaypoint.fromAttributes(chart, 'wp', { namespace: 'egress-ambient', name: 'waypoint' });
    const spec = specOf({ 'team-a': { allow: [{ remoteHost: 'api.github.com' }] } });
    expect(() => new EgressAllowList(chart, 'a', { spec, waypoint, waypointNamespace: 'other' })).toThrow(
      'test/a: waypointNamespace: "other" differs from the namespace of the given waypoint ("egress-ambient"); give one of them',
    );
    expect(() => new EgressAllowList(chart, 'b', { spec, waypoint, istiodWildcardTlsEnabled: true })).toThrow(
      'test/b: istiodWildcardTlsEnabled: applies only to the waypoint the allow-list creates, and a waypoint is given; declare it on that waypoint',
    );
    expect(() => new EgressAllowList(chart, 'c', { spec, waypoint: { namespace: 'x', name: 'y' } as any })).toThrow(/test\/c: waypoint: .*AmbientEgressWaypoint/);
  });

  test('HTTP rules on a given gateway deny on the pod port of the origination port it picked', () => {
    const { chart } = withGateway({
      'team-a': { mode: SIDE, allow: [{ remoteHost: 'api.partner.example', tlsOrigination: OriginationTls.simple(), methods: ['GET'] }] },
    });
    const deny = find(synthValid(chart), 'AuthorizationPolicy', 'shared-egress').filter((p) => p.spec.action === 'DENY');
    expect(deny.flatMap((p) => p.spec.rules.map((r: any) => r.to[0].operation))).toEqual([{ ports: ['8080'], notMethods: ['GET'] }]);
  });

  test('an existing gateway (fromAttributes) is used as is', () => {
    const chart = Testing.chart();
    const gateway = EgressGateway.fromAttributes(chart, 'gw', {
      namespace: 'istio-system-egress',
      serviceName: 'istio-egressgateway',
      selectorLabels: { istio: 'egressgateway' },
      ports: [EgressPort.tls(443, { targetPort: 8443 })],
    });
    const list = new EgressAllowList(chart, 'egress', { spec: specOf({ 'team-a': { mode: SIDE, allow: [{ remoteHost: '*.stripe.com' }] } }), gateway, writeMatrix: false });
    const o = synthValid(chart);
    expect(find(o, 'Deployment')).toEqual([]);
    expect(list.matrix[0].path).toBe('gateway istio-system-egress/istio-egressgateway');
  });

  test('gatewayReplicas, or another gatewayNamespace, beside a gateway are refused', () => {
    const chart = Testing.chart();
    const gateway = new EgressGateway(chart, 'gw', { namespace: 'shared-egress' });
    const spec = specOf({ 'team-a': { mode: SIDE, allow: [{ remoteHost: '*.stripe.com' }] } });
    expect(() => new EgressAllowList(chart, 'a', { spec, gateway, gatewayReplicas: 3 })).toThrow(
      'test/a: gatewayReplicas: applies only to the gateways the allow-list creates, and a gateway is given; set the replicas on that gateway',
    );
    expect(() => new EgressAllowList(chart, 'b', { spec, gateway, gatewayNamespace: 'other' })).toThrow(
      'test/b: gatewayNamespace: "other" differs from the namespace of the given gateway ("shared-egress"); give one of them',
    );
    expect(() => new EgressAllowList(chart, 'c', { spec, gateway: { namespace: 'x' } as any })).toThrow(/test\/c: gateway: .*EgressGateway/);
  });
});
