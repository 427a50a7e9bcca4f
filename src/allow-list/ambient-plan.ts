/**
 * The ambient-mode realisation of an allow-list: every host bound to the egress waypoint (the given one, or one made
 * here) with one ALLOW rule per entry (identity, ports, HTTP methods and paths).
 */
import { AllowListContext, atEntries, atWhere, cmp, identityOf, shortHash } from './context';
import { HostRule, RemoteProtocol } from './entry';
import { AmbientEgressWaypoint } from '../ambient/ambient-egress-waypoint';
import { IEgressWaypoint } from '../ambient/egress-waypoint';
import { EgressWaypointHost } from '../ambient/waypoint-host';
import { addToList, sortedUnique } from '../core/collections';
import { fieldError } from '../core/errors';
import { dnsLabelName, hostToDnsLabel } from '../core/names';
import { EgressPort } from '../core/port';

/** The waypoint of an allow-list's ambient namespaces and the hosts bound to it. @internal */
export interface AmbientPlan {
  /** The waypoint in use: the given one, or `created`. */
  readonly waypoint: IEgressWaypoint;
  /** The waypoint made here, when none is given. */
  readonly created?: AmbientEgressWaypoint;
  /** The waypoint's hosts, by host name. */
  readonly hosts: Map<string, EgressWaypointHost>;
}

/** Binds the ambient-mode hosts to the waypoint; none (and no waypoint made) without such hosts. @internal */
export function realiseAmbient(ctx: AllowListContext, rules: HostRule[]): AmbientPlan | undefined {
  if (rules.length === 0) {
    return undefined;
  }
  let created: AmbientEgressWaypoint | undefined;
  if (ctx.options.waypoint === undefined) {
    created = new AmbientEgressWaypoint(ctx.scope, 'Waypoint', {
      namespace: ctx.options.waypointNamespace ?? 'istio-egress-ambient',
      mesh: ctx.mesh,
      istioVersion: ctx.options.istioVersion,
      istiodWildcardTlsEnabled: ctx.options.istiodWildcardTlsEnabled,
    });
  }
  const waypoint = ctx.options.waypoint ?? created!;
  const hosts = new Map<string, EgressWaypointHost>();
  const byHost = new Map<string, HostRule[]>();
  for (const r of rules) {
    addToList(byHost, r.host.name, r);
  }
  for (const [host, list] of [...byHost].sort(([a], [b]) => cmp(a, b))) {
    const originated = list.filter((r) => r.origination !== undefined);
    if (originated.length > 0 && originated.length < list.length) {
      const plain = list.find((r) => r.origination === undefined)!;
      fieldError(
        ctx.scope,
        `${plain.where}: tlsOrigination`,
        `host "${host}" is originated at the waypoint for ${originated[0].where} but not here; the waypoint originates TLS for every port of a host. Originate TLS in both entries, or in neither`,
      );
    }
    const origination = originated[0];
    for (const r of originated.slice(1)) {
      if (JSON.stringify(r.origination) !== JSON.stringify(origination.origination) || r.tlsPort !== origination.tlsPort) {
        fieldError(ctx.scope, `${r.where}: tlsOrigination`, `host "${host}" is originated with other TLS settings in ${origination.where}; one host has one origination. Use the same tlsOrigination and tlsPort`);
      }
    }
    const portNumbers = sortedUnique(list.flatMap((r) => r.ports));
    const ports = portNumbers.map((p) => {
      const protocol = list.find((r) => r.ports.includes(p))!.protocol;
      if (origination) {
        return EgressPort.http(p, { targetPort: origination.tlsPort });
      }
      return protocol === RemoteProtocol.HTTP ? EgressPort.http(p) : EgressPort.tls(p);
    });
    const wh = atEntries(ctx, list, () => waypoint.addHost(host, { ports, tlsOrigination: origination?.origination }));
    // The waypoint claims the host in the app's registry itself (every namespace sees it: ambient ignores exportTo).
    hosts.set(host, wh);
    for (const r of list) {
      const ruleName = dnsLabelName([r.namespace, r.serviceAccount === undefined ? 'all' : hostToDnsLabel(r.serviceAccount), shortHash(JSON.stringify([r.ports, r.methods ?? null, r.paths ?? null]))], 40);
      atWhere(ctx, r.where, () => wh.allow(ruleName, { identities: [identityOf(r)], ports: r.ports, methods: r.methods, paths: r.paths }));
    }
    ctx.hostPath.set(host, `waypoint ${waypoint.namespace}/${waypoint.name}`);
  }
  return { waypoint, created, hosts };
}
