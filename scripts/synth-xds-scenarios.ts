/**
 * Synthesizes the xDS suite's scenario apps (test/xds): the security review's scenarios (X1, H1, H2, L9) and the
 * proxyVersion case, one directory each under <out>/xds-scenarios/<name>/. The examples themselves come from
 * `npx projen synth-examples`.
 *
 *   ts-node --transpile-only scripts/synth-xds-scenarios.ts [--repo <checkout>] [--out <dir>]
 *
 * --repo: the checkout whose src/ is synthesized (default: this one), so the same scenarios can be judged on
 * another branch's library; --out: where <out>/xds-scenarios/ goes (default: the checkout itself). When the library
 * refuses a scenario at synth time (a fix that rejects the attack's input), its directory gets a SYNTH_ERROR file with
 * the message instead of manifests; the xDS test then reports the refusal.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Chart } from 'cdk8s';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]) : fallback;
}

const repo = arg('--repo', path.join(__dirname, '..'));
const out = path.join(arg('--out', repo), 'xds-scenarios');
// The library and cdk8s of that checkout (one cdk8s instance, or Lazy values would not resolve).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const E = require(path.join(repo, 'src')) as typeof import('../src');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cdk8s = require(path.join(repo, 'node_modules', 'cdk8s')) as typeof import('cdk8s');

const scenarios: Record<string, (chart: Chart) => void> = {
  // The wildcard example with proxyVersion set: proxies of another version must get no forwarder (fail closed).
  'proxy-version': (c) => {
    const gateway = new E.EgressGateway(c, 'EgressGateway', { namespace: 'istio-egress', name: 'egress-gateway' });
    new E.WildcardEgressGateway(c, 'Wikipedia', {
      gateway,
      hosts: ['*.wikipedia.org'],
      allowFrom: [E.WorkloadIdentity.serviceAccount('default', 'sleep')],
      proxyVersion: '^1\\.30.*',
    });
  },
  // H1: ambient wildcard TLS host, rule for one namespace.
  'h1-ambient-wildcard-tls': (c) => {
    const wp = new E.AmbientEgressWaypoint(c, 'Waypoint', { namespace: 'istio-egress', istiodWildcardTlsEnabled: true });
    const h = wp.addHost('*.example.com', { ports: [E.EgressPort.tls(443)] });
    h.allow('team-a', { identities: [E.WorkloadIdentity.allInNamespace('team-a')] });
  },
  // H2 (ambient): everyone may GET *.example.com; only default/admin may use api.example.com.
  'h2-ambient-overlap': (c) => {
    const wp = new E.AmbientEgressWaypoint(c, 'Waypoint', { namespace: 'istio-egress' });
    const wild = wp.addHost('*.example.com', { ports: [E.EgressPort.http(80)] });
    wild.allow('everyone-get', { identities: [E.WorkloadIdentity.anyInMesh()], methods: ['GET'] });
    const api = wp.addHost('api.example.com', { ports: [E.EgressPort.http(80)] });
    api.allow('admin', { identities: [E.WorkloadIdentity.serviceAccount('default', 'admin')] });
  },
  // H2 (sidecar): gateway A forwards *.example.com for anyone; gateway B api.example.com for default/admin only.
  'h2-sidecar-overlap': (c) => {
    const a = new E.EgressGateway(c, 'GatewayA', { namespace: 'egress-a', name: 'egress-gateway' });
    new E.WildcardEgressGateway(c, 'All', { gateway: a, name: 'all', hosts: ['*.example.com'] });
    const b = new E.EgressGateway(c, 'GatewayB', { namespace: 'egress-b', name: 'egress-gateway' });
    new E.WildcardEgressGateway(c, 'Api', {
      gateway: b,
      name: 'api',
      hosts: ['api.example.com'],
      allowFrom: [E.WorkloadIdentity.serviceAccount('default', 'admin')],
    });
  },
  // L9 with allowFrom anyInMesh (the clients' entry is exported to every namespace): still no sidecar learns host:443.
  'l9-origination-any-in-mesh': (c) => {
    const gateway = new E.EgressGateway(c, 'EgressGateway', { namespace: 'istio-egress-tls', name: 'egress-gateway', ports: [E.EgressPort.http(80)] });
    new E.TlsOriginationEgress(c, 'Cnn', {
      gateway,
      hosts: ['edition.cnn.com'],
      tls: E.OriginationTls.simple(),
      allowFrom: [E.WorkloadIdentity.anyInMesh()],
    });
  },
};

fs.rmSync(out, { recursive: true, force: true });
for (const [name, define] of Object.entries(scenarios)) {
  const dir = path.join(out, name);
  fs.mkdirSync(dir, { recursive: true });
  const app = new cdk8s.App({ outdir: dir });
  // Only the library refusing the scenario's input (an error while defining it, or a failed construct validation)
  // counts as a refusal; any other failure is a bug and stops the script.
  let refusal: string | undefined;
  try {
    define(new cdk8s.Chart(app, name));
  } catch (e) {
    refusal = (e as Error).message;
  }
  if (refusal === undefined) {
    try {
      app.synth();
    } catch (e) {
      if (!/Validation failed/.test((e as Error).message)) {
        throw e;
      }
      refusal = (e as Error).message;
    }
  }
  if (refusal !== undefined) {
    fs.writeFileSync(path.join(dir, 'SYNTH_ERROR'), `${refusal}\n`);
    console.log(`xds-scenarios/${name}: refused at synth: ${refusal.split('\n')[0]}`);
  } else {
    console.log(`xds-scenarios/${name}: ${fs.readdirSync(dir).join(', ')}`);
  }
}
