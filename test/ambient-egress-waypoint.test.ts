import { Chart, Size, Testing } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import { parse } from 'yaml';
import {
  AmbientEgressWaypoint,
  AmbientEgressWaypointProps,
  EgressPort,
  EgressWaypointHostOptions,
  ExternalHost,
  IstioVersion,
  MeshSettings,
  OriginationTls,
  Protocol,
  TrustedCa,
  WaypointHostResolution,
  WorkloadIdentity,
} from '../src';
import { synthValid } from './schema';
import { defineAmbientEgress } from '../examples/ambient-egress/chart';

/** The labels every object of the library carries. */
const LIBRARY = (partOf: string) => ({ 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress', 'app.kubernetes.io/part-of': partOf });

const byKind = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind);
const one = (objects: any[], kind: string) => {
  const found = byKind(objects, kind);
  expect(found).toHaveLength(1);
  return found[0];
};
const named = (objects: any[], kind: string, name: string) => {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0];
};
/** The parsed overrides of the waypoint parameters ConfigMap. */
const parameters = (objects: any[]) => {
  const data = one(objects, 'ConfigMap').data ?? {};
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, parse(v as string)]));
};

/** The waypoint pods' DNS options (M6): names with a dot are looked up as given first. */
const NDOTS_1 = { options: [{ name: 'ndots', value: '1' }] };

const ADMIN = WorkloadIdentity.serviceAccount('default', 'admin');
const SHOP = WorkloadIdentity.serviceAccount('shop', 'checkout');

/** A waypoint with one host and one rule, for failure tests. */
function waypointWith(props: AmbientEgressWaypointProps = {}) {
  const chart = Testing.chart();
  return { chart, waypoint: new AmbientEgressWaypoint(chart, 'Waypoint', props) };
}

function addHost(host: string, options: EgressWaypointHostOptions = {}, props: AmbientEgressWaypointProps = {}) {
  const { waypoint } = waypointWith(props);
  return waypoint.addHost(host, options);
}

describe('AmbientEgressWaypoint | the Istio ambient egress walkthrough', () => {
  test('snapshot: httpbin.org behind a waypoint, TLS originated, admin may do anything, others only GET /get', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const waypoint = defineAmbientEgress(chart);
    // THEN
    const objects = synthValid(chart);
    expect(objects).toMatchSnapshot();
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/common-infrastructure',
      'ConfigMap/egress-gateway-config',
      'Gateway/egress-gateway',
      'ServiceEntry/httpbin-org',
      'DestinationRule/httpbin-org-tls',
      'AuthorizationPolicy/httpbin-org-admin',
      'AuthorizationPolicy/httpbin-org-get-only',
    ]);
    expect(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'common-infrastructure')).toBe(true);

    // the ServiceEntry is bound to the waypoint and sends port 80 to 443
    const se = one(objects, 'ServiceEntry');
    expect(se.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress', 'app.kubernetes.io/part-of': 'egress-gateway', 'istio.io/use-waypoint': 'egress-gateway' });
    expect(se.spec).toMatchObject({
      hosts: ['httpbin.org'],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      ports: [{ number: 80, name: 'http-80', protocol: 'HTTP', targetPort: 443 }],
    });

    // the admin policy has no `to`: everything is allowed to the admin service account
    const targetRefs = [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: 'httpbin-org' }];
    const admin = named(objects, 'AuthorizationPolicy', 'httpbin-org-admin');
    expect(admin.spec).toEqual({ action: 'ALLOW', targetRefs, rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/admin'] } }] }] });

    // everybody else: any mesh identity, GET /get only
    const getOnly = named(objects, 'AuthorizationPolicy', 'httpbin-org-get-only');
    expect(getOnly.spec).toEqual({
      action: 'ALLOW',
      targetRefs,
      rules: [{ from: [{ source: { principals: ['*'] } }], to: [{ operation: { methods: ['GET'], paths: ['/get'] } }] }],
    });
    // a rule for every workload of the mesh makes the ServiceEntry visible to every namespace
    expect(se.spec.exportTo).toEqual(['*']);

    // TLS origination verifies the server certificate against the host name
    const dr = one(objects, 'DestinationRule');
    expect(dr.spec).toEqual({
      host: 'httpbin.org',
      exportTo: ['.'],
      trafficPolicy: { tls: { mode: 'SIMPLE', sni: 'httpbin.org', subjectAltNames: ['httpbin.org'] } },
    });
    expect(dr.spec.trafficPolicy.tls.insecureSkipVerify).toBeUndefined();
    expect(dr.metadata.annotations).toBeUndefined();

    // the waypoint
    // M1: ambient, but not bound to the waypoint as a whole: only the generated ServiceEntries are
    expect(one(objects, 'Namespace').metadata.labels).toEqual({ ...LIBRARY('egress-gateway'), 'istio.io/dataplane-mode': 'ambient' });
    const gateway = one(objects, 'Gateway');
    expect(gateway.metadata.labels).toEqual({ ...LIBRARY('egress-gateway'), 'istio.io/waypoint-for': 'service' });
    expect(gateway.spec.gatewayClassName).toBe('istio-waypoint');
    expect(gateway.spec.listeners).toEqual([{ name: 'mesh', port: 15008, protocol: 'HBONE', allowedRoutes: { namespaces: { from: 'Same' } } }]);
    expect(gateway.spec.infrastructure.parametersRef).toEqual({ group: '', kind: 'ConfigMap', name: 'egress-gateway-config' });
    expect(waypoint.hosts.map((h) => h.ruleNames)).toEqual([['admin', 'get-only']]);
  });

  test('the example app synthesizes to schema-valid manifests', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'ambient-egress');
    defineAmbientEgress(chart);
    const objects = synthValid(chart);
    expect(objects).toHaveLength(7);
    expect(byKind(objects, 'AuthorizationPolicy')).toHaveLength(2);
  });
});

describe('AmbientEgressWaypoint | defaults', () => {
  test('snapshot: a highly available waypoint in istio-egress with a TLS host for one service account', () => {
    // GIVEN
    const chart = Testing.chart();
    const waypoint = new AmbientEgressWaypoint(chart, 'Waypoint');
    // WHEN
    const github = waypoint.addHost('api.github.com');
    github.allow('checkout', { identities: [SHOP] });
    // THEN
    const objects = synthValid(chart);
    expect(objects).toMatchSnapshot();
    expect(one(objects, 'Gateway').metadata).toMatchObject({ name: 'egress-waypoint', namespace: 'istio-egress' });
    expect(one(objects, 'Namespace').metadata.name).toBe('istio-egress');

    const params = parameters(objects);
    expect(Object.keys(params).sort()).toEqual(['deployment', 'podDisruptionBudget']);
    expect(params.deployment.spec.replicas).toBe(2);
    expect(params.deployment.spec.template.spec.topologySpreadConstraints.map((c: any) => c.topologyKey)).toEqual([
      'topology.kubernetes.io/zone',
      'kubernetes.io/hostname',
    ]);
    expect(params.deployment.spec.template.spec.topologySpreadConstraints[0].labelSelector).toEqual({
      matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'egress-waypoint' },
    });
    expect(params.podDisruptionBudget.spec.minAvailable).toBe(1);
    // no YAML anchors in what Istio parses
    expect(one(objects, 'ConfigMap').data.deployment).not.toContain('&');

    const se = one(objects, 'ServiceEntry');
    expect(se.metadata.name).toBe('api-github-com');
    expect(se.spec.ports).toEqual([{ number: 443, name: 'tls-443', protocol: 'TLS' }]);
    expect(se.spec.resolution).toBe('DNS');
    // narrow visibility: the ServiceEntry's namespace and the client's
    expect(se.spec.exportTo).toEqual(['.', 'shop']);
    expect(one(objects, 'AuthorizationPolicy').spec.rules).toEqual([{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/checkout'] } }] }]);
    expect(byKind(objects, 'DestinationRule')).toHaveLength(0);
  });

  test('implements IEgressWaypoint: pod labels, HBONE port and the service account Istio creates', () => {
    const { waypoint } = waypointWith({ namespace: 'egress', name: 'edge' });
    expect(waypoint.selectorLabels).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'edge' });
    expect(waypoint.hbonePort).toBe(15008);
    expect(waypoint.identity.principal()).toBe('cluster.local/ns/egress/sa/edge');
    expect(waypoint.namespace).toBe('egress');
    expect(waypoint.name).toBe('edge');
    expect(waypoint.allowedNamespaces).toEqual(['egress']);
    // MeshSettings.istioVersion: the newest supported release unless the mesh settings say otherwise
    expect(waypoint.istioVersion).toBe(IstioVersion.V1_32);
    expect(waypoint.replicas).toBe(2);
  });

  test('fromAttributes describes an existing waypoint the same way', () => {
    const chart = Testing.chart();
    const existing = AmbientEgressWaypoint.fromAttributes(chart, 'Existing', { namespace: 'istio-egress-ambient', name: 'egress-waypoint' });
    expect(existing.selectorLabels).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'egress-waypoint' });
    expect(existing.hbonePort).toBe(15008);
    expect(existing.identity.principal()).toBe('cluster.local/ns/istio-egress-ambient/sa/egress-waypoint');
    expect(synthValid(chart)).toEqual([]);
  });

  test('fails for an existing waypoint with an invalid name', () => {
    const chart = Testing.chart();
    expect(() => AmbientEgressWaypoint.fromAttributes(chart, 'Existing', { namespace: 'ns', name: 'Edge' })).toThrow(
      'test/Existing: name: invalid waypoint name "Edge": a waypoint name contains upper-case letters; write it in lower case ("edge")',
    );
  });
});

describe('AmbientEgressWaypoint | cross-namespace, wildcard and scaling', () => {
  test('snapshot: a wildcard HTTP host in an application namespace, autoscaled waypoint, namespace managed elsewhere', () => {
    // GIVEN
    const chart = Testing.chart();
    const waypoint = new AmbientEgressWaypoint(chart, 'Waypoint', {
      createNamespace: false,
      allowedNamespaces: ['team-b', 'team-a'],
      autoscaling: { minReplicas: 2, maxReplicas: 6, targetCpuUtilizationPercent: 70 },
      resources: {
        cpu: { request: plus.Cpu.millis(200), limit: plus.Cpu.units(1) },
        memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) },
      },
    });
    // WHEN
    const wiki = waypoint.addHost('*.wikipedia.org', { namespace: 'team-a', ports: [EgressPort.http(80)] });
    wiki.allow('team-a', { identities: [WorkloadIdentity.allInNamespace('team-a'), WorkloadIdentity.serviceAccount('team-b', 'bot')], ports: [80], methods: ['GET', 'HEAD'] });
    // THEN
    const objects = synthValid(chart);
    expect(objects).toMatchSnapshot();
    expect(byKind(objects, 'Namespace')).toHaveLength(0);

    const se = one(objects, 'ServiceEntry');
    expect(se.metadata).toEqual({
      name: 'wildcard-wikipedia-org',
      namespace: 'team-a',
      labels: { ...LIBRARY('egress-waypoint'), 'istio.io/use-waypoint': 'egress-waypoint', 'istio.io/use-waypoint-namespace': 'istio-egress' },
    });
    expect(se.spec.resolution).toBe('DYNAMIC_DNS');
    expect(se.spec.hosts).toEqual(['*.wikipedia.org']);
    expect(se.spec.exportTo).toEqual(['.', 'istio-egress', 'team-b']);

    const ap = one(objects, 'AuthorizationPolicy');
    expect(ap.metadata).toEqual({ name: 'wildcard-wikipedia-org-team-a', namespace: 'team-a', labels: LIBRARY('egress-waypoint') });
    expect(ap.spec.rules).toEqual([
      {
        from: [{ source: { principals: ['cluster.local/ns/team-b/sa/bot'] } }, { source: { namespaces: ['team-a'] } }],
        to: [{ operation: { ports: ['80'], methods: ['GET', 'HEAD'] } }],
      },
    ]);

    expect(one(objects, 'Gateway').spec.listeners[0].allowedRoutes).toEqual({
      namespaces: {
        from: 'Selector',
        selector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['istio-egress', 'team-a', 'team-b'] }] },
      },
    });

    const params = parameters(objects);
    expect(params.horizontalPodAutoscaler.spec).toEqual({
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    });
    // the autoscaler owns the replica count
    expect(params.deployment.spec.replicas).toBeUndefined();
    expect(params.deployment.spec.template.spec.containers).toEqual([
      { name: 'istio-proxy', resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1', memory: '1024Mi' } } },
    ]);
    expect(params.podDisruptionBudget.spec.minAvailable).toBe(1);
    expect(waypoint.replicas).toBeUndefined();
  });

  test('snapshot: a wildcard TLS host on Istio 1.29 with the istiod flag acknowledged', () => {
    const chart = Testing.chart();
    const waypoint = new AmbientEgressWaypoint(chart, 'Waypoint', {
      istioVersion: IstioVersion.V1_29,
      istiodWildcardTlsEnabled: true,
      spreadAcrossZones: false,
      replicas: 1,
      // M3: *.googleapis.com covers every Cloud Storage bucket; accepted here on purpose, recorded on the ServiceEntry
      hostExemptions: [{ host: '*.googleapis.com', reason: 'CI reads Google APIs; bucket access is limited by IAM' }],
    });
    waypoint.addHost('*.googleapis.com').allow('ci', { identities: [WorkloadIdentity.serviceAccount('ci', 'runner')] });
    const objects = synthValid(chart);
    expect(objects).toMatchSnapshot();
    const se = one(objects, 'ServiceEntry');
    expect(se.spec).toMatchObject({ resolution: 'DYNAMIC_DNS', ports: [{ number: 443, protocol: 'TLS', name: 'tls-443' }] });
    // one replica: no zone spreading asked, no disruption budget possible
    expect(parameters(objects)).toEqual({ deployment: { spec: { replicas: 1, template: { spec: { dnsConfig: NDOTS_1 } } } } });
  });

  test('wildcard HTTP works from Istio 1.28 on; HTTP2 and GRPC from 1.30', () => {
    const http = addHost('*.example.com', { ports: [EgressPort.http(80)] }, { istioVersion: IstioVersion.V1_28 });
    expect(http.resolution).toBe(WaypointHostResolution.DYNAMIC_DNS);
    const grpc = addHost('*.example.com', { ports: [EgressPort.of({ number: 8443, protocol: Protocol.GRPC })] }, { istioVersion: IstioVersion.V1_31 });
    expect(grpc.ports[0].protocol).toBe(Protocol.GRPC);
  });

  test('hosts in other namespaces get their policies and TLS settings there, exported to the waypoint', () => {
    const { chart, waypoint } = waypointWith({ allowedNamespaces: ['shop'] });
    const host = waypoint.addHost('payments.example.com', { namespace: 'shop', ports: [EgressPort.http(80)], tlsOrigination: OriginationTls.simple() });
    host.allow('checkout', { identities: [SHOP] });
    const objects = synthValid(chart);
    expect(byKind(objects, 'AuthorizationPolicy')[0].metadata.namespace).toBe('shop');
    expect(one(objects, 'DestinationRule').metadata).toEqual({ name: 'payments-example-com-tls', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress', 'app.kubernetes.io/part-of': 'egress-waypoint' } });
    expect(one(objects, 'DestinationRule').spec.exportTo).toEqual(['.', 'istio-egress']);
    expect(one(objects, 'ServiceEntry').spec.exportTo).toEqual(['.', 'istio-egress']);
  });
});

describe('AmbientEgressWaypoint | hosts, rules and TLS options', () => {
  test('rules can be added on the waypoint by host name', () => {
    const { chart, waypoint } = waypointWith();
    waypoint.addHost('api.example.com', { ports: [EgressPort.http(80), EgressPort.tls(443)] });
    waypoint.allow('reader', { host: 'api.example.com', identities: [SHOP], ports: [80], paths: ['/v1/*', '*.json', '/items/{*}/price'] });
    const ap = one(synthValid(chart), 'AuthorizationPolicy');
    expect(ap.metadata.name).toBe('api-example-com-reader');
    expect(ap.spec.rules[0].to).toEqual([{ operation: { ports: ['80'], paths: ['/v1/*', '*.json', '/items/{*}/price'] } }]);
  });

  test('TLS origination: target port 443 unless given, CA from a Secret in the waypoint namespace, names to check', () => {
    const { chart, waypoint } = waypointWith();
    const host = waypoint.addHost('api.example.com', {
      ports: [EgressPort.http(80), EgressPort.http(8080, { targetPort: 8443 })],
      tlsOrigination: OriginationTls.simple({ ca: TrustedCa.fromSecret('example-ca', 'istio-egress'), subjectAltNames: ['api.example.com', 'edge.example.net'] }),
    });
    host.allow('all', { identities: [WorkloadIdentity.anyInMesh()] });
    const objects = synthValid(chart);
    expect(one(objects, 'ServiceEntry').spec.ports).toEqual([
      { number: 80, name: 'http-80', protocol: 'HTTP', targetPort: 443 },
      { number: 8080, name: 'http-8080', protocol: 'HTTP', targetPort: 8443 },
    ]);
    expect(one(objects, 'DestinationRule').spec.trafficPolicy.tls).toEqual({
      mode: 'SIMPLE',
      sni: 'api.example.com',
      subjectAltNames: ['api.example.com', 'edge.example.net'],
      credentialName: 'example-ca',
    });
    expect(host.destinationRuleName).toBe('api-example-com-tls');
    // istiod serves a CA-only Secret of the waypoint's own namespace without RBAC: none is created
    expect(byKind(objects, 'Role')).toHaveLength(0);
  });

  test('TLS origination with a CA file', () => {
    const { chart, waypoint } = waypointWith();
    waypoint
      .addHost('api.example.com', { ports: [EgressPort.http(80)], tlsOrigination: OriginationTls.simple({ ca: TrustedCa.fromFile('/etc/certs/ca.pem') }) })
      .allow('all', { identities: [SHOP] });
    expect(one(synthValid(chart), 'DestinationRule').spec.trafficPolicy.tls).toEqual({
      mode: 'SIMPLE',
      sni: 'api.example.com',
      subjectAltNames: ['api.example.com'],
      caCertificates: '/etc/certs/ca.pem',
    });
  });

  test('no verification only on explicit request with a reason, recorded on the DestinationRule; SNI is still sent, no names', () => {
    const { chart, waypoint } = waypointWith();
    waypoint
      .addHost('self-signed.example.com', {
        ports: [EgressPort.http(80)],
        tlsOrigination: OriginationTls.insecureWithoutVerification({ reason: 'lab server with a self-signed certificate (OPS-1)' }),
      })
      .allow('all', { identities: [SHOP] });
    const dr = one(synthValid(chart), 'DestinationRule');
    expect(dr.metadata.annotations).toEqual({ 'cdk8s-istio-egress/insecure-skip-verify-reason': 'lab server with a self-signed certificate (OPS-1)' });
    // Istio rejects a CA, credentialName or subjectAltNames beside insecureSkipVerify.
    expect(dr.spec.trafficPolicy.tls).toEqual({ mode: 'SIMPLE', sni: 'self-signed.example.com', insecureSkipVerify: true });
  });

  test('explicit names, exportTo and DNS_ROUND_ROBIN', () => {
    const { chart, waypoint } = waypointWith();
    const host = waypoint.addHost('api.example.com', {
      name: 'example-api',
      exportTo: ['.', 'shop'],
      resolution: WaypointHostResolution.DNS_ROUND_ROBIN,
    });
    host.allow('checkout', { identities: [SHOP] });
    const objects = synthValid(chart);
    expect(one(objects, 'ServiceEntry').metadata.name).toBe('example-api');
    expect(one(objects, 'ServiceEntry').spec.exportTo).toEqual(['.', 'shop']);
    expect(one(objects, 'ServiceEntry').spec.resolution).toBe('DNS_ROUND_ROBIN');
    expect(one(objects, 'AuthorizationPolicy').metadata.name).toBe('example-api-checkout');
    expect(host.node.id).toBe('example-api');
  });

  test('long host names give DNS labels of at most 63 characters', () => {
    const long = `${'a'.repeat(40)}.${'b'.repeat(40)}.example.com`;
    const { chart, waypoint } = waypointWith();
    waypoint.addHost(long).allow('reader-with-a-long-name', { identities: [SHOP] });
    const objects = synthValid(chart);
    const names = objects.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.name as string);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
    expect(one(objects, 'ServiceEntry').metadata.name).toMatch(new RegExp(`^${'a'.repeat(40)}-${'b'.repeat(13)}-[0-9a-f]{8}$`));
  });

  test('the trust domain of the mesh shapes the principals', () => {
    const { chart, waypoint } = waypointWith({ mesh: new MeshSettings({ trustDomain: 'prod.example.com' }) });
    waypoint.addHost('api.example.com').allow('checkout', { identities: [SHOP] });
    expect(one(synthValid(chart), 'AuthorizationPolicy').spec.rules[0].from).toEqual([{ source: { principals: ['prod.example.com/ns/shop/sa/checkout'] } }]);
  });

  test('an exact host may sit under a wildcard host when their shared ports agree', () => {
    const { waypoint } = waypointWith();
    waypoint.addHost('*.example.com', { ports: [EgressPort.http(80)] });
    const exact = waypoint.addHost('api.example.com', { ports: [EgressPort.http(80), EgressPort.tls(443)] });
    expect(exact.serviceEntryName).toBe('api-example-com');
    expect(waypoint.hosts.map((h) => h.host.name)).toEqual(['*.example.com', 'api.example.com']);
  });

  test('minAvailable 0 means no PodDisruptionBudget', () => {
    const { chart, waypoint } = waypointWith({ replicas: 3, minAvailable: 0, spreadAcrossZones: false });
    waypoint.addHost('api.example.com').allow('checkout', { identities: [SHOP] });
    expect(parameters(synthValid(chart))).toEqual({ deployment: { spec: { replicas: 3, template: { spec: { dnsConfig: NDOTS_1 } } } } });
  });
});

describe('IstioVersion', () => {
  test.each([
    [IstioVersion.V1_28, '1.28', [Protocol.HTTP]],
    [IstioVersion.V1_29, '1.29', [Protocol.HTTP, Protocol.TLS]],
    [IstioVersion.V1_30, '1.30', [Protocol.HTTP, Protocol.TLS, Protocol.HTTP2, Protocol.GRPC]],
    [IstioVersion.V1_31, '1.31', [Protocol.HTTP, Protocol.TLS, Protocol.HTTP2, Protocol.GRPC]],
  ])('%s', (version, text, protocols) => {
    expect(version.toString()).toBe(text);
    expect(version.major).toBe(1);
    expect(version.waypointDynamicDnsProtocols()).toEqual(protocols);
  });

  test('orders releases', () => {
    expect(IstioVersion.V1_30.atLeast(IstioVersion.V1_29)).toBe(true);
    expect(IstioVersion.V1_30.atLeast(IstioVersion.V1_30)).toBe(true);
    expect(IstioVersion.V1_28.atLeast(IstioVersion.V1_29)).toBe(false);
  });
});

describe('AmbientEgressWaypoint | conflicts and bad input fail with path, field, value and fix', () => {
  const W = 'test/Waypoint';
  const H = (name: string) => `${W}/${name}`;

  test.each([
    ['*', `${W}: host: invalid host "*": the bare wildcard allows every host on the internet; list the domains you need (e.g. "*.example.com"), or opt in explicitly with allowAnyHost and read its risks (ExternalHostOptions.allowAnyHost in API.md)`],
    ['*foo.example.com', `${W}: host: invalid host "*foo.example.com": a wildcard must be the whole leftmost label, as in "*.example.com" (partial wildcards are not allowed)`],
    ['foo.*.example.com', `${W}: host: invalid host "foo.*.example.com": a wildcard is only allowed as the whole leftmost label, as in "*.example.com"`],
    ['httpbin', `${W}: host: invalid host "httpbin": short names are not allowed; an external host must be a fully qualified name such as "httpbin.com"`],
    ['HTTPBIN.org', `${W}: host: invalid host "HTTPBIN.org": label "HTTPBIN" contains upper-case letters; write it in lower case ("httpbin")`],
    ['foo.123', `${W}: host: invalid host "foo.123": top level domain "123" cannot be all-numeric (IP addresses are not host names; use a DNS name)`],
    ['https://httpbin.org', `${W}: host: invalid host "https://httpbin.org": a host is a DNS name, not a URL; remove the scheme and path (e.g. "api.example.com")`],
  ])('fails for the invalid host %j', (host, message) => {
    expect(() => addHost(host)).toThrow(message);
  });

  test('fails when a host is added twice', () => {
    const { waypoint } = waypointWith();
    waypoint.addHost('httpbin.org');
    expect(() => waypoint.addHost('httpbin.org', { ports: [EgressPort.http(80)] })).toThrow(
      `${W}: host: host "httpbin.org" is already added (${H('httpbin-org')}); add each host once, with all its ports and rules`,
    );
  });

  test('fails when two hosts would get the same ServiceEntry name', () => {
    const { waypoint } = waypointWith();
    waypoint.addHost('a-b.example.com');
    expect(() => waypoint.addHost('a.b-example.com')).toThrow(
      `${W}: name: ServiceEntry name "a-b-example-com" of host "a.b-example.com" is already used by host "a-b.example.com"; give one of them another name`,
    );
    expect(() => waypoint.addHost('a.b-example.com', { name: 'Other' })).toThrow(
      `${W}: name: invalid ServiceEntry name "Other": a ServiceEntry name contains upper-case letters; write it in lower case ("other")`,
    );
    expect(waypoint.addHost('a.b-example.com', { name: 'a-b-example-com-2' }).serviceEntryName).toBe('a-b-example-com-2');
  });

  test('fails when two rules of different hosts would get the same AuthorizationPolicy name', () => {
    const { waypoint } = waypointWith();
    waypoint.addHost('a.example.com', { name: 'x' }).allow('y-z', { identities: [SHOP] });
    const other = waypoint.addHost('b.example.com', { name: 'x-y' });
    expect(() => other.allow('z', { identities: [SHOP] })).toThrow(
      `${H('x-y')}: rule "z": AuthorizationPolicy name "istio-egress/x-y-z" is already used by ${H('x')}; choose another name`,
    );
  });

  test('fails when a rule names an unknown host', () => {
    const { waypoint } = waypointWith();
    waypoint.addHost('httpbin.org');
    expect(() => waypoint.allow('admin', { host: 'httpbin.com', identities: [ADMIN] })).toThrow(
      `${W}: rule "admin": host: unknown host "httpbin.com" (hosts: "httpbin.org"); add it with addHost first`,
    );
    expect(() => waypointWith().waypoint.allow('admin', { host: 'httpbin.org', identities: [ADMIN] })).toThrow(
      `${W}: rule "admin": host: unknown host "httpbin.org" (hosts: none); add it with addHost first`,
    );
  });

  test('fails when the same port of a host is declared twice with different protocols', () => {
    expect(() => addHost('api.example.com', { ports: [EgressPort.tls(443), EgressPort.http(443)] })).toThrow(
      `${H('api-example-com')}: ports[1]: port 443 of host "api.example.com" is declared twice with different protocols (TLS at ports[0], HTTP here); ` +
        'a host port carries one protocol: keep one, or use another port number',
    );
  });

  test('fails when overlapping hosts declare the same port with different protocols', () => {
    const { waypoint } = waypointWith();
    waypoint.addHost('*.example.com', { ports: [EgressPort.http(8443)] });
    expect(() => waypoint.addHost('api.example.com', { ports: [EgressPort.tls(8443)] })).toThrow(
      `${H('api-example-com')}: ports: port 8443 of "api.example.com" is TLS but host "*.example.com" (which overlaps it) declares port 8443 as HTTP; ` +
        'the waypoint can serve one protocol per host name and port, so use the same protocol or another port',
    );
  });

  test('fails naming the first host added that overlaps with another protocol when several do', () => {
    const { waypoint } = waypointWith({ istiodWildcardTlsEnabled: true });
    waypoint.addHost('*.example.com', { ports: [EgressPort.http(8443)] });
    waypoint.addHost('*.a.example.com', { ports: [EgressPort.http(8443)] });
    expect(() => waypoint.addHost('api.a.example.com', { ports: [EgressPort.tls(8443)] })).toThrow(
      `${H('api-a-example-com')}: ports: port 8443 of "api.a.example.com" is TLS but host "*.example.com" (which overlaps it) declares port 8443 as HTTP; ` +
        'the waypoint can serve one protocol per host name and port, so use the same protocol or another port',
    );
    // a wildcard added after the hosts it covers: the first of them in the order added, and its first clashing port
    const other = waypointWith({ istiodWildcardTlsEnabled: true }).waypoint;
    other.addHost('c.other.com', { ports: [EgressPort.http(443)] });
    other.addHost('api.b.other.com', { ports: [EgressPort.http(80), EgressPort.tls(8443)] });
    other.addHost('b.other.com', { ports: [EgressPort.http(8443)] });
    expect(() => other.addHost('*.other.com', { ports: [EgressPort.tls(8443), EgressPort.tls(80)] })).toThrow(
      `${H('wildcard-other-com')}: ports: port 80 of "*.other.com" is TLS but host "api.b.other.com" (which overlaps it) declares port 80 as HTTP; ` +
        'the waypoint can serve one protocol per host name and port, so use the same protocol or another port',
    );
  });

  test('a host is refused exactly when a host added before overlaps it with another protocol on a port, naming the first such host (same as checking every pair)', () => {
    // short labels from a small alphabet, so overlaps are frequent; no "-" or "wildcard" label, so ServiceEntry names differ
    const label = fc.constantFrom('a', 'b', 'c', 'ab');
    const name = fc.array(label, { minLength: 2, maxLength: 4 }).map((ls) => ls.join('.'));
    const port = fc.record({ number: fc.constantFrom(80, 443, 8443), tls: fc.boolean() });
    const entry = fc.record({ host: fc.oneof(name, name.map((n) => `*.${n}`)), ports: fc.uniqueArray(port, { minLength: 1, maxLength: 3, selector: (p) => p.number }) });
    fc.assert(
      fc.property(fc.uniqueArray(entry, { maxLength: 15, selector: (e) => e.host }), (entries) => {
        const { waypoint } = waypointWith({ istiodWildcardTlsEnabled: true });
        const added: { host: ExternalHost; ports: EgressPort[] }[] = [];
        for (const e of entries) {
          const host = ExternalHost.of(e.host);
          const ports = e.ports.map((p) => (p.tls ? EgressPort.tls(p.number) : EgressPort.http(p.number)));
          let expected: string | undefined;
          for (const other of added) {
            const clashes = (p: EgressPort) => other.ports.find((o) => o.number === p.number && o.protocol !== p.protocol);
            const mine = ports.find((p) => clashes(p) !== undefined);
            if (other.host.overlaps(host) && mine !== undefined) {
              expected = `port ${mine.number} of "${host.name}" is ${mine.protocol} but host "${other.host.name}" (which overlaps it) declares port ${mine.number} as ${clashes(mine)!.protocol}`;
              break;
            }
          }
          let actual: string | undefined;
          try {
            waypoint.addHost(e.host, { ports });
          } catch (err) {
            actual = (err as Error).message;
          }
          if (expected === undefined) {
            expect(actual).toBeUndefined();
            added.push({ host, ports });
          } else {
            expect(actual).toContain(expected);
          }
        }
        expect(waypoint.hosts.map((h) => h.host.name)).toEqual(added.map((a) => a.host.name));
      }),
      { numRuns: 300 },
    );
  });

  test('fails for invalid ports (from the building blocks) and empty or null port lists', () => {
    expect(() => EgressPort.http(70000)).toThrow('port number 70000 must be an integer in the range 1..65535');
    expect(() => EgressPort.of({ number: 443, protocol: Protocol.TLS, name: 'TLS_443' })).toThrow('invalid port name "TLS_443"');
    expect(() => addHost('api.example.com', { ports: [EgressPort.tls(443), EgressPort.tls(443)] })).toThrow(
      `${H('api-example-com')}: ports[1]: port 443 already defined at ports[0]; each port number may appear once`,
    );
    expect(() => addHost('api.example.com', { ports: [] })).toThrow(
      `${H('api-example-com')}: ports: at least one port is required, e.g. from EgressPort.tls with 443 or EgressPort.http with 80`,
    );
    expect(() => addHost('api.example.com', { ports: [null as any] })).toThrow(
      `${H('api-example-com')}: ports[0]: an EgressPort must not be null; remove the empty entry`,
    );
  });

  test('fails for TLS origination on a non-HTTP port', () => {
    expect(() => addHost('api.example.com', { ports: [EgressPort.tls(443)], tlsOrigination: OriginationTls.simple() })).toThrow(
      `${H('api-example-com')}: ports[0]: TLS origination needs HTTP from the application, but TLS 443 (tls-443) is not an HTTP port ` +
        '(the application already speaks TLS there, so the waypoint would encrypt twice); use an HTTP port that targets 443 (EgressPort.http with 80 and targetPort 443), or drop tlsOrigination to pass the TLS through',
    );
  });

  test('fails for TLS origination to a wildcard host', () => {
    expect(() => addHost('*.example.com', { ports: [EgressPort.http(80)], tlsOrigination: OriginationTls.simple() })).toThrow(
      `${H('wildcard-example-com')}: tlsOrigination: TLS origination for wildcard host "*.example.com" is not supported: the server name is only known per request, ` +
        'so the certificate could not be checked against a fixed name; add each exact host you need with its own TLS origination',
    );
  });

  test.each([
    [
      OriginationTls.mutual({ credentialName: 'client-credential' }),
      'tlsOrigination: MUTUAL (secret client-credential) cannot be originated at a waypoint: Istio reads the client certificate Secret (credentialName) ' +
        'from the waypoint\'s namespace ("istio-egress"), and istiod hands its private key only to a proxy whose service account may read the Secrets there, ' +
        'which Istio does not grant the waypoints it deploys (granting it would let every namespace bound to the waypoint make it present the certificate); ' +
        'originate mutual TLS at an egress gateway (TlsOriginationEgress with OriginationTls.mutual), or verify the server only with OriginationTls.simple',
    ],
    [
      OriginationTls.simple({ ca: TrustedCa.fromSecret('example-ca', 'shop') }),
      'tlsOrigination: ca: the Secret "example-ca" is in namespace "shop", but Istio reads credentialName Secrets only from the namespace of the proxy that uses them, ' +
        'the egress waypoint\'s ("istio-egress"); create the Secret in "istio-egress"',
    ],
    [OriginationTls.simple({ ca: TrustedCa.fromSecret('My_CA') }), 'tlsOrigination: ca: invalid CA secret name "My_CA"'],
    [
      OriginationTls.simple({ ca: TrustedCa.fromFile('ca.pem') }),
      'tlsOrigination: ca: CA file "ca.pem" must be an absolute path without spaces inside the waypoint pods, e.g. "/etc/istio/egress-ca/ca.crt"',
    ],
    [
      OriginationTls.simple({ subjectAltNames: [] }),
      'tlsOrigination: subjectAltNames: an empty list turns the host name check off; omit it to check the host name, or list the names the certificate carries',
    ],
    [OriginationTls.simple({ subjectAltNames: ['api example'] }), 'tlsOrigination: subjectAltNames[0]: "api example" is not a certificate name; give a DNS name such as "api.example.com"'],
    [OriginationTls.insecureWithoutVerification({ reason: '' }), 'tlsOrigination: reason: insecureWithoutVerification needs a reason (why the server certificate cannot be verified)'],
    [{ options: { insecureSkipVerify: true } } as any, 'tlsOrigination: expected an OriginationTls, got an object {"options":{"insecureSkipVerify":true}}; make one with OriginationTls.simple'],
  ])('fails for the TLS origination %s', (tlsOrigination, message) => {
    expect(() => addHost('api.example.com', { ports: [EgressPort.http(80)], tlsOrigination })).toThrow(`${H('api-example-com')}: ${message}`);
  });

  describe('allow rules', () => {
    const mixed = () => addHost('api.example.com', { ports: [EgressPort.http(80), EgressPort.tls(443)] });
    const A = `${H('api-example-com')}: rule "r"`;

    test('fails for HTTP methods or paths on a TLS or TCP port, with the reason', () => {
      expect(() => mixed().allow('r', { identities: [SHOP], methods: ['GET'] })).toThrow(
        `${A}.methods: HTTP methods and paths only apply to HTTP ports, but the rule covers TLS 443 (tls-443) of host "api.example.com", where the waypoint cannot see requests ` +
          '(an ALLOW rule with HTTP conditions never matches there); restrict the rule with ports to the HTTP ports, or originate TLS at the waypoint on an HTTP port',
      );
      expect(() => mixed().allow('r', { identities: [SHOP], ports: [443], paths: ['/get'] })).toThrow(`${A}.paths: HTTP methods and paths only apply to HTTP ports, but the rule covers TLS 443 (tls-443)`);
      const tcp = addHost('db.example.com', { ports: [EgressPort.tcp(5432)] });
      expect(() => tcp.allow('r', { identities: [SHOP], paths: ['/'] })).toThrow('the rule covers TCP 5432 (tcp-5432) of host "db.example.com"');
      // restricted to the HTTP port, it is fine
      mixed().allow('r', { identities: [SHOP], ports: [80], methods: ['GET'] });
    });

    test.each([
      [{ identities: [] }, '.identities: at least one identity is required; use WorkloadIdentity.anyInMesh to allow every in-mesh workload'],
      [{ identities: undefined as any }, '.identities: at least one identity is required; use WorkloadIdentity.anyInMesh to allow every in-mesh workload'],
      [{ identities: [null as any] }, '.identities[0]: a WorkloadIdentity must not be null; remove the empty entry'],
      [{ identities: [SHOP], ports: [8080] }, '.ports[0]: 8080 is not a port of host "api.example.com" (ports: 80, 443); name the client port the ServiceEntry declares'],
      [{ identities: [SHOP], ports: [80, 80] }, '.ports[1]: port 80 is listed twice; remove the duplicate'],
      [{ identities: [SHOP], ports: [] }, '.ports: an empty list allows no port; omit ports to allow every port of the host'],
      [{ identities: [SHOP], ports: [80], methods: ['get'] }, '.methods[0]: invalid method "get"; write it in upper case ("GET"): methods are compared exactly'],
      [{ identities: [SHOP], ports: [80], methods: ['G E T'] }, '.methods[0]: invalid method "G E T"; give an HTTP method such as "GET"'],
      [{ identities: [SHOP], ports: [80], methods: [] }, '.methods: an empty list would allow no method; omit methods to allow every method'],
      [{ identities: [SHOP], ports: [80], methods: ['GET', 'GET'] }, '.methods[1]: method "GET" is listed twice; remove the duplicate'],
      [{ identities: [SHOP], ports: [80], paths: ['get'] }, '.paths[0]: invalid path "get": start it with "/" (exact or prefix match) or "*" (suffix match)'],
      [{ identities: [SHOP], ports: [80], paths: ['/get?x=1'] }, '.paths[0]: invalid path "/get?x=1": the path Istio matches never contains the query string or fragment; remove everything from "?" or "#"'],
      [{ identities: [SHOP], ports: [80], paths: ['/a/*/b'] }, '.paths[0]: invalid path "/a/*/b": a "*" is only allowed as the first or last character (suffix or prefix match), or as a whole segment "{*}" / "{**}"'],
      [{ identities: [SHOP], ports: [80], paths: ['/a b'] }, '.paths[0]: invalid path "/a b": a path must not contain white space'],
      [{ identities: [SHOP], ports: [80], paths: [''] }, '.paths[0]: invalid path "": a path must be a non-empty string such as "/get"'],
      [{ identities: [SHOP], ports: [80], paths: [] }, '.paths: an empty list would allow no path; omit paths to allow every path'],
    ])('fails for the rule %#', (options, message) => {
      expect(() => mixed().allow('r', options as any)).toThrow(`${A}${message}`);
    });

    test('fails for an invalid or repeated rule name', () => {
      const host = mixed();
      expect(() => host.allow('Admin', { identities: [ADMIN] })).toThrow(
        `${H('api-example-com')}: rule "Admin": invalid rule name "Admin": a rule name contains upper-case letters; write it in lower case ("admin")`,
      );
      host.allow('admin', { identities: [ADMIN] });
      expect(() => host.allow('admin', { identities: [SHOP] })).toThrow(
        `${H('api-example-com')}: rule "admin": rule "admin" is already defined for host "api.example.com"; give each rule its own name`,
      );
    });

    test('fails at synth for a host without any allow rule (a waypoint ServiceEntry without ALLOW policy allows everyone)', () => {
      const { chart, waypoint } = waypointWith();
      waypoint.addHost('httpbin.org');
      expect(() => Testing.synth(chart)).toThrow(
        `[${H('httpbin-org')}] host "httpbin.org" has no allow rule: a ServiceEntry bound to a waypoint with no ALLOW AuthorizationPolicy lets every client through; ` +
          'add one with the host\'s allow method (WorkloadIdentity.anyInMesh allows every workload explicitly)',
      );
    });
  });

  describe('resolution and wildcard hosts', () => {
    test('fails for a wildcard host with DNS resolution', () => {
      expect(() => addHost('*.example.com', { resolution: WaypointHostResolution.DNS })).toThrow(
        `${H('wildcard-example-com')}: resolution: wildcard host "*.example.com" cannot use resolution DNS: Istio rejects it ` +
          '("hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode DNS"); use WaypointHostResolution.DYNAMIC_DNS (Istio >= 1.28) or list the exact hosts',
      );
    });

    test('fails for DYNAMIC_DNS with an exact host', () => {
      expect(() => addHost('api.example.com', { resolution: WaypointHostResolution.DYNAMIC_DNS })).toThrow(
        `${H('api-example-com')}: resolution: resolution DYNAMIC_DNS needs a wildcard host but "api.example.com" is exact (Istio: "host must be wildcarded for resolution mode DYNAMIC_DNS"); use WaypointHostResolution.DNS`,
      );
    });

    test('fails for an unknown resolution (from another language)', () => {
      expect(() => addHost('api.example.com', { resolution: 'NONE' as any })).toThrow(
        `${H('api-example-com')}: resolution: resolution "NONE" is not a WaypointHostResolution; use one of WaypointHostResolution.DNS, WaypointHostResolution.DNS_ROUND_ROBIN, WaypointHostResolution.DYNAMIC_DNS`,
      );
    });

    test('fails for a wildcard host with a TCP or HTTPS port', () => {
      expect(() => addHost('*.example.com', { ports: [EgressPort.tcp(5432)] })).toThrow(
        `${H('wildcard-example-com')}: ports[0]: wildcard host "*.example.com" (DYNAMIC_DNS) cannot have TCP 5432 (tcp-5432): Istio allows only HTTP, TLS, GRPC and HTTP2 ports for resolution DYNAMIC_DNS; ` +
          'use one of those or list the exact hosts',
      );
      expect(() => addHost('*.example.com', { ports: [EgressPort.https(443)] })).toThrow('cannot have HTTPS 443 (https-443): Istio allows only HTTP, TLS, GRPC and HTTP2 ports for resolution DYNAMIC_DNS; use EgressPort.tls');
    });

    test('fails for wildcard TLS before Istio 1.29', () => {
      expect(() => addHost('*.example.com', {}, { istioVersion: IstioVersion.V1_28, istiodWildcardTlsEnabled: true })).toThrow(
        `${H('wildcard-example-com')}: ports[0]: wildcard host "*.example.com" with TLS 443 (tls-443) needs Istio >= 1.29 at a waypoint, but the waypoint's istioVersion is 1.28; ` +
          'upgrade Istio and set istioVersion, or list the exact hosts',
      );
    });

    test('fails for wildcard GRPC before Istio 1.30', () => {
      expect(() => addHost('*.example.com', { ports: [EgressPort.of({ number: 50051, protocol: Protocol.GRPC })] }, { istioVersion: IstioVersion.V1_29 })).toThrow(
        'needs Istio >= 1.30 at a waypoint, but the waypoint\'s istioVersion is 1.29',
      );
    });

    test('fails for wildcard TLS without the istiod flag acknowledged (SNI spoofing)', () => {
      expect(() => addHost('*.example.com', {}, { istioVersion: IstioVersion.V1_31 })).toThrow(
        `${H('wildcard-example-com')}: ports[0]: wildcard host "*.example.com" with TLS 443 (tls-443) needs istiod started with ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true, ` +
          'which Istio keeps off because the waypoint then routes on the SNI the client chooses (SNI spoofing, domain fronting); list the exact hosts, ' +
          'or enable the flag and set istiodWildcardTlsEnabled to true on the waypoint to accept the risk',
      );
    });
  });

  describe('namespaces and exportTo', () => {
    test('fails for a host namespace the waypoint does not accept ServiceEntries from', () => {
      expect(() => addHost('api.example.com', { namespace: 'shop' })).toThrow(
        `${H('api-example-com')}: namespace: namespace "shop" may not use waypoint istio-egress/egress-waypoint: its listener only accepts ServiceEntries from istio-egress, ` +
          'so the ServiceEntry would not be bound and traffic would bypass the waypoint; add "shop" to the waypoint\'s allowedNamespaces',
      );
      expect(() => addHost('api.example.com', { namespace: 'Shop' })).toThrow(
        `${H('api-example-com')}: namespace: invalid namespace "Shop": a namespace contains upper-case letters; write it in lower case ("shop")`,
      );
    });

    test.each([
      [['shop'], 'exportTo: the waypoint\'s namespace "istio-egress" is missing, so the waypoint could not see the ServiceEntry; add "."'],
      [['.', '~'], 'exportTo[1]: "~" hides the ServiceEntry from every namespace, including the waypoint\'s, so nothing would use it; remove the host instead'],
      [['*', '.'], 'exportTo: "*" already means every namespace; it cannot be combined with other entries'],
      [['.', 'istio-egress'], 'exportTo[1]: "istio-egress" repeats exportTo[0] ("." is the ServiceEntry\'s own namespace "istio-egress"); remove the duplicate'],
      [[], 'exportTo: an empty list exports to every namespace (Istio default); list the namespaces, or ["*"] to mean every namespace'],
      [['.', 'Shop'], 'exportTo[1]: invalid namespace "Shop"'],
    ])('fails for exportTo %j', (exportTo, message) => {
      expect(() => addHost('api.example.com', { exportTo })).toThrow(`${H('api-example-com')}: ${message}`);
    });

    test('fails for a repeated allowed namespace', () => {
      expect(() => waypointWith({ allowedNamespaces: ['istio-egress'] })).toThrow(
        `${W}: allowedNamespaces[0]: namespace "istio-egress" is listed twice (the waypoint's own namespace is always allowed); remove the duplicate`,
      );
      expect(() => waypointWith({ allowedNamespaces: ['a', 'a'] })).toThrow(`${W}: allowedNamespaces[1]: namespace "a" is listed twice`);
      expect(() => waypointWith({ allowedNamespaces: ['A'] })).toThrow(`${W}: allowedNamespaces[0]: invalid namespace "A"`);
    });

    test('fails for an invalid waypoint namespace or name', () => {
      expect(() => waypointWith({ namespace: 'istio_egress' })).toThrow(`${W}: namespace: invalid namespace "istio_egress": a namespace must consist of lower-case letters`);
      expect(() => waypointWith({ name: 'egress.waypoint' })).toThrow(`${W}: name: invalid waypoint name "egress.waypoint": a waypoint name must consist of lower-case letters`);
    });
  });

  describe('scaling', () => {
    test.each([
      [{ replicas: 0 }, 'replicas: 0 must be a whole number >= 1 (2 or more for high availability)'],
      [{ replicas: 1.5 }, 'replicas: 1.5 must be a whole number >= 1 (2 or more for high availability)'],
      [{ replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 4 } }, 'replicas: set either replicas (2) or autoscaling, not both: the autoscaler owns the replica count'],
      [
        { replicas: 2, minAvailable: 2 },
        'minAvailable: 2 must be below replicas (2), otherwise the PodDisruptionBudget blocks every eviction and node drains hang; lower it, raise replicas, or set 0 for no budget',
      ],
      [{ minAvailable: -1 }, 'minAvailable: -1 must be a whole number >= 0 (0 means no PodDisruptionBudget)'],
      [{ autoscaling: { minReplicas: 0, maxReplicas: 3 } }, 'autoscaling.minReplicas: 0 must be a whole number >= 1 (2 or more for high availability)'],
      [{ autoscaling: { minReplicas: 3, maxReplicas: 2 } }, 'autoscaling.maxReplicas: 2 must be a whole number >= minReplicas (3)'],
      [{ autoscaling: { minReplicas: 2, maxReplicas: 4, targetCpuUtilizationPercent: 0 } }, 'autoscaling.targetCpuUtilizationPercent: 0 must be a whole number of percent >= 1'],
      [
        { autoscaling: { minReplicas: 2, maxReplicas: 4 }, minAvailable: 2 },
        'minAvailable: 2 must be below autoscaling.minReplicas (2), otherwise the PodDisruptionBudget blocks every eviction and node drains hang; lower it, raise minReplicas, or set 0 for no budget',
      ],
    ])('fails for %j', (props, message) => {
      expect(() => waypointWith(props)).toThrow(`${W}: ${message}`);
    });
  });
});
