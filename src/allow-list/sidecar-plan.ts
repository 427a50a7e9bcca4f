/**
 * The sidecar-mode plan of an allow-list: hosts grouped by the exact set of identities (and HTTP rules) allowed to
 * reach them, each group's route units (TLS, TLS origination) placed on gateways, and the ports of a given gateway
 * shared out. No construct is made here (`sidecar-gateways.ts` makes them).
 */
import { AllowListContext, cmp, identityOf, shortHash } from './context';
import { HostRule } from './entry';
import { protocolText } from './model';
import { addToList } from '../core/collections';
import { fieldError } from '../core/errors';
import { WorkloadIdentity } from '../core/identity';
import { dnsLabelName, hostToDnsLabel } from '../core/names';
import { Protocol } from '../core/port';
import { MeshRegistry } from '../core/registry';
import { IEgressGateway } from '../sidecar/egress-gateway-base';
import { TlsOriginationEgress } from '../sidecar/tls-origination-egress';
import { WildcardEgressGateway } from '../sidecar/wildcard-egress-gateway';

/** Ports the Istio proxy reserves on a gateway pod (admin, status, metrics, inbound/outbound capture): never allocated. */
const RESERVED_PROXY_PORTS: [number, number] = [15000, 15090];

/** A sidecar-mode route unit: the hosts one identity group reaches one way. @internal */
export interface SidecarUnit {
  readonly group: Group;
  readonly kind: 'tls' | 'origination';
  /** TLS: the client ports; origination: [httpPort]. */
  readonly ports: number[];
  readonly tlsPort: number;
  readonly hosts: Map<string, HostRule[]>;
  construct?: WildcardEgressGateway | TlsOriginationEgress;
  gateway?: GatewayPlan;
}

/** The hosts of one set of identities and HTTP rules, and the gateways that serve them. @internal */
export interface Group {
  readonly key: string;
  readonly name: string;
  readonly identities: WorkloadIdentity[];
  /** The HTTP rule of each identity that has one (the same for every host of the group). */
  readonly httpRules: HttpRule[];
  readonly gateways: GatewayPlan[];
}

/** What one identity may send to a host: only these methods and paths. @internal */
export interface HttpRule {
  readonly identity: WorkloadIdentity;
  readonly methods?: string[];
  readonly paths?: string[];
}

/** One gateway of a group: its ports and the units it serves. @internal */
export interface GatewayPlan {
  readonly name: string;
  readonly tlsPorts: Set<number>;
  readonly httpPorts: Map<number, SidecarUnit>;
  readonly units: SidecarUnit[];
  gateway?: IEgressGateway;
}

/**
 * Plans the sidecar-mode hosts: one route per host (the same kind and ports for every entry of the host), hosts
 * grouped by identities and HTTP rules, and each group's units placed on gateways (TLS units on the group's first
 * gateway whose ports are free; originations on its first gateway). @internal
 */
export class SidecarPlan {
  /** The gateways, in the order they were planned. */
  public readonly gatewayPlans: GatewayPlan[] = [];
  /** The units, by group, kind and ports. */
  private readonly units = new Map<string, SidecarUnit>();
  /** The unit that routes each sidecar host, by host name. */
  private readonly sidecarUnitOf = new Map<string, SidecarUnit>();
  /** With a given gateway: the unit that uses each of its ports. */
  private readonly givenGatewayPorts = new Map<number, SidecarUnit>();

  public constructor(private readonly ctx: AllowListContext, rules: HostRule[]) {
    if (rules.length === 0) {
      return;
    }
    const groups = this.group(rules);
    this.place(groups);
    for (const u of this.units.values()) {
      for (const h of u.hosts.keys()) {
        this.sidecarUnitOf.set(h, u);
      }
    }
  }

  /** The unit that routes a sidecar host. */
  public unitOf(host: string): SidecarUnit {
    return this.sidecarUnitOf.get(host)!;
  }

  /** Groups the hosts by identities and HTTP rules, and each group's hosts into units (kind and ports). */
  private group(rules: HostRule[]): Map<string, Group> {
    const ctx = this.ctx;
    const byHost = new Map<string, HostRule[]>();
    for (const r of rules) {
      addToList(byHost, r.host.name, r);
    }
    const groups = new Map<string, Group>();
    for (const [host, list] of [...byHost].sort(([a], [b]) => cmp(a, b))) {
      const first = list[0];
      for (const r of list.slice(1)) {
        if (routeKey(r) !== routeKey(first)) {
          fieldError(
            ctx.scope,
            `${r.where}: ports`,
            `host "${host}" is ${routeText(r)} here but ${routeText(first)} in ${first.where}; in sidecar mode a host has one gateway route for every entry, so differing ports would widen one team's access. ` +
              'Give both entries the same ports and protocol, or run one namespace in ambient mode (rules per port)',
          );
        }
      }
      const identities = reduceIdentities(list.map((r) => identityOf(r)));
      const httpRules = this.httpRulesOf(host, list, identities);
      const key = [...identities.map(identityKey), ...httpRules.map((h) => `http:${identityKey(h.identity)}:${JSON.stringify([h.methods ?? null, h.paths ?? null])}`)].join(',');
      let group = groups.get(key);
      if (group === undefined) {
        const base = groupName(identities, identities.map(identityKey).join(','));
        group = { key, name: httpRules.length === 0 ? base : dnsLabelName([base, 'http', shortHash(key)], 40), identities, httpRules, gateways: [] };
        groups.set(key, group);
      }
      const kind = first.origination === undefined ? 'tls' : 'origination';
      const ukey = `${key}|${kind}|${first.ports.join(',')}|${first.tlsPort}`;
      let unit = this.units.get(ukey);
      if (unit === undefined) {
        unit = { group, kind, ports: first.ports, tlsPort: first.tlsPort, hosts: new Map() };
        this.units.set(ukey, unit);
      }
      unit.hosts.set(host, list);
    }
    return groups;
  }

  /** Places each group's units on gateways of the group. */
  private place(groups: Map<string, Group>): void {
    const ctx = this.ctx;
    for (const group of [...groups.values()].sort((a, b) => cmp(a.key, b.key))) {
      const mine = [...this.units.values()].filter((u) => u.group === group).sort((a, b) => cmp(unitKey(a), unitKey(b)));
      const planFor = (index: number): GatewayPlan => {
        while (group.gateways.length <= index) {
          const i = group.gateways.length;
          const limit = 63 - ctx.gatewayNamespace.length - 1;
          const plan: GatewayPlan = { name: dnsLabelName(['egress', group.name, i === 0 ? '' : String(i)], Math.min(63, limit)), tlsPorts: new Set(), httpPorts: new Map(), units: [] };
          group.gateways.push(plan);
          this.gatewayPlans.push(plan);
        }
        return group.gateways[index];
      };
      for (const u of mine.filter((x) => x.kind === 'tls')) {
        if (ctx.options.gateway !== undefined) {
          this.claimGivenGatewayPorts(u, u.ports);
        }
        let i = 0;
        while (u.ports.some((p) => planFor(i).tlsPorts.has(p) || planFor(i).httpPorts.has(p))) {
          i++;
        }
        const plan = planFor(i);
        u.ports.forEach((p) => plan.tlsPorts.add(p));
        plan.units.push(u);
        u.gateway = plan;
      }
      for (const u of mine.filter((x) => x.kind === 'origination')) {
        const plan = planFor(0);
        let port = u.ports[0];
        if (ctx.options.gateway !== undefined) {
          // a port the gateway has (its pods' port is the gateway's business), not used by another unit
          port = this.freeGivenHttpPort(u);
          this.claimGivenGatewayPorts(u, [port]);
        } else {
          while (plan.tlsPorts.has(port) || plan.httpPorts.has(port) || reservedProxyPort(port)) {
            port = port >= 65535 ? 1024 : port + 1;
          }
        }
        plan.httpPorts.set(port, u);
        plan.units.push(u);
        u.gateway = plan;
      }
    }
  }

  /**
   * With a given gateway: records that `unit`'s group uses `ports` of it. A gateway serves one construct per port, so
   * a port another group uses would put both groups behind one server (least privilege lost): refused, naming both.
   */
  private claimGivenGatewayPorts(unit: SidecarUnit, ports: number[]): void {
    const gateway = this.ctx.options.gateway!;
    for (const port of ports) {
      const owner = this.givenGatewayPorts.get(port);
      if (owner !== undefined && owner !== unit && owner.group === unit.group) {
        const first = [...owner.hosts.entries()][0];
        const mine = [...unit.hosts.entries()][0];
        fieldError(
          this.ctx.scope,
          `${mine[1][0].where}: ports`,
          `host "${mine[0]}" needs ports ${unit.ports.join(', ')} and host "${first[0]}" (${first[1][0].where}) ports ${owner.ports.join(', ')}, for the same identities; ` +
            `on the given gateway ${gateway.namespace}/${gateway.serviceName} one port serves one set of hosts. Give these entries the same ports, or drop the gateway option`,
        );
      }
      if (owner !== undefined && owner.group !== unit.group) {
        const first = [...owner.hosts.values()][0][0];
        const mine = [...unit.hosts.values()][0][0];
        fieldError(
          this.ctx.scope,
          `${mine.where}: gateway`,
          `port ${port} of the given gateway ${gateway.namespace}/${gateway.serviceName} already serves ${owner.group.identities.join(', ')} (${first.where}), ` +
            `and this entry's hosts are for ${unit.group.identities.join(', ')}; one port serves one group, or one group would reach the other's hosts at the gateway. ` +
            'Drop the gateway option (the allow-list then creates a gateway per group), or give the entries other ports',
        );
      }
      this.givenGatewayPorts.set(port, unit);
    }
  }

  /** With a given gateway: its first HTTP port no other unit uses, for a TLS origination unit. */
  private freeGivenHttpPort(unit: SidecarUnit): number {
    const gateway = this.ctx.options.gateway!;
    const registry = MeshRegistry.of(this.ctx.scope);
    const workload = `${gateway.namespace}/${gateway.serviceName}`;
    const free = gateway.ports.filter(
      (p) => p.protocol === Protocol.HTTP && !this.givenGatewayPorts.has(p.number) && !registry.isProxyPortClaimed(workload, p.number),
    );
    if (free.length === 0) {
      const mine = [...unit.hosts.values()][0][0];
      const http = gateway.ports.filter((p) => p.protocol === Protocol.HTTP).map((p) => p.number);
      fieldError(
        this.ctx.scope,
        `${mine.where}: tlsOrigination`,
        `the given gateway ${gateway.namespace}/${gateway.serviceName} has no free HTTP port for the TLS origination of "${[...unit.hosts.keys()][0]}" ` +
          `(its HTTP ports: ${http.length === 0 ? 'none' : http.join(', ')}, each serving one group or another construct); add an HTTP port to the gateway (e.g. EgressPort.http(8081)), or drop the gateway option`,
      );
    }
    return free[0].number;
  }

  /**
   * The HTTP rules of a sidecar host's identities. Rules add up: an identity with one entry without methods/paths may
   * send anything. An identity with two different rules for one host, or a namespace-wide rule beside a service
   * account of that namespace (the namespace's rule would restrict the service account too), is refused.
   */
  private httpRulesOf(host: string, list: HostRule[], identities: WorkloadIdentity[]): HttpRule[] {
    const byIdentity = new Map<string, { rule: HttpRule | undefined; where: string }>();
    for (const r of list) {
      const key = identityKey(identityOf(r));
      const restricted = r.methods !== undefined || r.paths !== undefined;
      const rule = restricted ? { identity: identityOf(r), methods: r.methods, paths: r.paths } : undefined;
      const other = byIdentity.get(key);
      if (other === undefined) {
        byIdentity.set(key, { rule, where: r.where });
      } else if (other.rule === undefined || rule === undefined) {
        byIdentity.set(key, { rule: undefined, where: other.where });
      } else if (JSON.stringify([other.rule.methods, other.rule.paths]) !== JSON.stringify([rule.methods, rule.paths])) {
        fieldError(this.ctx.scope, `${r.where}: methods`, `host "${host}" already has other HTTP rules for ${identityOf(r)} in ${other.where}; give one entry with all the methods and paths it may use`);
      }
    }
    for (const r of list) {
      if (r.serviceAccount === undefined) {
        continue;
      }
      const whole = byIdentity.get(`ns:${r.namespace}`);
      const mine = byIdentity.get(identityKey(identityOf(r)))!;
      if (whole?.rule !== undefined && JSON.stringify(mine.rule ?? null) !== JSON.stringify({ ...whole.rule, identity: identityOf(r) })) {
        fieldError(
          this.ctx.scope,
          `${r.where}: serviceAccount`,
          `the namespace-wide HTTP rule of ${whole.where} for host "${host}" would also restrict service account ${r.namespace}/${r.serviceAccount} at the gateway; ` +
            'give the namespace-wide entry a serviceAccount too, or the same methods and paths',
        );
      }
    }
    const kept = new Set(identities.map(identityKey));
    return [...byIdentity.entries()].filter(([k, v]) => kept.has(k) && v.rule !== undefined).sort(([a], [b]) => cmp(a, b)).map(([, v]) => v.rule!);
  }
}

function routeKey(r: HostRule): string {
  return JSON.stringify([r.origination === undefined ? 'tls' : 'origination', r.ports, r.tlsPort, r.origination ?? null]);
}

function routeText(r: HostRule): string {
  return `${protocolText(r)} on port${r.ports.length > 1 ? 's' : ''} ${r.ports.join(', ')}`;
}

function unitKey(u: SidecarUnit): string {
  return `${u.kind}|${u.ports.join(',')}|${u.tlsPort}`;
}

/** Whether a port is one the Istio proxy reserves on a gateway pod. @internal */
export function reservedProxyPort(port: number): boolean {
  return port >= RESERVED_PROXY_PORTS[0] && port <= RESERVED_PROXY_PORTS[1];
}

function identityKey(i: WorkloadIdentity): string {
  return i.serviceAccountName === undefined ? `ns:${i.namespace}` : `sa:${i.namespace}/${i.serviceAccountName}`;
}

/** Sorted, without service accounts whose whole namespace is already allowed. */
function reduceIdentities(ids: WorkloadIdentity[]): WorkloadIdentity[] {
  const wholeNamespaces = new Set(ids.filter((i) => i.serviceAccountName === undefined).map((i) => i.namespace));
  const byKey = new Map<string, WorkloadIdentity>();
  for (const i of ids) {
    if (i.serviceAccountName !== undefined && wholeNamespaces.has(i.namespace)) {
      continue;
    }
    byKey.set(identityKey(i), i);
  }
  return [...byKey.keys()].sort(cmp).map((k) => byKey.get(k)!);
}

/** A stable name for an identity group: the namespace (and service account) of one identity, else `shared-<hash>`. */
function groupName(ids: WorkloadIdentity[], key: string): string {
  if (ids.length === 1) {
    const i = ids[0];
    return dnsLabelName([i.namespace!, i.serviceAccountName === undefined ? '' : hostToDnsLabel(i.serviceAccountName)], 40);
  }
  return `shared-${shortHash(key)}`;
}
