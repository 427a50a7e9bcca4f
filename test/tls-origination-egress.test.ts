import { Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { TlsOriginationExample } from '../examples/tls-origination/chart';
import { EgressGateway, EgressPort, OriginationTls, Protocol, TlsOriginationEgress, TrustedCa, WorkloadIdentity } from '../src';
import { synthValid } from './schema';

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
      'Gateway/tls-origination',
      'AuthorizationPolicy/tls-origination',
      'VirtualService/tls-origination-edition-cnn-com',
      'DestinationRule/tls-origination-edition-cnn-com',
    ]);
    const istio = objects.filter((o) => o.apiVersion.includes('istio.io'));
    expect(new Set(istio.map((o) => o.metadata.namespace))).toEqual(new Set(['istio-egress-tls']));
  });

  test('the ServiceEntry declares the HTTP port the app calls and the TLS port the gateway connects to, resolved by DNS', () => {
    const se = named(objects, 'ServiceEntry', 'tls-origination');
    expect(se.spec).toEqual({
      hosts: ['edition.cnn.com'],
      exportTo: ['.', 'default'],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      ports: [
        { number: 80, name: 'http-80', protocol: 'HTTP' },
        { number: 443, name: 'https-443', protocol: 'HTTPS' },
      ],
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
        headers: { request: { remove: ['x-forwarded-client-cert', 'x-forwarded-for', 'x-envoy-peer-metadata', 'x-envoy-peer-metadata-id'] } },
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

  test('the gateway accepts only the sleep service account, on the port its pods listen on', () => {
    const ap = named(objects, 'AuthorizationPolicy', 'tls-origination');
    expect(ap.spec).toEqual({
      selector: { matchLabels: EXAMPLE_GATEWAY_LABELS },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/sleep'] } }], to: [{ operation: { ports: ['8080'] } }] }],
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
    // the CA Secret must be readable by the gateway
    expect(byKind(objects, 'Role').map((r) => r.metadata.name)).toEqual(['egress-gateway-sds']);
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
    expect(o.gateway.node.path).toBe('test/o/Gateway');
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
    expect(named(objects, 'ServiceEntry', 'tls-origination').spec.ports.map((p: any) => p.number)).toEqual([8080, 8443]);
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
      '[test/o] hosts: no host to originate TLS to, so the gateway would route nothing; pass hosts or call addHost("api.example.com")',
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
    [OriginationTls.mutual({ credentialName: '' }), 'test/o: tls: credentialName: mutual TLS needs the client certificate: the name of a Kubernetes Secret in the gateway\'s namespace ("istio-egress") with tls.crt, tls.key and ca.crt, e.g. OriginationTls.mutual({ credentialName: "client-credential" })'],
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
      'test/o: addHost("b.com").tls: credentialNamespace: the Secret "c" is in namespace "default"',
    );
    expect(() => o.addHost('a.com')).toThrow('test/o: addHost("a.com"): host "a.com" is already originated by this construct; add each host once');
    expect(() => o.addHost('*.example.com')).toThrow('test/o: addHost("*.example.com"): invalid host "*.example.com": TLS origination needs one concrete host');
    expect(o.hosts).toEqual(['a.com']);
  });

  test('fails for a gateway without an HTTP port, or with a TLS gatewayPort, or with several HTTP ports to choose from', () => {
    const chart = appsChart();
    const tlsOnly = new EgressGateway(chart, 'tls', { name: 'tls-gateway', ports: [EgressPort.tls(443)] });
    expect(() => new TlsOriginationEgress(chart, 'a', { gateway: tlsOnly, name: 'a', hosts: ['a.com'] })).toThrow(
      'test/a: gateway: egress gateway istio-egress/tls-gateway has no HTTP port to receive the requests on (its ports: TLS 443 (tls-443)); sidecars send plain HTTP inside Istio mTLS to the gateway, so give it one (e.g. EgressPort.http(80)) and pass gatewayPort',
    );
    expect(() => new TlsOriginationEgress(chart, 'b', { gateway: tlsOnly, name: 'b', gatewayPort: 443, hosts: ['a.com'] })).toThrow(
      'test/b: gatewayPort: gateway port TLS 443 (tls-443) is not HTTP: sidecars send plain HTTP inside Istio mTLS to the gateway, so it needs an HTTP port (e.g. EgressPort.http(443))',
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
      'test/code: gatewayPort: port 80 of egress gateway istio-egress/egress-gateway already receives the TLS origination "test/news"; add these hosts to it with addHost(), or give the gateway another HTTP port and set gatewayPort',
    );
  });

  test('fails for a host or a name another origination already has', () => {
    const chart = appsChart();
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.http(80), EgressPort.http(8081)] });
    new TlsOriginationEgress(chart, 'news', { gateway, gatewayPort: 80, name: 'news', hosts: ['edition.cnn.com'] });
    expect(() => new TlsOriginationEgress(chart, 'again', { gateway, gatewayPort: 8081, name: 'again', hosts: ['edition.cnn.com'] })).toThrow(
      'test/again: hosts[0]: host "edition.cnn.com" is already originated by "test/news"; a host can have one TLS origination (two would conflict in the mesh VirtualService and the gateway server), so add it to one of them only',
    );
    expect(() => new TlsOriginationEgress(chart, 'same', { gateway, gatewayPort: 8081, name: 'news', hosts: ['api.github.com'] })).toThrow(
      'test/same: name: "news" is already a resource name of the TLS origination "test/news" in namespace "istio-egress"; give each TLS origination its own name',
    );
  });

  test('fails naming the first clashing origination in tree order when several clash (as a walk of the tree finds them)', () => {
    const chart = appsChart();
    const group = new Construct(chart, 'group'); // before "news" in the tree, although its origination is created later
    const gateway = new EgressGateway(chart, 'gw', { ports: [EgressPort.http(80), EgressPort.http(8081), EgressPort.http(8082)] });
    new TlsOriginationEgress(chart, 'news', { gateway, gatewayPort: 80, name: 'news', hosts: ['edition.cnn.com'] });
    // refused, but left in the tree with its name, like any construct whose constructor failed
    expect(() => new TlsOriginationEgress(group, 'again', { gateway, gatewayPort: 8081, name: 'news', hosts: ['api.github.com'] })).toThrow(
      'test/group/again: name: "news" is already a resource name of the TLS origination "test/news" in namespace "istio-egress"; give each TLS origination its own name',
    );
    expect(() => new TlsOriginationEgress(chart, 'third', { gateway, gatewayPort: 8082, name: 'news', hosts: ['api.github.com'] })).toThrow(
      'test/third: name: "news" is already a resource name of the TLS origination "test/group/again" in namespace "istio-egress"; give each TLS origination its own name',
    );
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
      'test/o: allowFrom: the chart has no namespace, so the calling workloads are unknown; pass allowFrom (e.g. [WorkloadIdentity.allInNamespace("apps")]) or give the chart a namespace',
    );
  });
});
