/**
 * The platform scenario the benchmark synthesizes, built on the COMPILED library (lib/src/index.js), never on src/.
 *
 * At N allowed hosts, in one Chart:
 * - one EgressGateway (istio-egress, TLS 443 + HTTP 80);
 * - one WildcardEgressGateway with N hosts, half wildcard (`*.s<i>.vendor.example.com`), half exact
 *   (`api.s<i>.vendor.example.com`), allowed from every team namespace;
 * - one AmbientEgressWaypoint with N/10 hosts, each with one identity policy (a team's service account);
 * - one TlsOriginationEgress with ceil(N/100) hosts on the same gateway;
 * - the matching NetworkPolicies: one EgressNetworkPolicy per sidecar team (wildcard + TLS origination paths), one
 *   per ambient team (the waypoint), and one EgressGatewayNetworkPolicy for the gateway pods with every sidecar team
 *   as client (when the library exports those constructs).
 *
 * Teams: T = max(1, round(N / 100)) sidecar namespaces `team-<t>` and as many ambient namespaces `ambient-<t>`.
 */
import * as os from 'os';
import * as path from 'path';
import type { App, Chart } from 'cdk8s';

/** The compiled library. `typeof import(...)` only borrows the types of lib/src/index.d.ts. */
export type Lib = typeof import('../lib/src');

/** lib/src/index.js, or the entry point of another compiled build in BENCH_LIB (to compare a candidate fix). */
export const LIB_ENTRY = path.resolve(process.env.BENCH_LIB ?? path.join(__dirname, '..', 'lib', 'src', 'index.js'));

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const lib: Lib = require(LIB_ENTRY);
// The same cdk8s instance the library uses (resolved from the repository root).
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const cdk8s: typeof import('cdk8s') = require(require.resolve('cdk8s', { paths: [path.dirname(LIB_ENTRY)] }));

/** Which constructs of the scenario exist in the compiled library. */
export function availableConstructs(): { [name: string]: boolean } {
  const l = lib as any;
  return {
    WildcardEgressGateway: typeof l.WildcardEgressGateway === 'function',
    AmbientEgressWaypoint: typeof l.AmbientEgressWaypoint === 'function',
    TlsOriginationEgress: typeof l.TlsOriginationEgress === 'function',
    EgressNetworkPolicy: typeof l.EgressNetworkPolicy === 'function',
    EgressGatewayNetworkPolicy: typeof l.EgressGatewayNetworkPolicy === 'function',
  };
}

/** How many hosts / teams / policies each construct gets at N. */
export interface ScenarioShape {
  readonly hosts: number;
  readonly wildcardHosts: number;
  readonly waypointHosts: number;
  readonly tlsHosts: number;
  readonly teams: number;
  readonly networkPolicies: number;
}

export function shape(n: number): ScenarioShape {
  const teams = Math.max(1, Math.round(n / 100));
  const has = availableConstructs();
  const networkPolicies = (has.EgressNetworkPolicy ? 2 * teams : 0) + (has.EgressGatewayNetworkPolicy ? 1 : 0);
  return {
    hosts: n,
    wildcardHosts: n,
    waypointHosts: Math.max(1, Math.round(n / 10)),
    tlsHosts: Math.max(1, Math.ceil(n / 100)),
    teams,
    networkPolicies,
  };
}

/** The i-th host of the wildcard gateway: even = wildcard, odd = exact; never overlapping. */
export function wildcardHost(i: number): string {
  return i % 2 === 0 ? `*.s${i}.vendor.example.com` : `api.s${i}.vendor.example.com`;
}

/** Defines the whole platform scenario at N hosts in `chart`. */
export function definePlatform(chart: Chart, n: number): void {
  const s = shape(n);
  const has = availableConstructs();
  const teams = Array.from({ length: s.teams }, (_, t) => `team-${t}`);
  const ambientTeams = Array.from({ length: s.teams }, (_, t) => `ambient-${t}`);
  const teamIdentities = teams.map((t) => lib.WorkloadIdentity.allInNamespace(t));

  const gateway = new lib.EgressGateway(chart, 'EgressGateway', {
    namespace: 'istio-egress',
    ports: [lib.EgressPort.tls(443), lib.EgressPort.http(80)],
  });

  const wildcard = new lib.WildcardEgressGateway(chart, 'Vendors', {
    gateway,
    name: 'vendors',
    hosts: Array.from({ length: s.wildcardHosts }, (_, i) => wildcardHost(i)),
    allowFrom: teamIdentities,
  });

  const waypoint = new lib.AmbientEgressWaypoint(chart, 'Waypoint', { namespace: 'egress-waypoint', name: 'egress-waypoint' });
  for (let i = 0; i < s.waypointHosts; i++) {
    const host = waypoint.addHost(`svc-${i}.partner-${i % 37}.example.org`);
    host.allow('team', { identities: [lib.WorkloadIdentity.serviceAccount(ambientTeams[i % s.teams], 'app')] });
  }

  const tls = new lib.TlsOriginationEgress(chart, 'Partners', {
    gateway,
    name: 'partners',
    hosts: Array.from({ length: s.tlsHosts }, (_, i) => `api-${i}.partner.example.net`),
    allowFrom: teamIdentities,
  });

  if (has.EgressNetworkPolicy) {
    const sidecarPolicies = teams.map((ns) => {
      const p = new lib.EgressNetworkPolicy(chart, `Lockdown-${ns}`, { namespace: ns });
      p.allowEgressPath(wildcard);
      p.allowEgressPath(tls);
      return p;
    });
    for (const ns of ambientTeams) {
      new lib.EgressNetworkPolicy(chart, `Lockdown-${ns}`, { namespace: ns, dataplane: lib.DataplaneMode.AMBIENT, waypoints: [waypoint] });
    }
    if (has.EgressGatewayNetworkPolicy) {
      const gw = new lib.EgressGatewayNetworkPolicy(chart, 'GatewayLockdown', { paths: [wildcard, tls] });
      sidecarPolicies.forEach((p) => gw.allowClient(p));
    }
  }
}

/** Only the gateway and the wildcard gateway with N hosts: for "a host adds no objects". */
export function defineWildcardOnly(chart: Chart, n: number): void {
  const gateway = new lib.EgressGateway(chart, 'EgressGateway', { namespace: 'istio-egress', ports: [lib.EgressPort.tls(443)] });
  new lib.WildcardEgressGateway(chart, 'Vendors', {
    gateway,
    name: 'vendors',
    hosts: Array.from({ length: n }, (_, i) => wildcardHost(i)),
  });
}

/** A fresh App with one Chart holding the scenario. */
export function buildApp(define: (chart: Chart, n: number) => void, n: number): App {
  const app = new cdk8s.App({ outdir: path.join(os.tmpdir(), 'cdk8s-istio-egress-bench-unused') });
  const chart = new cdk8s.Chart(app, 'platform');
  define(chart, n);
  return app;
}
