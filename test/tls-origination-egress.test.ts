import { Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { TlsOriginationExample } from '../examples/tls-origination/chart';
import { EgressGateway, EgressPort, MeshSettings, OriginationTls, Protocol, TlsOriginationEgress, TrustedCa, WorkloadIdentity } from '../src';
import { policyAllows } from './authz';
import { synthValid } from './schema';
import * as net from '../imports/networking.istio.io';

const GATEWAY_LABELS = { 'cdk8s-istio-egress/gateway': 'egress-gateway.istio-egress' };
/** The example's gateway: `egress-gateway` in the example's own namespace `istio-egress-tls`. */
const EXAMPLE_GATEWAY_LABELS = { 'cdk8s-istio-egress/gateway': 'egress-gateway.istio-egress-tls' };
const EXAMPLE_GATEWAY_HOST = 'egress-gateway.istio-egress-tls.svc.cluster.local';

const byKind = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: any[], kind: string, name: string) => {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0];
};

/** A chart in namespace `apps` (the default clients of an origination). */
const appsChart = () => new Chart(Testing.app(), 'test', { namespace: 'apps' });

/** The gateway's one mesh-side DestinationRule, which every construct adds its subsets to. */
const clientRule = (objects: any[]) => {
  const found = objects.filter((o) => o.kind === 'DestinationRule' && o.metadata.name.endsWith('-clients'));
  expect(found).toHaveLength(1);
  return found[0];
};

describe('TlsOriginationEgress | the TLS origination task (examples/tls-origination)', () => {
  const example = new TlsOriginationExample(Testing.app(), 'tls-origination');
  const objects = synthValid(example);

  test('snapshot', () => {
    expect(objects).toMatchSnapshot();
  });

  test('has the task\'s resource kinds plus the gateway workload, its policy and its logging', () => {
    // task: ServiceEntry, Gateway, DestinationRule (to the gateway: the gateway's shared client rule), VirtualService,
    // DestinationRule (origination).
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/istio-egress-tls',
      'ServiceAccount/egress-gateway',
      'Deployment/egress-gateway',
      'Service/egress-gateway',
      'PodDisruptionBudget/egress-gateway',
      'Telemetry/egress-gateway-access-log',
      'DestinationRule/egress-gateway-clients',
      'ServiceEntry/tls-origination',
      'ServiceEntry/tls-origination-upstream',
      'Gateway/tls-origination',
      'AuthorizationPolicy/tls-origination',
      'EnvoyFilter/tls-origination-dns',
      'VirtualService/tls-origination-edition-cnn-com',
      'DestinationRule/tls-origination-edition-cnn-com',
    ]);
    const istio = objects.filter((o) => o.apiVersion.includes('istio.io'));
    expect(new Set(istio.map((o) => o.metadata.namespace))).toEqual(new Set(['istio-egress-tls']));
  });

  test('the ServiceEntries declare the HTTP port the app calls (for the clients) and the TLS port the gateway connects to (for the gateway), resolved by DNS', () => {
    expect(named(objects, 'ServiceEntry', 'tls-origination').spec).toEqual({
      hosts: ['edition.cnn.com'],
      exportTo: ['default'],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      ports: [{ number: 80, name: 'http-80', protocol: 'HTTP' }],
    });
    expect(named(objects, 'ServiceEntry', 'tls-origination-upstream').spec).toEqual({
      hosts: ['edition.cnn.com'],
      exportTo: ['.'],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      ports: [{ number: 443, name: 'https-443', protocol: 'HTTPS' }],
    });
  });

  test('the Gateway server is ISTIO_MUTUAL HTTPS on the gateway port, for the host only, selecting the gateway pods', () => {
    const gw = named(objects, 'Gateway', 'tls-origination');
    expect(gw.spec.selector).toEqual(example.origination.gateway.selectorLabels);
    expect(gw.spec.selector).toEqual(EXAMPLE_GATEWAY_LABELS);
    const podLabels = named(objects, 'Deployment', 'egress-gateway').spec.template.metadata.labels;
    for (const [k, v] of Object.entries(gw.spec.selector)) {
      expect(podLabels[k]).toBe(v);
    }
    expect(gw.spec.servers).toEqual([
      { port: { number: 80, name: 'https-80', protocol: 'HTTPS' }, hosts: ['./edition.cnn.com'], tls: { mode: 'ISTIO_MUTUAL' } },
    ]);
  });

  test('sidecars reach the gateway over Istio mTLS, presenting the external host as SNI', () => {
    const dr = clientRule(objects);
    expect(dr.spec.host).toBe(EXAMPLE_GATEWAY_HOST);
    expect(dr.spec.exportTo).toEqual(['.', 'default']);
    expect(dr.spec.subsets).toEqual([
      {
        name: 'tls-origination-edition-cnn-com',
        trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, tls: { mode: 'ISTIO_MUTUAL', sni: 'edition.cnn.com' } }] },
      },
    ]);
  });

  test('the VirtualService routes sidecars (port 80) to the gateway subset, and the gateway to the host on 443', () => {
    const vs = named(objects, 'VirtualService', 'tls-origination-edition-cnn-com');
    expect(vs.spec.hosts).toEqual(['edition.cnn.com']);
    expect(vs.spec.gateways).toEqual(['mesh', 'istio-egress-tls/tls-origination']);
    expect(vs.spec.exportTo).toEqual(['.', 'default']);
    expect(vs.spec.http).toEqual([
      {
        name: 'mesh-to-egress-gateway',
        match: [{ gateways: ['mesh'], port: 80 }],
        route: [{ destination: { host: EXAMPLE_GATEWAY_HOST, subset: 'tls-origination-edition-cnn-com', port: { number: 80 } } }],
      },
      {
        name: 'egress-gateway-to-host',
        match: [{ gateways: ['istio-egress-tls/tls-origination'], port: 80 }],
        route: [{ destination: { host: 'edition.cnn.com', port: { number: 443 } } }],
        // nothing that identifies the calling workload leaves the mesh
        headers: {
          request: { remove: ['x-forwarded-client-cert', 'x-forwarded-for', 'x-envoy-external-address', 'x-envoy-peer-metadata', 'x-envoy-peer-metadata-id'] },
        },
      },
    ]);
  });

  test('only the gateway originates TLS, and it verifies the host: SIMPLE with sni and subjectAltNames', () => {
    const dr = named(objects, 'DestinationRule', 'tls-origination-edition-cnn-com');
    expect(dr.spec.host).toBe('edition.cnn.com');
    expect(dr.spec.exportTo).toEqual(['.']);
    expect(dr.spec.workloadSelector).toEqual({ matchLabels: EXAMPLE_GATEWAY_LABELS });
    expect(dr.spec.trafficPolicy).toEqual({
      portLevelSettings: [{ port: { number: 443 }, tls: { mode: 'SIMPLE', sni: 'edition.cnn.com', subjectAltNames: ['edition.cnn.com'] } }],
    });
    expect(dr.metadata.annotations).toBeUndefined();
  });

  test('the gateway accepts only the sleep service account, on the port its pods listen on, on this server, for the host', () => {
    const ap = named(objects, 'AuthorizationPolicy', 'tls-origination');
    expect(ap.spec).toEqual({
      selector: { matchLabels: EXAMPLE_GATEWAY_LABELS },
      action: 'ALLOW',
      rules: [
        {
          from: [{ source: { principals: ['cluster.local/ns/default/sa/sleep'] } }],
          to: [{ operation: { ports: ['8080'], hosts: ['edition.cnn.com'] } }],
          when: [{ key: 'connection.sni', values: ['edition.cnn.com'] }],
        },
      ],
    });
  });

  test('no wildcard anywhere, and the simple mode reads no Secret (no RBAC)', () => {
    const text = JSON.stringify(objects.filter((o) => o.apiVersion.includes('istio.io')));
    expect(text).not.toContain('"*"');
    expect(byKind(objects, 'Role')).toHaveLength(0);
  });

  test('exposes the gateway, hosts and ports for a NetworkPolicy', () => {
    const o = example.origination;
    expect(o.hosts).toEqual(['edition.cnn.com']);
    expect(o.gatewayPort.number).toBe(80);
    expect(o.gatewayPort.targetPort).toBe(8080);
    expect(o.httpPort.number).toBe(80);
    expect(o.tlsPort.number).toBe(443);
    expect(o.exportTo).toEqual(['.', 'default']);
    expect(o.allowedIdentities.map(String)).toEqual(['service account default/sleep']);
    expect(o.toEgressPathConfig()).toEqual({ namespace: 'istio-egress-tls', podLabels: EXAMPLE_GATEWAY_LABELS, podPorts: [8080], externalPorts: [443] });
  });
});

describe('TlsOriginationEgress | origination modes', () => {
  test('mutual TLS: client certificate from a Secret in the gateway namespace, which the gateway may read', () => {
    const chart = appsChart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.http(80)] });
    const o = new TlsOriginationEgress(chart, 'mtls', {
      gateway,
      hosts: ['my-nginx.mesh-external.example.com'],
      tls: OriginationTls.mutual({ credentialName: 'client-credential', credentialNamespace: 'istio-egress' }),
    });
    const objects = synthValid(chart);
    expect(objects.filter((x) => ['DestinationRule', 'Role', 'RoleBinding'].includes(x.kind))).toMatchSnapshot();

    const dr = named(objects, 'DestinationRule', 'tls-origination-my-nginx-mesh-external-example-com');
    expect(dr.spec.trafficPolicy.portLevelSettings[0].tls).toEqual({
      mode: 'MUTUAL',
      credentialName: 'client-credential',
      sni: 'my-nginx.mesh-external.example.com',
      subjectAltNames: ['my-nginx.mesh-external.example.com'],
    });
    expect(dr.spec.workloadSelector).toEqual({ matchLabels: GATEWAY_LABELS });
    const role = named(objects, 'Role', 'egress-gateway-sds');
    expect(role.metadata.namespace).toBe('istio-egress');
    expect(named(objects, 'RoleBinding', 'egress-gateway-sds').subjects).toEqual([{ kind: 'ServiceAccount', name: 'egress-gateway', namespace: 'istio-egress' }]);
    expect(clientRule(objects).spec.subsets[0].trafficPolicy.portLevelSettings[0].tls.mode).toBe('ISTIO_MUTUAL');
    expect(o.hosts).toEqual(['my-nginx.mesh-external.example.com']);
  });

  test('simple TLS verified against a CA from a Secret (credentialName) or a file (caCertificates)', () => {
    const chart = appsChart();
    const o = new TlsOriginationEgress(chart, 'o', {
      hosts: ['api.example.com'],
      tls: OriginationTls.simple({ ca: TrustedCa.fromSecret('example-ca', 'istio-egress') }),
    });
    o.addHost('files.example.com', { tls: OriginationTls.simple({ ca: TrustedCa.fromFile('/etc/istio/egress-ca/ca.crt'), subjectAltNames: ['*.example.com'] }) });
    const objects = synthValid(chart);
    expect(named(objects, 'DestinationRule', 'tls-origination-api-example-com').spec.trafficPolicy.portLevelSettings[0].tls).toEqual({
      mode: 'SIMPLE',
      credentialName: 'example-ca',
      sni: 'api.example.com',
      subjectAltNames: ['api.example.com'],
    });
    expect(named(objects, 'DestinationRule', 'tls-origination-files-example-com').spec.trafficPolicy.portLevelSettings[0].tls).toEqual({
      mode: 'SIMPLE',
      caCertificates: '/etc/istio/egress-ca/ca.crt',
      sni: 'files.example.com',
      subjectAltNames: ['*.example.com'],
    });
    // istiod serves a CA-only Secret of the gateway's namespace without RBAC (M5): no Role
    expect(byKind(objects, 'Role')).toHaveLength(0);
    expect(byKind(objects, 'RoleBinding')).toHaveLength(0);
  });

  test('without verification only on explicit request, with the reason recorded', () => {
    const chart = appsChart();
    const tls = OriginationTls.insecureWithoutVerification({ reason: 'lab server with a self-signed certificate (OPS-1)' });
    new TlsOriginationEgress(chart, 'o', { hosts: ['lab.example.com'], tls });
    const objects = synthValid(chart);
    const dr = named(objects, 'DestinationRule', 'tls-origination-lab-example-com');
    expect(dr.metadata.annotations).toEqual({ 'cdk8s-istio-egress/insecure-skip-verify-reason': 'lab server with a self-signed certificate (OPS-1)' });
    // Istio rejects a CA, credentialName or subjectAltNames beside insecureSkipVerify.
    expect(dr.spec.trafficPolicy.portLevelSettings[0].tls).toEqual({ mode: 'SIMPLE', sni: 'lab.example.com', insecureSkipVerify: true });
    expect(tls.verifiesServer).toBe(false);
    expect(OriginationTls.simple().verifiesServer).toBe(true);
    expect(OriginationTls.mutual({ credentialName: 'c' }).presentsClientCertificate).toBe(true);
    expect([OriginationTls.simple(), OriginationTls.simple({ ca: TrustedCa.fromSecret('ca') }), OriginationTls.mutual({ credentialName: 'c' }), tls].map(String)).toEqual([
      'SIMPLE (system roots)',
      'SIMPLE (secret ca)',
      'MUTUAL (secret c)',
      'INSECURE (no server verification)',
    ]);
  });
});

describe('TlsOriginationEgress | several hosts and originations on one gateway', () => {
  test('hosts added later join the one Gateway server, the ServiceEntry and the gateway DestinationRule', () => {
    const chart = appsChart();
    const o = new TlsOriginationEgress(chart, 'o', { hosts: ['edition.cnn.com'] });
    o.addHost('api.github.com');
    o.addHost('www.googleapis.com', { tls: OriginationTls.mutual({ credentialName: 'google-client' }) });
    const objects = synthValid(chart);
    expect(objects.filter((x) => x.apiVersion.includes('istio.io'))).toMatchSnapshot();

    const hosts = ['api.github.com', 'edition.cnn.com', 'www.googleapis.com'];
    expect(o.hosts).toEqual(hosts);
    expect(named(objects, 'ServiceEntry', 'tls-origination').spec.hosts).toEqual(hosts);
    expect(named(objects, 'ServiceEntry', 'tls-origination-upstream').spec.hosts).toEqual(hosts);
    const servers = named(objects, 'Gateway', 'tls-origination').spec.servers;
    expect(servers).toHaveLength(1);
    expect(servers[0].hosts).toEqual(hosts.map((h) => `./${h}`));
    expect(clientRule(objects).spec.subsets.map((s: any) => [s.name, s.trafficPolicy.portLevelSettings[0].tls.sni])).toEqual([
      ['tls-origination-api-github-com', 'api.github.com'],
      ['tls-origination-edition-cnn-com', 'edition.cnn.com'],
      ['tls-origination-www-googleapis-com', 'www.googleapis.com'],
    ]);
    expect(byKind(objects, 'VirtualService').map((v) => v.spec.hosts)).toEqual([['edition.cnn.com'], ['api.github.com'], ['www.googleapis.com']]);
    expect(named(objects, 'DestinationRule', 'tls-origination-www-googleapis-com').spec.trafficPolicy.portLevelSettings[0].tls.mode).toBe('MUTUAL');
    expect(named(objects, 'DestinationRule', 'tls-origination-api-github-com').spec.trafficPolicy.portLevelSettings[0].tls.mode).toBe('SIMPLE');
  });

  test('two originations share a gateway on two HTTP ports without conflicting servers or names', () => {
    const chart = appsChart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.http(80), EgressPort.http(8081)] });
    const a = new TlsOriginationEgress(chart, 'a', { gateway, gatewayPort: 80, name: 'news', hosts: ['edition.cnn.com'] });
    const b = new TlsOriginationEgress(chart, 'b', { gateway, gatewayPort: 8081, name: 'code', hosts: ['api.github.com'] });
    const objects = synthValid(chart);
    const servers = byKind(objects, 'Gateway').map((g) => [g.metadata.name, g.spec.servers.map((s: any) => [s.port.number, s.port.name, s.hosts])]);
    expect(servers).toEqual([
      ['news', [[80, 'https-80', ['./edition.cnn.com']]]],
      ['code', [[8081, 'https-8081', ['./api.github.com']]]],
    ]);
    // one gateway: one access log, both AuthorizationPolicies each on their own pod port
    expect(byKind(objects, 'Telemetry')).toHaveLength(1);
    expect(byKind(objects, 'AuthorizationPolicy').map((p) => p.spec.rules[0].to[0].operation.ports)).toEqual([['8080'], ['8081']]);
    expect([a.gatewayPort.targetPort, b.gatewayPort.targetPort]).toEqual([8080, 8081]);
    // every generated name is unique per kind
    const keys = objects.map((x) => `${x.kind}/${x.metadata.namespace}/${x.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('defaults: a new gateway with HTTP port 80 -> 8080, clients from the chart namespace', () => {
    const chart = appsChart();
    const o = new TlsOriginationEgress(chart, 'o', { hosts: ['edition.cnn.com'] });
    const objects = synthValid(chart);
    expect(o.gateway.ports.map((p) => [p.toString(), p.targetPort])).toEqual([['HTTP 80 (http-80)', 8080]]);
    expect(o.gateway.node.path).toBe('test/o/EgressGateway');
    expect(o.exportTo).toEqual(['.', 'apps']);
    expect(named(objects, 'AuthorizationPolicy', 'tls-origination').spec.rules[0].from).toEqual([{ source: { namespaces: ['apps'] } }]);
    expect(byKind(objects, 'Telemetry')).toHaveLength(1);
  });

  test('an existing gateway, any in-mesh client, custom ports and no access logging', () => {
    const chart = appsChart();
    const gateway = EgressGateway.fromAttributes(chart, 'gw', {
      namespace: 'egress',
      serviceName: 'istio-egressgateway',
      selectorLabels: { istio: 'egressgateway' },
      ports: [EgressPort.of({ number: 80, protocol: Protocol.HTTP2, name: 'http2', targetPort: 8080 }), EgressPort.https(443)],
    });
    const o = new TlsOriginationEgress(chart, 'o', {
      gateway,
      hosts: ['api.example.com'],
      httpPort: 8080,
      tlsPort: 8443,
      allowFrom: [WorkloadIdentity.anyInMesh()],
      accessLogging: false,
      tls: OriginationTls.mutual({ credentialName: 'client' }),
    });
    const objects = synthValid(chart);
    expect(byKind(objects, 'Telemetry')).toHaveLength(0);
    expect(byKind(objects, 'Role')).toHaveLength(0); // the installation owns an existing gateway's RBAC
    expect(o.exportTo).toEqual(['*']);
    expect(named(objects, 'ServiceEntry', 'tls-origination').spec.ports.map((p: any) => p.number)).toEqual([8080]);
    expect(named(objects, 'ServiceEntry', 'tls-origination').spec.exportTo).toEqual(['*']);
    expect(named(objects, 'ServiceEntry', 'tls-origination-upstream').spec.ports.map((p: any) => p.number)).toEqual([8443]);
    expect(named(objects, 'ServiceEntry', 'tls-origination-upstream').spec.exportTo).toEqual(['.']);
    const vs = named(objects, 'VirtualService', 'tls-origination-api-example-com');
    expect(vs.spec.http[0].match).toEqual([{ gateways: ['mesh'], port: 8080 }]);
    expect(vs.spec.http[1].route[0].destination).toEqual({ host: 'api.example.com', port: { number: 8443 } });
    expect(named(objects, 'Gateway', 'tls-origination').spec.selector).toEqual({ istio: 'egressgateway' });
    expect(clientRule(objects).spec.host).toBe('istio-egressgateway.egress.svc.cluster.local');
    expect(named(objects, 'AuthorizationPolicy', 'tls-origination').spec.rules[0].from).toEqual([{ source: { principals: ['*'] } }]);
  });

  test('a host too long for one label gets a shortened name ending in a stable hash', () => {
    const chart = appsChart();
    const host = `${'a'.repeat(40)}.${'b'.repeat(30)}.example.com`;
    new TlsOriginationEgress(chart, 'o', { hosts: [host] });
    const objects = synthValid(chart);
    const vs = byKind(objects, 'VirtualService')[0];
    expect(vs.metadata.name).toMatch(/^tls-origination-a{38}-[0-9a-f]{8}$/);
    expect(vs.metadata.name.length).toBeLessThanOrEqual(63);
    expect(byKind(objects, 'DestinationRule').map((d) => d.metadata.name)).toContain(vs.metadata.name);
    const again = appsChart();
    new TlsOriginationEgress(again, 'o', { hosts: [host] });
    expect(byKind(Testing.synth(again), 'VirtualService')[0].metadata.name).toBe(vs.metadata.name);
  });
});

describe('TlsOriginationEgress | bad input', () => {
  test('fails at synth without any host', () => {
    const chart = appsChart();
    new TlsOriginationEgress(chart, 'o');
    expect(() => Testing.synth(chart)).toThrow(
      '[test/o] hosts: no host to originate TLS to, so the gateway would route nothing; pass hosts or add one with addHost (e.g. "api.example.com")',
    );
  });

  test.each([
    [{ hosts: ['*.cnn.com'] }, 'test/o: hosts[0]: invalid host "*.cnn.com": TLS origination needs one concrete host, since the gateway connects to that exact name and verifies its certificate for it; list each name you call (e.g. "www.cnn.com")'],
    [{ hosts: ['*'] }, 'test/o: hosts[0]: invalid host "*": TLS origination needs one concrete host, since the gateway connects to that exact name and verifies its certificate for it; list each name you call (e.g. "api.example.com")'],
    [{ hosts: [null] }, 'test/o: hosts[0]: a host must not be null; remove the empty entry'],
    [{ hosts: ['http://edition.cnn.com'] }, 'test/o: hosts[0]: invalid host "http://edition.cnn.com": a host is a DNS name, not a URL; remove the scheme and path'],
    [{ hosts: ['edition'] }, 'test/o: hosts[0]: invalid host "edition": short names are not allowed'],
    [{ hosts: ['a.com', 'a.com'] }, 'test/o: hosts[1]: host "a.com" is already originated by this construct; add each host once'],
    [{ hosts: ['a-b.com', 'a.b-com'] }, 'test/o: hosts[1]: host "a.b-com" would get the resource name "tls-origination-a-b-com", already used for host "a-b.com"'],
    [{ hosts: ['a.com'], httpPort: 0 }, 'test/o: httpPort: port number 0 must be an integer in the range 1..65535'],
    [{ hosts: ['a.com'], tlsPort: 70000 }, 'test/o: tlsPort: port number 70000 must be an integer in the range 1..65535'],
    [{ hosts: ['a.com'], httpPort: 443 }, 'test/o: tlsPort: 443 is also the httpPort: applications call port 443 in plain HTTP and the gateway connects to the host\'s TLS port, so they must differ (e.g. httpPort 80, tlsPort 443)'],
    [{ hosts: ['a.com'], gatewayPort: 65536 }, 'test/o: gatewayPort: gateway port 65536 must be an integer in the range 1..65535'],
    [{ hosts: ['a.com'], gatewayPort: 8080 }, 'test/o: gatewayPort: egress gateway istio-egress/egress-gateway has no port 8080 (it has 80); add it to the gateway\'s ports'],
    [{ hosts: ['a.com'], name: 'TLS' }, 'test/o: name: invalid name "TLS"'],
    [{ hosts: ['a.com'], allowFrom: [] }, 'test/o: allowFrom: an empty list would allow nobody; omit it to allow the chart\'s namespace, or list identities'],
    [{ hosts: ['a.com'], allowFrom: [undefined] }, 'test/o: allowFrom[0]: a WorkloadIdentity must not be undefined'],
  ])('fails for %j', (props, message) => {
    expect(() => new TlsOriginationEgress(appsChart(), 'o', props as any)).toThrow(message);
  });

  test.each([
    [OriginationTls.mutual({ credentialName: '' }), 'test/o: tls: credentialName: mutual TLS needs the client certificate: the name of a Kubernetes Secret in the gateway\'s namespace ("istio-egress") with tls.crt, tls.key and ca.crt, e.g. OriginationTls.mutual with credentialName "client-credential"'],
    [OriginationTls.mutual({} as any), 'test/o: tls: credentialName: mutual TLS needs the client certificate'],
    [OriginationTls.mutual({ credentialName: 'Client_Cert' }), 'test/o: tls: credentialName: invalid credentialName "Client_Cert"'],
    [
      OriginationTls.mutual({ credentialName: 'client-credential', credentialNamespace: 'apps' }),
      'test/o: tls: credentialNamespace: the Secret "client-credential" is in namespace "apps", but Istio reads credentialName Secrets only from the namespace of the proxy that uses them, the egress gateway\'s ("istio-egress"); create the Secret in "istio-egress"',
    ],
    [
      OriginationTls.simple({ ca: TrustedCa.fromSecret('server-ca', 'apps') }),
      'test/o: tls: ca: the Secret "server-ca" is in namespace "apps", but Istio reads credentialName Secrets only from the namespace of the proxy that uses them',
    ],
    [OriginationTls.simple({ ca: TrustedCa.fromFile('certs/ca.pem') }), 'test/o: tls: ca: CA file "certs/ca.pem" must be an absolute path without spaces inside the gateway pods'],
    [OriginationTls.simple({ subjectAltNames: [] }), 'test/o: tls: subjectAltNames: an empty list turns the host name check off; omit it to check the host name'],
    [OriginationTls.simple({ subjectAltNames: ['ok.example.com', ''] }), 'test/o: tls: subjectAltNames[1]: "" is not a certificate name'],
    [OriginationTls.insecureWithoutVerification({ reason: ' ' }), 'test/o: tls: reason: insecureWithoutVerification needs a reason'],
  ])('fails for a bad origination mode (%s)', (tls, message) => {
    expect(() => new TlsOriginationEgress(appsChart(), 'o', { hosts: ['a.com'], tls })).toThrow(message);
  });

  test('fails for a bad mode given to addHost, naming the method', () => {
    const o = new TlsOriginationEgress(appsChart(), 'o', { hosts: ['a.com'] });
    expect(() => o.addHost('b.com', { tls: OriginationTls.mutual({ credentialName: 'c', credentialNamespace: 'default' }) })).toThrow(
      'test/o: addHost "b.com".tls: credentialNamespace: the Secret "c" is in namespace "default"',
    );
    expect(() => o.addHost('a.com')).toThrow('test/o: addHost "a.com": host "a.com" is already originated by this construct; add each host once');
    expect(() => o.addHost('*.example.com')).toThrow('test/o: addHost "*.example.com": invalid host "*.example.com": TLS origination needs one concrete host');
    expect(o.hosts).toEqual(['a.com']);
  });

  test('fails for a gateway without an HTTP port, or with a TLS gatewayPort, or with several HTTP ports to choose from', () => {
    const chart = appsChart();
    const tlsOnly = new EgressGateway(chart, 'tls', { name: 'tls-gateway', ports: [EgressPort.tls(443)] });
    expect(() => new TlsOriginationEgress(chart, 'a', { gateway: tlsOnly, name: 'a', hosts: ['a.com'] })).toThrow(
      'test/a: gateway: egress gateway istio-egress/tls-gateway has no HTTP port to receive the requests on (its ports: TLS 443 (tls-443)); sidecars send plain HTTP inside Istio mTLS to the gateway, so give it one (e.g. from EgressPort.http with 80) and pass gatewayPort',
    );
    expect(() => new TlsOriginationEgress(chart, 'b', { gateway: tlsOnly, name: 'b', gatewayPort: 443, hosts: ['a.com'] })).toThrow(
      'test/b: gatewayPort: gateway port TLS 443 (tls-443) is not HTTP: sidecars send plain HTTP inside Istio mTLS to the gateway, so it needs an HTTP port (e.g. from EgressPort.http with 443)',
    );
    const twoHttp = new EgressGateway(chart, 'two', { name: 'two', ports: [EgressPort.http(80), EgressPort.http(8081)] });
    expect(() => new TlsOriginationEgress(chart, 'c', { gateway: twoHttp, name: 'c', hosts: ['a.com'] })).toThrow(
      'test/c: gatewayPort: egress gateway istio-egress/two has several HTTP ports (80, 8081); choose the one to use with gatewayPort',
    );
  });

  test('fails for a port clash with another origination on the same gateway', () => {
    const chart = appsChart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.http(80)] });
    new TlsOriginationEgress(chart, 'news', { gateway, name: 'news', hosts: ['edition.cnn.com'] });
    expect(() => new TlsOriginationEgress(chart, 'code', { gateway, name: 'code', hosts: ['api.github.com'] })).toThrow(
      'test/code: gatewayPort: port 80 of egress gateway istio-egress/egress-gateway is already configured by "test/news"; give the gateway another port for this construct, or use another gateway',
    );
  });

  test('fails for a host or a name another origination already has', () => {
    const chart = appsChart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.http(80), EgressPort.http(8081), EgressPort.http(8082)] });
    new TlsOriginationEgress(chart, 'news', { gateway, gatewayPort: 80, name: 'news', hosts: ['edition.cnn.com'] });
    expect(() => new TlsOriginationEgress(chart, 'again', { gateway, gatewayPort: 8081, name: 'again', hosts: ['edition.cnn.com'] })).toThrow(
      'test/again: hosts[0]: host "edition.cnn.com" is already routed from sidecars by "test/news" (TLS origination "news" at gateway istio-egress/egress-gateway); ' +
        'Istio keeps only one mesh VirtualService per host (IST0109)',
    );
    // the same name: the app-wide registry finds the objects both would generate, at synth
    new TlsOriginationEgress(chart, 'same', { gateway, gatewayPort: 8082, name: 'news', hosts: ['api.github.com'] });
    expect(() => synthValid(chart)).toThrow(
      'ServiceEntry "istio-egress/news" is generated by both "test/news" and "test/same"; one would replace the other at apply time',
    );
  });

  test('fails naming both originations, in tree order, when their generated objects clash', () => {
    const chart = appsChart();
    const group = new Construct(chart, 'group'); // before "news" in the tree, although its origination is created later
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.http(80), EgressPort.http(8081)] });
    new TlsOriginationEgress(chart, 'news', { gateway, gatewayPort: 80, name: 'news', hosts: ['edition.cnn.com'] });
    new TlsOriginationEgress(group, 'again', { gateway, gatewayPort: 8081, name: 'news', hosts: ['api.github.com'] });
    expect(() => synthValid(chart)).toThrow('ServiceEntry "istio-egress/news" is generated by both "test/group/again" and "test/news"');
  });

  test('an origination removed from the tree no longer holds its hosts', () => {
    const chart = appsChart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.http(80), EgressPort.http(8081)] });
    new TlsOriginationEgress(chart, 'news', { gateway, gatewayPort: 80, name: 'news', hosts: ['edition.cnn.com'] });
    expect(chart.node.tryRemoveChild('news')).toBe(true);
    new TlsOriginationEgress(chart, 'again', { gateway, gatewayPort: 8081, name: 'again', hosts: ['edition.cnn.com'] });
    expect(byKind(synthValid(chart), 'VirtualService').map((o) => o.metadata.name)).toEqual(['again-edition-cnn-com']);
  });

  test('fails without allowFrom in a chart without namespace', () => {
    expect(() => new TlsOriginationEgress(Testing.chart(), 'o', { hosts: ['a.com'] })).toThrow(
      'test/o: allowFrom: the chart has no namespace, so the calling workloads are unknown; pass allowFrom (e.g. a list with WorkloadIdentity.allInNamespace for "apps") or give the chart a namespace',
    );
  });
});

/**
 * Which ports of `host` a proxy in `namespace` gets from the ServiceEntries (all in one namespace, as the construct
 * makes them), modelled on Istio 1.30.3: the proxy's services are those exported to its namespace (`.`, the
 * namespace, or an explicit list) followed by the public ones (`push_context.go` `servicesExportedToNamespace`); of
 * several entries for one host in one namespace the first is kept, and a later one is merged into it only when
 * resolution, labels and exportTo are equal (`sidecar.go` `appendSidecarServices`, `canMergeServices`). Entries are
 * taken in the order given (creation order).
 */
function portsSeenBy(serviceEntries: any[], host: string, namespace: string): number[] {
  const visible = (se: any, publicOnes: boolean) => {
    const exportTo: string[] = se.spec.exportTo ?? ['*'];
    if (publicOnes) {
      return exportTo.includes('*');
    }
    return !exportTo.includes('*') && exportTo.some((ns) => (ns === '.' ? se.metadata.namespace : ns) === namespace);
  };
  const withHost = serviceEntries.filter((se) => se.spec.hosts.includes(host));
  const ordered = [...withHost.filter((se) => visible(se, false)), ...withHost.filter((se) => visible(se, true))];
  if (ordered.length === 0) {
    return [];
  }
  const [first, ...rest] = ordered;
  const ports = first.spec.ports.map((p: any) => p.number);
  const key = (se: any) => JSON.stringify([se.spec.resolution, se.metadata.labels, [...(se.spec.exportTo ?? [])].sort()]);
  for (const se of rest) {
    if (key(se) === key(first)) {
      ports.push(...se.spec.ports.map((p: any) => p.number).filter((n: number) => !ports.includes(n)));
    }
  }
  return ports.sort((a: number, b: number) => a - b);
}

describe('TlsOriginationEgress | security review 2026-12', () => {
  test('H3: a foreign selector-less Gateway server on the origination port gets nothing from the policy; only this server (its SNIs and hosts) is allowed', () => {
    // GIVEN the origination (clients: every workload of namespace apps)
    const chart = appsChart();
    const o = new TlsOriginationEgress(chart, 'o', { hosts: ['edition.cnn.com'] });
    o.addHost('api.github.com');
    const policy = named(synthValid(chart), 'AuthorizationPolicy', 'tls-origination');

    // AND the review's attack, objects a tenant of `apps` creates (schema-valid): a selector-less Gateway (it applies
    // to every gateway proxy, push_context.go mergeGateways) with an HTTPS ISTIO_MUTUAL server on the same port, a
    // DestinationRule subset presenting its SNI, a ServiceEntry and a VirtualService to the exfiltration host.
    const attacker = new Chart(Testing.app(), 'attacker', { namespace: 'apps' });
    new net.Gateway(attacker, 'hijack', {
      metadata: { name: 'hijack' },
      spec: { servers: [{ port: { number: 80, name: 'https-hijack', protocol: 'HTTPS' }, hosts: ['apps/exfil.attacker.example'], tls: { mode: net.GatewaySpecServersTlsMode.ISTIO_UNDERSCORE_MUTUAL } }] },
    });
    new net.ServiceEntry(attacker, 'exfil', {
      metadata: { name: 'exfil' },
      spec: { hosts: ['exfil.attacker.example'], location: net.ServiceEntrySpecLocation.MESH_UNDERSCORE_EXTERNAL, resolution: net.ServiceEntrySpecResolution.DNS, ports: [{ number: 443, name: 'tls', protocol: 'TLS' }] },
    });
    new net.DestinationRule(attacker, 'subset', {
      metadata: { name: 'hijack-subset' },
      spec: {
        host: o.gateway.serviceFqdn,
        exportTo: ['.'],
        subsets: [{ name: 'hijack', trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, tls: { mode: net.DestinationRuleSpecSubsetsTrafficPolicyPortLevelSettingsTlsMode.ISTIO_UNDERSCORE_MUTUAL, sni: 'exfil.attacker.example' } }] } }],
      },
    });
    new net.VirtualService(attacker, 'route', {
      metadata: { name: 'hijack' },
      spec: {
        hosts: ['exfil.attacker.example'],
        gateways: ['mesh', 'apps/hijack'],
        http: [
          { match: [{ gateways: ['mesh'] }], route: [{ destination: { host: o.gateway.serviceFqdn, subset: 'hijack', port: { number: 80 } } }] },
          { match: [{ gateways: ['apps/hijack'] }], route: [{ destination: { host: 'exfil.attacker.example', port: { number: 443 } } }] },
        ],
      },
    });
    const foreign = synthValid(attacker);
    const server = named(foreign, 'Gateway', 'hijack').spec.servers[0];
    expect(server.port.number).toBe(o.gatewayPort.number); // the same pod port, 8080

    // WHEN a workload of apps sends a request through the foreign server: its SNI and Host are the attacker's
    const client = 'cluster.local/ns/apps/sa/default';
    const port = o.gatewayPort.targetPort!;
    const hijack = { principal: client, port, sni: server.hosts[0].split('/')[1], host: 'exfil.attacker.example' };
    // THEN the origination's policy does not allow it (before the fix it did: any server on 8080 was allowed)
    expect(policyAllows(policy, hijack)).toBe(false);
    // nor with our Host on the foreign server, nor a foreign Host on our server
    expect(policyAllows(policy, { ...hijack, host: 'edition.cnn.com' })).toBe(false);
    expect(policyAllows(policy, { ...hijack, sni: 'edition.cnn.com' })).toBe(false);
    // AND this construct's own traffic still passes, for each host, only from the allowed namespace
    for (const host of o.hosts) {
      expect(policyAllows(policy, { principal: client, port, sni: host, host })).toBe(true);
      expect(policyAllows(policy, { principal: 'cluster.local/ns/other/sa/default', port, sni: host, host })).toBe(false);
    }
    // AND the policy's SNIs are exactly what the client subsets present
    const subsetSnis = clientRule(synthValid(chart)).spec.subsets.map((s: any) => s.trafficPolicy.portLevelSettings[0].tls.sni).sort();
    expect(policy.spec.rules[0].when).toEqual([{ key: 'connection.sni', values: subsetSnis }]);
  });

  test('M4: the gateway removes every request header that identifies the caller (certificate, SPIFFE ID, pod IP, workload metadata), and no other', () => {
    const chart = appsChart();
    new TlsOriginationEgress(chart, 'o', { hosts: ['edition.cnn.com', 'api.github.com'] });
    const routes = byKind(synthValid(chart), 'VirtualService').map((vs) => vs.spec.http.find((r: any) => r.name === 'egress-gateway-to-host'));
    expect(routes).toHaveLength(2);
    for (const route of routes) {
      expect(route.headers).toEqual({
        request: {
          remove: ['x-forwarded-client-cert', 'x-forwarded-for', 'x-envoy-external-address', 'x-envoy-peer-metadata', 'x-envoy-peer-metadata-id'],
        },
      });
    }
  });

  test('M5: a CA-only Secret (TrustedCa.fromSecret) gives the gateway no RBAC; only mutual TLS (a client key) gets the SDS Role', () => {
    const caOnly = appsChart();
    new TlsOriginationEgress(caOnly, 'o', { hosts: ['api.example.com'], tls: OriginationTls.simple({ ca: TrustedCa.fromSecret('partner-ca') }) });
    const objects = synthValid(caOnly);
    expect(objects.filter((x) => ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].includes(x.kind))).toEqual([]);
    expect(named(objects, 'DestinationRule', 'tls-origination-api-example-com').spec.trafficPolicy.portLevelSettings[0].tls.credentialName).toBe('partner-ca');

    const mutual = appsChart();
    const o = new TlsOriginationEgress(mutual, 'o', { hosts: ['api.example.com'], tls: OriginationTls.simple({ ca: TrustedCa.fromSecret('partner-ca') }) });
    expect(byKind(synthValid(mutual), 'Role')).toHaveLength(0);
    o.addHost('mtls.example.com', { tls: OriginationTls.mutual({ credentialName: 'client-key' }) });
    expect(byKind(synthValid(mutual), 'Role').map((r) => [r.metadata.namespace, r.metadata.name, r.rules])).toEqual([
      ['istio-egress', 'egress-gateway-sds', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }]],
    ]);
  });

  test('M6: the gateway resolves every originated host exactly as given, never through the pod\'s DNS search path', () => {
    const chart = appsChart();
    const o = new TlsOriginationEgress(chart, 'o', { hosts: ['httpbin.org'], tlsPort: 8443, httpPort: 8080 });
    o.addHost('edition.cnn.com');
    const objects = synthValid(chart);
    const filter = named(objects, 'EnvoyFilter', 'tls-origination-dns');
    expect(filter.metadata.namespace).toBe(o.namespace);
    expect(filter.spec.workloadSelector).toEqual({ labels: o.gateway.selectorLabels });
    expect(filter.spec.priority).toBe(10);
    const cares = {
      name: 'envoy.network.dns_resolver.cares',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig',
        'dns_resolver_options': { no_default_search_domain: true },
        'udp_max_queries': 100,
      },
    };
    // one MERGE per host, on the gateway's cluster for that host and the TLS port only (outbound|8443||<host>)
    expect(filter.spec.configPatches).toEqual(
      ['edition.cnn.com', 'httpbin.org'].map((host) => ({
        applyTo: 'CLUSTER',
        match: { context: 'GATEWAY', cluster: { service: host, portNumber: 8443 } },
        patch: { operation: 'MERGE', value: { typed_dns_resolver_config: cares } },
      })),
    );
    // every host the gateway connects to is covered: the hosts of the gateway-only ServiceEntry
    const upstream = named(objects, 'ServiceEntry', 'tls-origination-upstream');
    expect(filter.spec.configPatches.map((p: any) => p.match.cluster.service)).toEqual(upstream.spec.hosts);
    expect(upstream.spec.resolution).toBe('DNS');
  });

  test('L9: client sidecars never learn host:443; the gateway sees only host:443; clients in the gateway namespace are refused', () => {
    const example = synthValid(new TlsOriginationExample(Testing.app(), 'x'));
    const entries = byKind(example, 'ServiceEntry');
    expect(portsSeenBy(entries, 'edition.cnn.com', 'default')).toEqual([80]);
    expect(portsSeenBy(entries, 'edition.cnn.com', 'istio-egress-tls')).toEqual([443]);
    expect(portsSeenBy(entries, 'edition.cnn.com', 'elsewhere')).toEqual([]);

    // any in-mesh client: public for the clients; the gateway keeps its private entry first
    const chart = appsChart();
    new TlsOriginationEgress(chart, 'o', { hosts: ['api.example.com'], allowFrom: [WorkloadIdentity.anyInMesh()] });
    const anyEntries = byKind(synthValid(chart), 'ServiceEntry');
    expect(portsSeenBy(anyEntries, 'api.example.com', 'apps')).toEqual([80]);
    expect(portsSeenBy(anyEntries, 'api.example.com', 'istio-egress')).toEqual([443]);

    // clients in the gateway's namespace would see both entries: refused
    expect(() => new TlsOriginationEgress(appsChart(), 'o', { hosts: ['a.com'], allowFrom: [WorkloadIdentity.allInNamespace('apps'), WorkloadIdentity.serviceAccount('istio-egress', 'x')] })).toThrow(
      'test/o: allowFrom[1]: the identity is the gateway\'s namespace "istio-egress": that namespace sees the gateway-only ServiceEntry of the hosts\' TLS port, so applications there cannot be clients. Run the applications in another namespace and list it in allowFrom',
    );
    const sameNamespace = new Chart(Testing.app(), 'test', { namespace: 'istio-egress' });
    expect(() => new TlsOriginationEgress(sameNamespace, 'o', { hosts: ['a.com'] })).toThrow(
      'test/o: allowFrom: the default client namespace (the chart\'s) is the gateway\'s namespace "istio-egress"',
    );
  });

  test.each([
    ['kubernetes.default.svc.cluster.local', 'it is an in-cluster name under the cluster domain "cluster.local"'],
    ['egress-gateway.istio-egress.svc.cluster.local', '"egress-gateway.istio-egress.svc.cluster.local" is this egress gateway\'s own Service: traffic to it would loop back into the gateway'],
    ['istiod.istio-system.svc', 'the top-level domain ".svc" is how Kubernetes names Services'],
    ['kubernetes.default', '"default" is a Kubernetes namespace of this cluster, not a top-level domain'],
    ['egress-gateway.istio-egress', '"istio-egress" is a Kubernetes namespace of this cluster'],
    ['metadata.google.internal', 'the top-level domain ".internal" is reserved for private networks, where cloud metadata services'],
    ['instance-data.ec2.internal', 'the top-level domain ".internal"'],
    ['metadata.goog', '"metadata.goog" is the Google Cloud instance metadata service'],
    ['printer.local', 'the top-level domain ".local"'],
    ['localhost.example.com', 'a name starting with "localhost." often resolves to the loopback address'],
    ['169.254.169.254.nip.io', 'names under "nip.io" resolve to the IP address written in the name'],
  ])('M3: refuses %s as an external host, naming the risk and the opt-in', (host, reason) => {
    expect(() => new TlsOriginationEgress(appsChart(), 'o', { hosts: [host] })).toThrow(`test/o: hosts[0]: refused host "${host}": ${reason}`);
    expect(() => new TlsOriginationEgress(appsChart(), 'o', { hosts: [host] })).toThrow(
      `If it must be reachable all the same, list it in hostExemptions with the reason (a HostExemption with host "${host}" and a reason)`,
    );
  });

  test('M3: in-cluster names follow the mesh\'s cluster domain, and the gateway\'s', () => {
    const mesh = new MeshSettings({ clusterDomain: 'k8s.example.net' });
    expect(() => new TlsOriginationEgress(appsChart(), 'o', { mesh, hosts: ['api.svc.k8s.example.net'] })).toThrow(
      'test/o: hosts[0]: refused host "api.svc.k8s.example.net": it is an in-cluster name under the cluster domain "k8s.example.net"',
    );
    // cluster.local is only in-cluster where it is the cluster domain; .local is refused anyway
    expect(() => new TlsOriginationEgress(appsChart(), 'o', { mesh, hosts: ['x.cluster.local'] })).toThrow('the top-level domain ".local"');
    new TlsOriginationEgress(appsChart(), 'o', { mesh, hosts: ['api.example.net'] });
  });

  test('M3: an exemption with a reason admits a refused host and records the reason on the ServiceEntry', () => {
    const chart = appsChart();
    const o = new TlsOriginationEgress(chart, 'o', {
      hosts: ['api.example.com'],
      hostExemptions: [{ host: 'vault.corp', reason: 'the corporate Vault is outside the cluster (SEC-42)' }],
    });
    o.addHost('vault.corp');
    const objects = synthValid(chart);
    expect(o.hosts).toEqual(['api.example.com', 'vault.corp']);
    expect(named(objects, 'ServiceEntry', 'tls-origination').metadata.annotations).toEqual({
      'cdk8s-istio-egress/host-exemptions': JSON.stringify({ 'vault.corp': 'the corporate Vault is outside the cluster (SEC-42)' }),
    });
  });

  test.each([
    [[{ host: 'vault.corp', reason: ' ' }], ['vault.corp'], 'test/o: hostExemptions[0].reason: the exemption of "vault.corp" needs a reason'],
    [[{ host: 'vault.corp' }], ['vault.corp'], 'test/o: hostExemptions[0].reason: the exemption of "vault.corp" needs a reason'],
    [[{ reason: 'x' }], ['vault.corp'], 'test/o: hostExemptions[0].host: give the host exactly as listed'],
    [[null], ['vault.corp'], 'test/o: hostExemptions[0]: expected a HostExemption with a host and a reason'],
    [[{ host: 'vault.corp', reason: 'a' }, { host: 'vault.corp', reason: 'b' }], ['vault.corp'], 'test/o: hostExemptions[1]: "vault.corp" is already exempted at hostExemptions[0]; list each host once'],
    [[{ host: 'api.example.com', reason: 'x' }], ['api.example.com'], 'test/o: hosts[0]: host "api.example.com" is exempted in hostExemptions[0] but the library does not refuse it; remove the exemption'],
  ])('M3: a bad exemption fails (%j)', (hostExemptions, hosts, message) => {
    expect(() => new TlsOriginationEgress(appsChart(), 'o', { hosts, hostExemptions } as any)).toThrow(message);
  });

  test('M3: an exemption for a host that is never added fails at synth', () => {
    const chart = appsChart();
    new TlsOriginationEgress(chart, 'o', { hosts: ['api.example.com'], hostExemptions: [{ host: 'vault.corp', reason: 'SEC-42' }] });
    expect(() => Testing.synth(chart)).toThrow('[test/o] hostExemptions[0]: "vault.corp" is exempted but not among the hosts; remove the exemption or add the host');
  });
});

describe('TlsOriginationEgress | claims of the security review that hold', () => {
  test('claim: SIMPLE origination sends the host as SNI and checks it as subjectAltName; no CA means the system bundle', () => {
    const chart = appsChart();
    new TlsOriginationEgress(chart, 'o', { hosts: ['api.example.com'] });
    const dr = named(synthValid(chart), 'DestinationRule', 'tls-origination-api-example-com');
    // cluster_tls.go: an empty caCertificates is `system` (verify against the OS roots)
    expect(dr.spec.trafficPolicy.portLevelSettings[0].tls).toEqual({ mode: 'SIMPLE', sni: 'api.example.com', subjectAltNames: ['api.example.com'] });
  });

  test('claim: the origination DestinationRule is confined to the gateway (workloadSelector, exportTo ".")', () => {
    const chart = appsChart();
    const o = new TlsOriginationEgress(chart, 'o', { hosts: ['api.example.com'], allowFrom: [WorkloadIdentity.anyInMesh()] });
    const dr = named(synthValid(chart), 'DestinationRule', 'tls-origination-api-example-com');
    expect(dr.spec.exportTo).toEqual(['.']);
    expect(dr.spec.workloadSelector).toEqual({ matchLabels: o.gateway.selectorLabels });
  });

  test('claim: only this origination\'s VirtualServices can bind to its server (hosts "./<host>"), so the route config holds only its hosts', () => {
    const chart = appsChart();
    const o = new TlsOriginationEgress(chart, 'o', { hosts: ['api.example.com', 'edition.cnn.com'] });
    const objects = synthValid(chart);
    expect(named(objects, 'Gateway', 'tls-origination').spec.servers[0].hosts).toEqual(['./api.example.com', './edition.cnn.com']);
    for (const vs of byKind(objects, 'VirtualService')) {
      expect(vs.metadata.namespace).toBe(o.namespace);
      expect(vs.spec.gateways).toEqual(['mesh', `${o.namespace}/tls-origination`]);
    }
  });

  test('claim: the gateway server requires Istio mutual TLS (ISTIO_MUTUAL), so every caller has a verified identity', () => {
    const chart = appsChart();
    new TlsOriginationEgress(chart, 'o', { hosts: ['api.example.com'] });
    const objects = synthValid(chart);
    expect(named(objects, 'Gateway', 'tls-origination').spec.servers.map((s: any) => s.tls)).toEqual([{ mode: 'ISTIO_MUTUAL' }]);
    expect(named(objects, 'AuthorizationPolicy', 'tls-origination').spec.rules[0].from).toEqual([{ source: { namespaces: ['apps'] } }]);
  });
});
