/**
 * The allow-list's input: UDS Core's admission rules for egress entries (same meaning, our wording), UDS's port
 * defaults, and bad input of the YAML/JSON documents and UDS Package CRs (messages name file, document, entry index
 * and field). See ../shared/docs/uds-package-allow.md §1.2 for the rule numbers.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AllowDirection, EgressAllowEntry, EgressAllowListSpec, OriginationTls, RemoteGenerated, RemoteProtocol, TrustedCa } from '../src';

function allow(entry: EgressAllowEntry, namespace = 'team-a'): EgressAllowListSpec {
  const spec = new EgressAllowListSpec();
  spec.allow(namespace, entry);
  return spec;
}

function portsOf(spec: EgressAllowListSpec): number[][] {
  return spec._rules.map((r) => r.ports);
}

describe('UDS admission rules for egress entries', () => {
  test('rule 0: kube-system, kube-public and pepr-system are invalid namespaces', () => {
    for (const ns of ['kube-system', 'kube-public', 'pepr-system']) {
      expect(() => allow({ remoteHost: 'api.example.com' }, ns)).toThrow(`allow "${ns}" #0: invalid namespace "${ns}"`);
    }
    expect(() => allow({ remoteHost: 'api.example.com' }, 'Team_A')).toThrow('allow "Team_A" #0');
  });

  test('rule 0b: only one Package per namespace', () => {
    const spec = new EgressAllowListSpec();
    const pkg = (name: string) => ({ apiVersion: 'uds.dev/v1alpha1', kind: 'Package', metadata: { name, namespace: 'team-a' }, spec: { network: { allow: [] } } });
    spec.addUdsPackage(pkg('one'), 'one.yaml');
    expect(() => spec.addUdsPackage(pkg('two'), 'two.yaml')).toThrow(
      'two.yaml (Package team-a/two): metadata.namespace: a package (one.yaml (Package team-a/one)) already exists in the namespace "team-a"',
    );
  });

  test('rule 1: an entry must name a remote', () => {
    expect(() => allow({ port: 443, selector: { app: 'curl' } })).toThrow('allow "team-a" #0: remoteHost: the entry names no remote');
  });

  test('rule 2: remoteGenerated cannot be combined with another remote or TLS/HTTP', () => {
    expect(() => allow({ remoteGenerated: RemoteGenerated.ANYWHERE, remoteHost: 'a.example.com' })).toThrow('remoteGenerated: remoteGenerated cannot be combined with');
    expect(() => allow({ remoteGenerated: RemoteGenerated.ANYWHERE, remoteCidr: '10.0.0.0/8' })).toThrow('remoteGenerated cannot be combined');
    expect(() => allow({ remoteGenerated: RemoteGenerated.ANYWHERE, remoteProtocol: RemoteProtocol.HTTP })).toThrow('remoteGenerated cannot be combined');
    expect(() => allow({ remoteGenerated: RemoteGenerated.KUBE_API, remoteNamespace: 'x' })).toThrow('remoteGenerated cannot be combined');
  });

  test('rule 3: remoteNamespace / remoteSelector cannot be combined with remoteCidr, remoteHost or TLS/HTTP', () => {
    expect(() => allow({ remoteNamespace: 'db', remoteHost: 'a.example.com' })).toThrow('remoteNamespace: remoteNamespace and remoteSelector cannot be combined');
    expect(() => allow({ remoteSelector: { app: 'db' }, remoteCidr: '10.0.0.0/8' })).toThrow('remoteSelector: remoteNamespace and remoteSelector cannot be combined');
    expect(() => allow({ remoteNamespace: '', remoteProtocol: RemoteProtocol.TLS })).toThrow('cannot be combined');
  });

  test('rule 4: remoteCidr cannot be combined with remoteHost or TLS/HTTP', () => {
    expect(() => allow({ remoteCidr: '10.0.0.0/8', remoteHost: 'a.example.com' })).toThrow('remoteCidr: remoteCidr cannot be combined');
    expect(() => allow({ remoteCidr: '10.0.0.0/8', remoteProtocol: RemoteProtocol.HTTP })).toThrow('remoteCidr: remoteCidr cannot be combined');
  });

  test('rule 5: UDP cannot go to KubeAPI, KubeNodes or CloudMetadata', () => {
    for (const g of [RemoteGenerated.KUBE_API, RemoteGenerated.KUBE_NODES, RemoteGenerated.CLOUD_METADATA]) {
      expect(() => allow({ remoteGenerated: g, remoteProtocol: RemoteProtocol.UDP })).toThrow(`remoteProtocol: UDP cannot be combined with remoteGenerated ${g}`);
    }
    expect(allow({ remoteGenerated: RemoteGenerated.ANYWHERE, remoteProtocol: RemoteProtocol.UDP, port: 123 })._rules).toHaveLength(1);
  });

  test('rules 6 and 7: TCP or UDP cannot go to a remoteHost', () => {
    expect(() => allow({ remoteHost: 'a.example.com', remoteProtocol: RemoteProtocol.TCP })).toThrow('remoteProtocol: TCP cannot be combined with remoteHost');
    expect(() => allow({ remoteHost: 'a.example.com', remoteProtocol: RemoteProtocol.UDP })).toThrow('remoteProtocol: UDP cannot be combined with remoteHost');
  });

  test('rule 8: remoteHost or TLS/HTTP cannot be combined with Ingress', () => {
    expect(() => allow({ direction: AllowDirection.INGRESS, remoteHost: 'a.example.com' })).toThrow('direction: remoteHost and TLS/HTTP remoteProtocol cannot be combined with Ingress direction');
    expect(() => allow({ direction: AllowDirection.INGRESS, remoteNamespace: 'x', remoteProtocol: RemoteProtocol.TLS })).toThrow('cannot be combined');
  });

  test('rule 9: wildcard hosts are supported here (UDS refuses them), but not "*" nor a wildcard inside a name', () => {
    expect(allow({ remoteHost: '*.example.com' })._rules[0]).toMatchObject({ kind: 'host' });
    expect(() => allow({ remoteHost: '*' })).toThrow('remoteHost: "*" would allow every host');
    expect(() => allow({ remoteHost: 'api.*.example.com' })).toThrow('allow "team-a" #0: remoteHost:');
    expect(() => allow({ remoteHost: 'https://api.example.com' })).toThrow('allow "team-a" #0: remoteHost:');
  });

  test('rule 10: serviceAccount is accepted with remoteHost in both modes, refused where a NetworkPolicy would have to honour it', () => {
    expect(allow({ remoteHost: 'a.example.com', serviceAccount: 'curl' })._rules[0]).toMatchObject({ serviceAccount: 'curl' });
    expect(() => allow({ remoteCidr: '10.0.0.0/8', port: 5432, serviceAccount: 'curl' })).toThrow('serviceAccount: a NetworkPolicy cannot select pods by service account');
    expect(() => allow({ remoteGenerated: RemoteGenerated.ANYWHERE, serviceAccount: 'curl' })).toThrow('serviceAccount: a NetworkPolicy cannot');
    expect(() => allow({ remoteHost: 'a.example.com', serviceAccount: 'Not_A_Name' })).toThrow('serviceAccount: "Not_A_Name" is not a service account name');
  });

  test('rule 11: a duplicate entry is refused naming the first; two hosts with the same selector and no description are fine (UDS refuses them)', () => {
    const spec = new EgressAllowListSpec();
    spec.allow('team-a', { remoteHost: 'a.example.com', selector: { app: 'curl' } });
    spec.allow('team-a', { remoteHost: 'b.example.com', selector: { app: 'curl' } });
    expect(() => spec.allow('team-a', { remoteHost: 'a.example.com', port: 443, selector: { app: 'curl' } })).toThrow(
      'allow "team-a" #2: duplicate entry: it allows exactly what allow "team-a" #0 allows; remove one of them',
    );
    expect(() => spec.allow('team-a', { remoteCidr: '10.0.0.0/8', port: 5432 })).not.toThrow();
    expect(() => spec.allow('team-a', { remoteCidr: '10.0.0.0/8', ports: [5432], description: 'db' })).toThrow('duplicate entry');
  });

  test('UDS port defaults: TLS -> 443, HTTP -> 80, ports wins over port', () => {
    expect(portsOf(allow({ remoteHost: 'a.example.com' }))).toEqual([[443]]);
    expect(portsOf(allow({ remoteHost: 'a.example.com', remoteProtocol: RemoteProtocol.TLS }))).toEqual([[443]]);
    expect(portsOf(allow({ remoteHost: 'a.example.com', remoteProtocol: RemoteProtocol.HTTP }))).toEqual([[80]]);
    expect(portsOf(allow({ remoteHost: 'a.example.com', port: 8443 }))).toEqual([[8443]]);
    expect(portsOf(allow({ remoteHost: 'a.example.com', port: 8443, ports: [9443, 443] }))).toEqual([[443, 9443]]);
    // no default for CIDRs (every port), as UDS's NetworkPolicy side
    expect(portsOf(allow({ remoteCidr: '10.0.0.0/8' }))).toEqual([[]]);
    expect(() => allow({ remoteHost: 'a.example.com', ports: [443, 443] })).toThrow('ports[1]: port 443 is listed twice');
    expect(() => allow({ remoteHost: 'a.example.com', port: 0 })).toThrow('allow "team-a" #0: port:');
  });

  test('unsupported entries are refused with the fix, or skipped and listed with skipUnsupported', () => {
    expect(() => allow({ direction: AllowDirection.INGRESS, remoteNamespace: 'x' })).toThrow(
      'allow "team-a" #0: direction Ingress is not realised (this library handles egress only). Remove it, or pass skipUnsupported: true',
    );
    expect(() => allow({ remoteNamespace: 'db' })).toThrow('remoteNamespace/remoteSelector (in-cluster egress) is not realised');
    expect(() => allow({ remoteGenerated: RemoteGenerated.KUBE_NODES })).toThrow('remoteGenerated KubeNodes is not realised');
    const spec = new EgressAllowListSpec({ skipUnsupported: true });
    spec.allow('team-a', { remoteSelector: { app: 'db' } });
    spec.allow('team-a', { remoteHost: 'a.example.com' });
    expect(spec.skipped).toEqual([{ namespace: 'team-a', where: 'allow "team-a" #0', reason: expect.stringContaining('remoteNamespace/remoteSelector') }]);
    expect(spec._rules).toHaveLength(1);
  });

  test('extensions: TLS origination needs HTTP and an exact host; HTTP rules need HTTP', () => {
    expect(() => allow({ remoteHost: '*.example.com', tlsOrigination: OriginationTls.simple() })).toThrow('tlsOrigination: TLS origination needs one concrete host');
    expect(() => allow({ remoteHost: 'a.example.com', remoteProtocol: RemoteProtocol.TLS, tlsOrigination: OriginationTls.simple() })).toThrow('set remoteProtocol HTTP');
    expect(() => allow({ remoteHost: 'a.example.com', methods: ['GET'] })).toThrow('methods: HTTP methods and paths need HTTP');
    expect(() => allow({ remoteHost: 'a.example.com', remoteProtocol: RemoteProtocol.HTTP, methods: ['get'] })).toThrow('methods[0]: "get" is not an upper-case HTTP method');
    expect(() => allow({ remoteHost: 'a.example.com', tlsPort: 8443 })).toThrow('tlsPort: tlsPort is the port TLS is originated to; it needs tlsOrigination');
    expect(() => allow({ remoteHost: 'a.example.com', port: 443, tlsOrigination: OriginationTls.simple() })).toThrow('tlsPort: 443 is also a port the application calls');
    expect(portsOf(allow({ remoteHost: 'a.example.com', tlsOrigination: OriginationTls.simple() }))).toEqual([[80]]);
  });
});

describe('conflicts between entries (both modes; the mode does not matter at this stage)', () => {
  test('same host and port with different protocols within one namespace', () => {
    const spec = new EgressAllowListSpec();
    spec.allow('team-a', { remoteHost: 'a.example.com', port: 8080 });
    expect(() => spec.allow('team-a', { remoteHost: 'a.example.com', port: 8080, remoteProtocol: RemoteProtocol.HTTP, selector: { app: 'x' } })).toThrow(
      'allow "team-a" #1: protocol conflict for a.example.com:8080: this entry of namespace "team-a" wants HTTP but another entry of namespace "team-a" (allow "team-a" #0) uses TLS',
    );
  });

  test('same host and port with different protocols across namespaces', () => {
    const spec = new EgressAllowListSpec();
    spec.allow('team-a', { remoteHost: 'a.example.com', port: 8080 });
    expect(() => spec.allow('team-b', { remoteHost: 'a.example.com', port: 8080, remoteProtocol: RemoteProtocol.HTTP })).toThrow(
      'protocol conflict for a.example.com:8080: this entry of namespace "team-b" wants HTTP but namespace "team-a" (allow "team-a" #0) uses TLS',
    );
  });

  test('TLS origination and plain HTTP on one host:port, and two different originations', () => {
    const spec = new EgressAllowListSpec();
    spec.allow('team-a', { remoteHost: 'a.example.com', remoteProtocol: RemoteProtocol.HTTP });
    expect(() => spec.allow('team-b', { remoteHost: 'a.example.com', tlsOrigination: OriginationTls.simple() })).toThrow(
      'wants HTTP with TLS origination to port 443 but namespace "team-a" (allow "team-a" #0) uses HTTP',
    );
    const other = new EgressAllowListSpec();
    other.allow('team-a', { remoteHost: 'b.example.com', tlsOrigination: OriginationTls.simple() });
    expect(() => other.allow('team-b', { remoteHost: 'b.example.com', tlsOrigination: OriginationTls.simple({ ca: TrustedCa.fromSecret('partner-ca') }) })).toThrow(
      'allow "team-b" #0: tlsOrigination: b.example.com:80 is originated with other TLS settings by allow "team-a" #0',
    );
  });

  test('a namespace has one mode', () => {
    const spec = EgressAllowListSpec.fromYaml('namespaces:\n  team-a:\n    mode: sidecar\n', 'a.yaml');
    expect(() => spec.setNamespaceMode('team-a', 'AMBIENT' as any)).toThrow('setNamespaceMode("team-a"): namespace "team-a" is already sidecar (a.yaml: document 1: namespaces.team-a.mode)');
  });
});

describe('YAML / JSON documents', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'allow-list-test-'));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  test('reads namespaces, modes and entries from several documents', () => {
    const file = write('ok.yaml', [
      'namespaces:',
      '  team-a:',
      '    mode: sidecar',
      '    allow:',
      '      - remoteHost: "*.stripe.com"',
      '      - remoteHost: api.partner.example',
      '        tlsOrigination: { mode: SIMPLE }',
      '---',
      'namespaces:',
      '  team-b:',
      '    allow:',
      '      - remoteHost: httpbin.org',
      '        remoteProtocol: HTTP',
      '        methods: [GET]',
      '        paths: ["/get"]',
      '',
    ].join('\n'));
    const spec = EgressAllowListSpec.fromFile(file);
    expect(spec.namespaces).toEqual(['team-a', 'team-b']);
    expect(spec.modeOf('team-a')).toBe('SIDECAR');
    expect(spec.modeOf('team-b')).toBeUndefined();
    expect(spec._rules.map((r) => r.where)).toEqual([
      `${file}: document 1: namespaces.team-a.allow[0]`,
      `${file}: document 1: namespaces.team-a.allow[1]`,
      `${file}: document 2: namespaces.team-b.allow[0]`,
    ]);
  });

  test('bad input names the file, document, entry index and field', () => {
    const file = write('bad.yaml', 'namespaces:\n  team-a:\n    allow:\n      - remoteHost: a.example.com\n---\nnamespaces:\n  team-b:\n    allow:\n      - remoteHost: b.example.com\n      - remoteHost: c.example.com\n        port: 70000\n');
    expect(() => EgressAllowListSpec.fromFile(file)).toThrow(`${file}: document 2: namespaces.team-b.allow[1]: port:`);
    expect(() => EgressAllowListSpec.fromYaml('namespaces:\n  team-a:\n    allow:\n      - remoteHosts: [a.com]\n', 'x.yaml')).toThrow(
      'x.yaml: document 1: namespaces.team-a.allow[0]: remoteHosts: unknown field; an entry has direction, description',
    );
    expect(() => EgressAllowListSpec.fromYaml('namespace:\n  team-a: {}\n', 'x.yaml')).toThrow('x.yaml: document 1: namespace: unknown field');
    expect(() => EgressAllowListSpec.fromYaml('namespaces:\n  team-a:\n    mode: istio\n', 'x.yaml')).toThrow('x.yaml: document 1: namespaces.team-a.mode: "istio" is not a mode; use sidecar or ambient');
    expect(() => EgressAllowListSpec.fromYaml('namespaces:\n  team-a:\n    allow: {remoteHost: a.com}\n', 'x.yaml')).toThrow('x.yaml: document 1: namespaces.team-a.allow: expected a list of entries');
    expect(() => EgressAllowListSpec.fromYaml('namespaces:\n  team-a:\n    allow:\n      - remoteHost: a.example.com\n        tlsOrigination: { mode: MUTUAL }\n', 'x.yaml')).toThrow(
      'x.yaml: document 1: namespaces.team-a.allow[0]: tlsOrigination.credentialName: MUTUAL origination needs the Secret',
    );
    expect(() => EgressAllowListSpec.fromYaml('namespaces:\n  team-a:\n    allow:\n      - remoteHost: a.example.com\n        remoteProtocol: QUIC\n', 'x.yaml')).toThrow(
      'x.yaml: document 1: namespaces.team-a.allow[0]: remoteProtocol: "QUIC" is not a protocol',
    );
    expect(() => EgressAllowListSpec.fromYaml('namespaces: [1, 2]\n', 'x.yaml')).toThrow('x.yaml: document 1: namespaces: expected a map');
    expect(() => EgressAllowListSpec.fromFile(path.join(dir, 'missing.yaml'))).toThrow(`${path.join(dir, 'missing.yaml')}: cannot read the file`);
    expect(() => EgressAllowListSpec.fromYaml('namespaces: {\n', 'broken.yaml')).toThrow('broken.yaml: document 1: not valid YAML:');
  });

  test('JSON documents work the same', () => {
    const file = write('a.json', JSON.stringify({ namespaces: { 'team-a': { allow: [{ remoteHost: 'a.example.com', ports: 443 }] } } }));
    expect(() => EgressAllowListSpec.fromFile(file)).toThrow(`${file}: document 1: namespaces.team-a.allow[0]: ports: 443 must be a list of port numbers`);
  });
});

describe('UDS Package CRs', () => {
  const pkg = (spec: any, metadata: any = { name: 'pkg-1', namespace: 'egress-gw-1' }) => ({ apiVersion: 'uds.dev/v1alpha1', kind: 'Package', metadata, spec });

  test('the Package of the UDS docs is read as is (serviceMesh.mode, selector, serviceAccount, description)', () => {
    const spec = new EgressAllowListSpec();
    spec.addUdsPackage(
      pkg({ network: { serviceMesh: { mode: 'ambient' }, allow: [{ description: 'Example Curl', direction: 'Egress', port: 443, remoteHost: 'httpbin.org', remoteProtocol: 'TLS', selector: { app: 'curl' }, serviceAccount: 'curl' }] } }),
      'docs.yaml',
    );
    expect(spec.modeOf('egress-gw-1')).toBe('AMBIENT');
    expect(spec._rules[0]).toMatchObject({ kind: 'host', ports: [443], serviceAccount: 'curl', selector: { app: 'curl' }, description: 'Example Curl', where: 'docs.yaml (Package egress-gw-1/pkg-1): spec.network.allow[0]' });
  });

  test('mode defaults to ambient, as in UDS; podLabels migrate to selector', () => {
    const spec = new EgressAllowListSpec();
    spec.addUdsPackage(pkg({ network: { allow: [{ direction: 'Egress', remoteHost: 'a.example.com', podLabels: { app: 'x' } }] } }));
    expect(spec.modeOf('egress-gw-1')).toBe('AMBIENT');
    expect(spec._rules[0]).toMatchObject({ selector: { app: 'x' } });
  });

  test('bad Packages name the source, the Package and the field', () => {
    const spec = () => new EgressAllowListSpec();
    expect(() => spec().addUdsPackage({ apiVersion: 'uds.dev/v1beta1', kind: 'Package' }, 'p.yaml')).toThrow('p.yaml: apiVersion: expected apiVersion uds.dev/v1alpha1 and kind Package');
    expect(() => spec().addUdsPackage(pkg({}, { name: 'x' }), 'p.yaml')).toThrow('p.yaml: metadata.namespace: Package "x" has no namespace');
    expect(() => spec().addUdsPackage(pkg({ network: { allow: [{ remoteHost: 'a.example.com' }] } }), 'p.yaml')).toThrow(
      'p.yaml (Package egress-gw-1/pkg-1): spec.network.allow[0]: direction: required in a UDS Package',
    );
    expect(() => spec().addUdsPackage(pkg({ network: { allow: [{ direction: 'Egress', remoteHost: 'a.example.com', remoteServiceAccount: 'x' }] } }), 'p.yaml')).toThrow(
      'spec.network.allow[0]: remoteServiceAccount: only valid for Ingress rules',
    );
    expect(() => spec().addUdsPackage(pkg({ network: { serviceMesh: { mode: 'istio' } } }), 'p.yaml')).toThrow('p.yaml (Package egress-gw-1/pkg-1): spec.network.serviceMesh.mode: "istio" is not a mode');
    expect(() => spec().addUdsPackage(pkg({ network: { expose: [{ host: 'x' }] } }), 'p.yaml')).toThrow(
      'p.yaml (Package egress-gw-1/pkg-1): spec.network.expose: spec.network.expose is not egress',
    );
    expect(() => spec().addUdsPackage(pkg({ network: { allow: [{ direction: 'Egress', remoteHost: 'a.example.com', remoteProtocol: 'TCP' }] } }), 'p.yaml')).toThrow(
      'p.yaml (Package egress-gw-1/pkg-1): spec.network.allow[0]: remoteProtocol: TCP cannot be combined with remoteHost',
    );
  });

  test('a YAML file of Packages (and documents mixed in) reads with document numbers', () => {
    const text = [
      'apiVersion: uds.dev/v1alpha1',
      'kind: Package',
      'metadata: { name: a, namespace: team-a }',
      'spec:',
      '  network:',
      '    allow:',
      '      - { direction: Egress, remoteHost: a.example.com }',
      '---',
      'apiVersion: uds.dev/v1alpha1',
      'kind: Package',
      'metadata: { name: b, namespace: team-b }',
      'spec:',
      '  monitor: [{ portName: metrics }]',
      '  network:',
      '    allow:',
      '      - { direction: Ingress, remoteGenerated: IntraNamespace }',
      '      - { direction: Egress, remoteHost: b.example.com, port: 99999 }',
    ].join('\n');
    expect(() => EgressAllowListSpec.fromYaml(text, 'pkgs.yaml')).toThrow('pkgs.yaml: document 2 (Package team-b/b): spec.monitor: spec.monitor is not egress');
    expect(() => EgressAllowListSpec.fromYaml(text, 'pkgs.yaml', { skipUnsupported: true })).toThrow('pkgs.yaml: document 2 (Package team-b/b): spec.network.allow[1]: port:');
    const ok = EgressAllowListSpec.fromYaml(text.replace('99999', '443'), 'pkgs.yaml', { skipUnsupported: true });
    expect(ok.skipped.map((s) => s.where)).toEqual(['pkgs.yaml: document 2 (Package team-b/b): spec.monitor', 'pkgs.yaml: document 2 (Package team-b/b): spec.network.allow[0]']);
  });
});
