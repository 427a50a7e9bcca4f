import { ApiObject } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkAllowList } from './checks';
import { AllowListContext, cmp, contains, identityOf, selectorKey, shortHash } from './context';
import { AllowRule, HostRule, NetworkRule, RemoteGenerated, RemoteProtocol } from './entry';
import { EgressMatrixRow, matrixMarkdown } from './matrix';
import { compareRows, rowOf, skippedRow, writeMatrixFiles } from './matrix-rows';
import { EgressAllowListSpec, EgressAllowListSpecOptions, protocolText } from './model';
import * as net from '../../imports/networking.istio.io';
import * as sec from '../../imports/security.istio.io';
import { AmbientEgressWaypoint } from '../ambient/ambient-egress-waypoint';
import { IEgressWaypoint } from '../ambient/egress-waypoint';
import { EgressWaypointHost } from '../ambient/waypoint-host';
import { requireImplements } from '../core/boundary';
import { addToList } from '../core/collections';
import { DataplaneMode } from '../core/dataplane-mode';
import { validateDnsLabel } from '../core/dns';
import { EgressPathConfig, IEgressPath } from '../core/egress-path';
import { fieldError, inField } from '../core/errors';
import { authorizationSources, WorkloadIdentity } from '../core/identity';
import { IstioVersion } from '../core/istio-version';
import { MeshSettings } from '../core/mesh';
import { dnsLabelName, hostToDnsLabel } from '../core/names';
import { EgressPort, Protocol } from '../core/port';
import { MeshRegistry } from '../core/registry';
import { EgressGatewayNetworkPolicy } from '../network-policy/egress-gateway-network-policy';
import { EgressNetworkPolicy } from '../network-policy/egress-network-policy';
import { peerScope } from '../network-policy/peers';
import { EgressGateway, IEgressGateway } from '../sidecar/egress-gateway';
import { TlsOriginationEgress } from '../sidecar/tls-origination-egress';
import { WildcardEgressGateway } from '../sidecar/wildcard-egress-gateway';

/** The cloud metadata endpoint: never part of `Anywhere` (UDS: `0.0.0.0/0 except 169.254.169.254/32`). */
const METADATA_CIDR = '169.254.169.254/32';
/** Ports the Istio proxy reserves on a gateway pod (admin, status, metrics, inbound/outbound capture): never allocated. */
const RESERVED_PROXY_PORTS: [number, number] = [15000, 15090];
const BASE = 'egress-allow-list';
const OutboundMode = net.SidecarSpecOutboundTrafficPolicyMode;

/**
 * Options of an EgressAllowList (everything but the allow-list itself).
 */
export interface EgressAllowListOptions {
  /**
   * The mode of namespaces whose mode the allow-list does not set (UDS `serviceMesh.mode` defaults to ambient).
   *
   * @default DataplaneMode.AMBIENT
   */
  readonly defaultMode?: DataplaneMode;

  /**
   * The namespace of the egress gateways (sidecar mode). Each group of identities gets its own gateway there, so a
   * team's identity is refused at the gateway for hosts only other teams may reach.
   *
   * @default "istio-egress"
   */
  readonly gatewayNamespace?: string;

  /**
   * An egress gateway every sidecar-mode group routes through, instead of a gateway the allow-list creates per group
   * (an `EgressGateway` of this app, or one that already runs: `EgressGateway.fromAttributes`).
   *
   * Least privilege still holds per group, because each group gets servers of its own, and a gateway serves one
   * construct per port: the groups (the distinct sets of identities allowed to reach a host) must therefore need
   * distinct ports. Two groups that need the same port are refused, naming both; drop `gateway` and the allow-list
   * creates a gateway per group. The gateway must have the ports already (it is not changed): a TLS port with each
   * TLS host's port number, and for TLS origination a free HTTP port per originated port. `gatewayNamespace` and
   * `gatewayReplicas` do not apply.
   *
   * @default - a new `EgressGateway` per group, in `gatewayNamespace`
   */
  readonly gateway?: IEgressGateway;

  /**
   * Replicas of each egress gateway.
   *
   * @default 2
   */
  readonly gatewayReplicas?: number;

  /**
   * The egress waypoint (ambient mode): an `AmbientEgressWaypoint` of this app, or one that already runs
   * (`AmbientEgressWaypoint.fromAttributes`, e.g. made with `istioctl waypoint apply`). The hosts' ServiceEntries are
   * placed in the waypoint's own namespace.
   *
   * @default - a new `AmbientEgressWaypoint` (child id `Waypoint`) in namespace `istio-egress-ambient`, created only when
   * an ambient namespace allows a host
   */
  readonly waypoint?: IEgressWaypoint;

  /**
   * Fence a given `gateway` or `waypoint` too (an `EgressGatewayNetworkPolicy` per group or for the waypoint, as for
   * the proxies the allow-list creates). The fence admits only the allow-list's clients and lets the proxy reach only
   * the allow-list's ports, so turn it on only when nothing else uses that proxy: its other clients and hosts would be
   * cut off. Otherwise fence the proxy yourself with `EgressGatewayNetworkPolicy`, listing every path it serves.
   *
   * @default false: a given gateway or waypoint is not fenced (the ones the allow-list creates always are)
   */
  readonly fenceGivenProxies?: boolean;

  /**
   * The namespace of the waypoint created when `waypoint` is not given.
   *
   * @default "istio-egress-ambient"
   */
  readonly waypointNamespace?: string;

  /**
   * Mesh settings (trust domain, cluster domain, istiod namespace).
   *
   * @default MeshSettings.defaults()
   */
  readonly mesh?: MeshSettings;

  /**
   * The Istio release the cluster runs (wildcard hosts at the waypoint need >= 1.28). Prefer `mesh.istioVersion`;
   * given in both, the two must agree.
   *
   * @default - `mesh.istioVersion`
   */
  readonly istioVersion?: IstioVersion;

  /**
   * Declare that istiod runs with `ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true`, which wildcard TLS hosts at the
   * waypoint need (see `AmbientEgressWaypointProps.istiodWildcardTlsEnabled` for the risk). Only for the waypoint
   * created here.
   *
   * @default false: a wildcard TLS host in an ambient namespace is an error
   */
  readonly istiodWildcardTlsEnabled?: boolean;

  /**
   * The CIDRs of the Kubernetes API server endpoints, for `remoteGenerated: KubeAPI` (not discoverable at synth time).
   *
   * @default - none: a KubeAPI entry is an error
   */
  readonly kubeApiCidrs?: string[];

  /**
   * Write the egress matrix (`<path>.egress-matrix.md` and `.json`) into the app's output directory at synth.
   *
   * @default true
   */
  readonly writeMatrix?: boolean;
}

/**
 * Properties of an EgressAllowList.
 */
export interface EgressAllowListProps extends EgressAllowListOptions {
  /** The allow-list: namespaces, their modes and entries. */
  readonly spec: EgressAllowListSpec;
}

/** A sidecar-mode route unit: the hosts one identity group reaches one way. */
interface SidecarUnit {
  readonly group: Group;
  readonly kind: 'tls' | 'origination';
  /** TLS: the client ports; origination: [httpPort]. */
  readonly ports: number[];
  readonly tlsPort: number;
  readonly hosts: Map<string, HostRule[]>;
  construct?: WildcardEgressGateway | TlsOriginationEgress;
  gateway?: GatewayPlan;
}

interface Group {
  readonly key: string;
  readonly name: string;
  readonly identities: WorkloadIdentity[];
  /** The HTTP rule of each identity that has one (the same for every host of the group). */
  readonly httpRules: HttpRule[];
  readonly gateways: GatewayPlan[];
}

/** What one identity may send to a host: only these methods and paths. */
interface HttpRule {
  readonly identity: WorkloadIdentity;
  readonly methods?: string[];
  readonly paths?: string[];
}

interface GatewayPlan {
  readonly name: string;
  readonly tlsPorts: Set<number>;
  readonly httpPorts: Map<number, SidecarUnit>;
  readonly units: SidecarUnit[];
  gateway?: IEgressGateway;
}

/**
 * A declarative egress allow-list for one cluster: teams (namespaces) declare what they reach, as UDS Core's `Package`
 * `network.allow` entries (extended with wildcard hosts, TLS origination, HTTP rules and service accounts in both
 * modes); this construct picks the path, enforces least privilege per team at every enforcement point, and refuses
 * conflicts at synth, each error naming both entries.
 *
 * Realisation:
 * - **sidecar mode**: hosts are grouped by the exact set of identities (namespace, or namespace + service account)
 *   allowed to reach them; each group gets its own `EgressGateway` (in `gatewayNamespace`) with a
 *   `WildcardEgressGateway` for TLS hosts (exact or wildcard) and a `TlsOriginationEgress` for HTTP hosts whose TLS
 *   is originated, each allowing only that group's identities (AuthorizationPolicy) and exported only to their
 *   namespaces. A team's identity is therefore refused at any gateway of a group it is not in, and its sidecars never
 *   see those routes. HTTP `methods`/`paths` of an originated host are part of the group key and enforced by a DENY
 *   AuthorizationPolicy on that group's gateway port for the restricted identity. Each team namespace gets a `Sidecar` per selector with `outboundTrafficPolicy: REGISTRY_ONLY`
 *   listing only the hosts of that selector's entries;
 * - **ambient mode**: every host is bound to the egress waypoint (`AmbientEgressWaypoint.addHost`) with one ALLOW rule
 *   per entry (identity, ports, HTTP methods and paths);
 * - **both**: an `EgressNetworkPolicy` per namespace (every pod: DNS, istiod, nothing else) and per selector (the
 *   gateway or waypoint paths and `remoteCidr`s of its entries); each gateway and the waypoint fenced with an
 *   `EgressGatewayNetworkPolicy` admitting only their clients.
 *
 * The egress matrix (`matrix`, `matrixJson()`, and files written at synth) lists, per namespace and workload, each
 * host or range, port, protocol, path, origination and HTTP rule.
 */
export class EgressAllowList extends Construct {
  /**
   * An allow-list read from a YAML or JSON file of namespaces and entries and/or UDS Core `Package` CRs.
   */
  public static fromFile(
    scope: Construct,
    id: string,
    file: string,
    options: EgressAllowListOptions = {},
    specOptions: EgressAllowListSpecOptions = {},
  ): EgressAllowList {
    return new EgressAllowList(scope, id, { ...options, spec: EgressAllowListSpec.fromFile(file, specOptions) });
  }

  /** The default mode. */
  public readonly defaultMode: DataplaneMode;

  /** Mesh settings in use. */
  public readonly mesh: MeshSettings;

  /** The namespace of the egress gateways. */
  public readonly gatewayNamespace: string;

  /** The allow-list realised. */
  public readonly spec: EgressAllowListSpec;

  private readonly options: EgressAllowListOptions;
  private readonly rows: EgressMatrixRow[] = [];
  private waypointConstruct?: AmbientEgressWaypoint;
  private readonly waypointHosts = new Map<string, EgressWaypointHost>();
  private readonly gatewayPlans: GatewayPlan[] = [];
  private readonly hostPath = new Map<string, string>();
  /** The unit that routes each sidecar host, by host name. */
  private readonly sidecarUnitOf = new Map<string, SidecarUnit>();
  /** With a given gateway: the unit that uses each of its ports. */
  private readonly givenGatewayPorts = new Map<number, SidecarUnit>();
  private readonly clientPolicies = new Map<GatewayPlan | 'waypoint', EgressNetworkPolicy[]>();

  public constructor(scope: Construct, id: string, props: EgressAllowListProps) {
    super(scope, id);
    if (props === undefined || props === null || !(props.spec instanceof EgressAllowListSpec)) {
      fieldError(this, 'spec', 'the allow-list is required: pass an EgressAllowListSpec (new EgressAllowListSpec(), EgressAllowListSpec.fromFile(...))');
    }
    this.options = props;
    this.spec = props.spec;
    this.mesh = props.mesh ?? MeshSettings.defaults();
    this.defaultMode = props.defaultMode ?? DataplaneMode.AMBIENT;
    if (!Object.values(DataplaneMode).includes(this.defaultMode)) {
      fieldError(this, 'defaultMode', `${JSON.stringify(this.defaultMode)} is not a mode; use DataplaneMode.SIDECAR or DataplaneMode.AMBIENT`);
    }
    this.gatewayNamespace = inField(this, 'gatewayNamespace', () => validateDnsLabel(props.gatewayNamespace ?? 'istio-egress', 'namespace'));
    if (props.gateway !== undefined) {
      const gateway = inField(this, 'gateway', () =>
        requireImplements<IEgressGateway>(props.gateway, 'IEgressGateway', ['claimPort', 'addClientSubset', 'requireMutualTls'], 'an EgressGateway or EgressGateway.fromAttributes(...)'),
      );
      if (props.gatewayNamespace !== undefined && props.gatewayNamespace !== gateway.namespace) {
        fieldError(this, 'gatewayNamespace', `"${props.gatewayNamespace}" differs from the namespace of the given gateway ("${gateway.namespace}"); give one of them`);
      }
      if (props.gatewayReplicas !== undefined) {
        fieldError(this, 'gatewayReplicas', 'applies only to the gateways the allow-list creates, and a gateway is given; set the replicas on that gateway');
      }
      this.gatewayNamespace = gateway.namespace;
    }
    if (props.waypoint !== undefined) {
      inField(this, 'waypoint', () =>
        requireImplements<IEgressWaypoint>(props.waypoint, 'IEgressWaypoint', ['addHost', 'allow', 'toEgressPathConfig'], 'an AmbientEgressWaypoint or AmbientEgressWaypoint.fromAttributes(...)'),
      );
      if (props.waypointNamespace !== undefined && props.waypointNamespace !== props.waypoint.namespace) {
        fieldError(this, 'waypointNamespace', `"${props.waypointNamespace}" differs from the namespace of the given waypoint ("${props.waypoint.namespace}"); give one of them`);
      }
      if (props.istiodWildcardTlsEnabled !== undefined) {
        fieldError(this, 'istiodWildcardTlsEnabled', 'applies only to the waypoint the allow-list creates, and a waypoint is given; declare it on that waypoint');
      }
    }

    const rules = this.spec._rules;
    const ctx: AllowListContext = {
      scope: this,
      options: props,
      mesh: this.mesh,
      gatewayNamespace: this.gatewayNamespace,
      modeOf: (namespace) => this.modeOf(namespace),
      hostPath: this.hostPath,
      rows: this.rows,
    };
    checkAllowList(ctx, this.spec.namespaces, rules);

    const sidecarHosts = rules.filter((r): r is HostRule => r.kind === 'host' && this.modeOf(r.namespace) === DataplaneMode.SIDECAR);
    const ambientHosts = rules.filter((r): r is HostRule => r.kind === 'host' && this.modeOf(r.namespace) === DataplaneMode.AMBIENT);
    this.realiseSidecar(sidecarHosts);
    this.realiseAmbient(ambientHosts);
    this.realiseNamespaces(rules);
    this.fenceProxies();
    for (const s of this.spec.skipped) {
      this.rows.push(skippedRow(s, this.modeOf(s.namespace)));
    }
    this.rows.sort(compareRows);

    if (props.writeMatrix ?? true) {
      this.node.addValidation({ validate: () => writeMatrixFiles(this) });
    }
  }

  /** The egress matrix: one row per namespace, workload, remote and port set, sorted. */
  public get matrix(): EgressMatrixRow[] {
    return this.rows.map((r) => ({ ...r, ports: [...r.ports] }));
  }

  /** The egress matrix as JSON (what is written beside the manifests). */
  public matrixJson(): string {
    return JSON.stringify({ namespaces: this.spec.namespaces, rows: this.rows, skipped: this.spec.skipped }, undefined, 2) + '\n';
  }

  /** The egress matrix as a Markdown table. */
  public matrixMarkdown(): string {
    return matrixMarkdown(this.rows);
  }

  /** The mode of a namespace. */
  public modeOf(namespace: string): DataplaneMode {
    return this.spec.modeOf(namespace) ?? this.defaultMode;
  }

  /** The waypoint in use, when an ambient namespace allows a host. */
  public get waypoint(): IEgressWaypoint | undefined {
    return this.options.waypoint ?? this.waypointConstruct;
  }

  /** The egress gateways created for the sidecar-mode groups, by name. */
  public get gateways(): EgressGateway[] {
    return this.gatewayPlans.map((p) => p.gateway).filter((g): g is EgressGateway => g instanceof EgressGateway && g !== this.options.gateway);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // sidecar mode

  private realiseSidecar(rules: HostRule[]): void {
    if (rules.length === 0) {
      return;
    }
    // one route per host: the same kind and ports for every entry of the host
    const byHost = new Map<string, HostRule[]>();
    for (const r of rules) {
      addToList(byHost, r.host.name, r);
    }
    const groups = new Map<string, Group>();
    const units = new Map<string, SidecarUnit>();
    for (const [host, list] of [...byHost].sort(([a], [b]) => cmp(a, b))) {
      const first = list[0];
      for (const r of list.slice(1)) {
        if (routeKey(r) !== routeKey(first)) {
          fieldError(
            this,
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
      let unit = units.get(ukey);
      if (unit === undefined) {
        unit = { group, kind, ports: first.ports, tlsPort: first.tlsPort, hosts: new Map() };
        units.set(ukey, unit);
      }
      unit.hosts.set(host, list);
    }
    // gateways per group: TLS units on the first gateway whose ports are free; originations on the group's first gateway
    for (const group of [...groups.values()].sort((a, b) => cmp(a.key, b.key))) {
      const mine = [...units.values()].filter((u) => u.group === group).sort((a, b) => cmp(unitKey(a), unitKey(b)));
      const planFor = (index: number): GatewayPlan => {
        while (group.gateways.length <= index) {
          const i = group.gateways.length;
          const limit = 63 - this.gatewayNamespace.length - 1;
          const plan: GatewayPlan = { name: dnsLabelName(['egress', group.name, i === 0 ? '' : String(i)], Math.min(63, limit)), tlsPorts: new Set(), httpPorts: new Map(), units: [] };
          group.gateways.push(plan);
          this.gatewayPlans.push(plan);
        }
        return group.gateways[index];
      };
      for (const u of mine.filter((x) => x.kind === 'tls')) {
        if (this.options.gateway !== undefined) {
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
        if (this.options.gateway !== undefined) {
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
    // the constructs
    for (const plan of this.gatewayPlans) {
      const targets = podPorts([...plan.tlsPorts, ...plan.httpPorts.keys()]);
      const ports = [
        ...[...plan.tlsPorts].sort((a, b) => a - b).map((p) => EgressPort.tls(p, { targetPort: targets.get(p) })),
        ...[...plan.httpPorts.keys()].sort((a, b) => a - b).map((p) => EgressPort.http(p, { targetPort: targets.get(p) })),
      ];
      plan.gateway =
        this.options.gateway ??
        inField(this, `gateway ${plan.name}`, () =>
          new EgressGateway(this, `Gateway-${plan.name}`, { name: plan.name, namespace: this.gatewayNamespace, ports, mesh: this.mesh, replicas: this.options.gatewayReplicas }),
        );
      for (const u of plan.units) {
        const hosts = [...u.hosts.keys()].sort(cmp);
        const allEntries = [...u.hosts.values()].flat();
        if (u.kind === 'tls') {
          const name = dnsLabelName([plan.name, 'tls', u.ports.join('-')]);
          const construct = this.atEntries(allEntries, () =>
            new WildcardEgressGateway(this, `Tls-${name}`, { gateway: plan.gateway, name, ports: u.ports, allowFrom: u.group.identities, mesh: this.mesh }),
          );
          hosts.forEach((h) => this.atEntries(u.hosts.get(h)!, () => construct.addHost(h)));
          u.construct = construct;
        } else {
          const gatewayPort = [...plan.httpPorts].find(([, x]) => x === u)![0];
          const name = dnsLabelName([plan.name, 'http', String(u.ports[0])]);
          const construct = this.atEntries(allEntries, () =>
            new TlsOriginationEgress(this, `Origination-${name}`, {
              gateway: plan.gateway,
              name,
              gatewayPort,
              httpPort: u.ports[0],
              tlsPort: u.tlsPort,
              allowFrom: u.group.identities,
              mesh: this.mesh,
            }),
          );
          hosts.forEach((h) => this.atEntries(u.hosts.get(h)!, () => construct.addHost(h, { tls: u.hosts.get(h)![0].origination })));
          u.construct = construct;
          if (u.group.httpRules.length > 0) {
            const given = this.options.gateway;
            const podPort = given === undefined ? targets.get(gatewayPort)! : given.ports.find((p) => p.number === gatewayPort)!.podPort;
            this.httpRulePolicy(name, plan, String(podPort), u.group.httpRules);
          }
        }
        for (const h of hosts) {
          this.hostPath.set(h, `gateway ${this.gatewayNamespace}/${plan.gateway.serviceName}`);
        }
      }
    }
    for (const u of units.values()) {
      for (const h of u.hosts.keys()) {
        this.sidecarUnitOf.set(h, u);
      }
    }
  }

  /**
   * With a given gateway: records that `unit`'s group uses `ports` of it. A gateway serves one construct per port, so
   * a port another group uses would put both groups behind one server (least privilege lost): refused, naming both.
   */
  private claimGivenGatewayPorts(unit: SidecarUnit, ports: number[]): void {
    const gateway = this.options.gateway!;
    for (const port of ports) {
      const owner = this.givenGatewayPorts.get(port);
      if (owner !== undefined && owner !== unit && owner.group === unit.group) {
        const first = [...owner.hosts.entries()][0];
        const mine = [...unit.hosts.entries()][0];
        fieldError(
          this,
          `${mine[1][0].where}: ports`,
          `host "${mine[0]}" needs ports ${unit.ports.join(', ')} and host "${first[0]}" (${first[1][0].where}) ports ${owner.ports.join(', ')}, for the same identities; ` +
            `on the given gateway ${gateway.namespace}/${gateway.serviceName} one port serves one set of hosts. Give these entries the same ports, or drop the gateway option`,
        );
      }
      if (owner !== undefined && owner.group !== unit.group) {
        const first = [...owner.hosts.values()][0][0];
        const mine = [...unit.hosts.values()][0][0];
        fieldError(
          this,
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
    const gateway = this.options.gateway!;
    const registry = MeshRegistry.of(this);
    const workload = `${gateway.namespace}/${gateway.serviceName}`;
    const free = gateway.ports.filter(
      (p) => p.protocol === Protocol.HTTP && !this.givenGatewayPorts.has(p.number) && !registry.isProxyPortClaimed(workload, p.number),
    );
    if (free.length === 0) {
      const mine = [...unit.hosts.values()][0][0];
      const http = gateway.ports.filter((p) => p.protocol === Protocol.HTTP).map((p) => p.number);
      fieldError(
        this,
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
        fieldError(this, `${r.where}: methods`, `host "${host}" already has other HTTP rules for ${identityOf(r)} in ${other.where}; give one entry with all the methods and paths it may use`);
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
          this,
          `${r.where}: serviceAccount`,
          `the namespace-wide HTTP rule of ${whole.where} for host "${host}" would also restrict service account ${r.namespace}/${r.serviceAccount} at the gateway; ` +
            'give the namespace-wide entry a serviceAccount too, or the same methods and paths',
        );
      }
    }
    const kept = new Set(identities.map(identityKey));
    return [...byIdentity.entries()].filter(([k, v]) => kept.has(k) && v.rule !== undefined).sort(([a], [b]) => cmp(a, b)).map(([, v]) => v.rule!);
  }

  /**
   * Enforces HTTP rules at the gateway that originates TLS: a DENY AuthorizationPolicy on the origination's gateway
   * port for each restricted identity, for any method or path outside its rule. The gateway serves only hosts with
   * exactly these rules (hosts are grouped by identities and rules), so no host match is needed.
   */
  private httpRulePolicy(name: string, plan: GatewayPlan, podPort: string, rules: HttpRule[]): void {
    const policyRules = rules.flatMap((r) => {
      const from = authorizationSources([r.identity], this.mesh);
      return [
        ...(r.methods === undefined ? [] : [{ from, to: [{ operation: { ports: [podPort], notMethods: r.methods } }] }]),
        ...(r.paths === undefined ? [] : [{ from, to: [{ operation: { ports: [podPort], notPaths: r.paths } }] }]),
      ];
    });
    new sec.AuthorizationPolicy(this, `HttpRules-${name}`, {
      metadata: { name: dnsLabelName([name, 'http-rules']), namespace: this.gatewayNamespace, labels: { 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress' } },
      spec: {
        selector: { matchLabels: plan.gateway!.selectorLabels },
        action: sec.AuthorizationPolicySpecAction.DENY,
        rules: policyRules,
      },
    });
  }

  /** The unit that routes a sidecar host. */
  private unitOf(host: string): SidecarUnit {
    return this.sidecarUnitOf.get(host)!;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // ambient mode

  private realiseAmbient(rules: HostRule[]): void {
    if (rules.length === 0) {
      return;
    }
    const waypoint = this.options.waypoint ?? (this.waypointConstruct = new AmbientEgressWaypoint(this, 'Waypoint', {
      namespace: this.options.waypointNamespace ?? 'istio-egress-ambient',
      mesh: this.mesh,
      istioVersion: this.options.istioVersion,
      istiodWildcardTlsEnabled: this.options.istiodWildcardTlsEnabled,
    }));
    const byHost = new Map<string, HostRule[]>();
    for (const r of rules) {
      addToList(byHost, r.host.name, r);
    }
    for (const [host, list] of [...byHost].sort(([a], [b]) => cmp(a, b))) {
      const originated = list.filter((r) => r.origination !== undefined);
      if (originated.length > 0 && originated.length < list.length) {
        const plain = list.find((r) => r.origination === undefined)!;
        fieldError(
          this,
          `${plain.where}: tlsOrigination`,
          `host "${host}" is originated at the waypoint for ${originated[0].where} but not here; the waypoint originates TLS for every port of a host. Originate TLS in both entries, or in neither`,
        );
      }
      const origination = originated[0];
      for (const r of originated.slice(1)) {
        if (JSON.stringify(r.origination) !== JSON.stringify(origination.origination) || r.tlsPort !== origination.tlsPort) {
          fieldError(this, `${r.where}: tlsOrigination`, `host "${host}" is originated with other TLS settings in ${origination.where}; one host has one origination. Use the same tlsOrigination and tlsPort`);
        }
      }
      const portNumbers = [...new Set(list.flatMap((r) => r.ports))].sort((a, b) => a - b);
      const ports = portNumbers.map((p) => {
        const protocol = list.find((r) => r.ports.includes(p))!.protocol;
        if (origination) {
          return EgressPort.http(p, { targetPort: origination.tlsPort });
        }
        return protocol === RemoteProtocol.HTTP ? EgressPort.http(p) : EgressPort.tls(p);
      });
      const wh = this.atEntries(list, () => waypoint.addHost(host, { ports, tlsOrigination: origination?.origination }));
      // The waypoint claims the host in the app's registry itself (every namespace sees it: ambient ignores exportTo).
      this.waypointHosts.set(host, wh);
      for (const r of list) {
        const ruleName = dnsLabelName([r.namespace, r.serviceAccount === undefined ? 'all' : hostToDnsLabel(r.serviceAccount), shortHash(JSON.stringify([r.ports, r.methods ?? null, r.paths ?? null]))], 40);
        this.atWhere(r.where, () => wh.allow(ruleName, { identities: [identityOf(r)], ports: r.ports, methods: r.methods, paths: r.paths }));
      }
      this.hostPath.set(host, `waypoint ${waypoint.namespace}/${waypoint.name}`);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // per namespace: NetworkPolicies, Sidecars, CIDR ServiceEntries, matrix rows

  private realiseNamespaces(rules: AllowRule[]): void {
    const byNamespace = new Map<string, AllowRule[]>();
    for (const r of rules) {
      addToList(byNamespace, r.namespace, r);
    }
    for (const ns of this.spec.namespaces) {
      const mine = byNamespace.get(ns) ?? [];
      const mode = this.modeOf(ns);
      const sidecar = mode === DataplaneMode.SIDECAR;
      const scope = new Construct(this, `Namespace-${ns}`);
      const selectors = new Map<string, { [key: string]: string } | undefined>([['', undefined]]);
      for (const r of mine) {
        if (r.selector !== undefined) {
          selectors.set(selectorKey(r.selector), r.selector);
        }
      }
      for (const [key, selector] of [...selectors].sort(([a], [b]) => cmp(a, b))) {
        const own = mine.filter((r) => (r.selector === undefined ? key === '' : selectorKey(r.selector) === key));
        const name = key === '' ? BASE : dnsLabelName([BASE, selectorSlug(selector!)]);
        const policy = this.atEntries(own, () =>
          new EgressNetworkPolicy(scope, `NetworkPolicy-${name}`, { namespace: ns, name, podLabels: selector, dataplane: mode, mesh: this.mesh }),
        );
        this.addEntryLabels(policy, own);
        const seenPlans = new Set<GatewayPlan>();
        let usesWaypoint = false;
        for (const r of own) {
          if (r.kind === 'host') {
            if (sidecar) {
              const unit = this.unitOf(r.host.name);
              this.atWhere(r.where, () => policy.allowEgressPath(unit.construct!));
              if (!seenPlans.has(unit.gateway!)) {
                seenPlans.add(unit.gateway!);
                addToList(this.clientPolicies, unit.gateway!, policy);
              }
            } else if (!usesWaypoint) {
              usesWaypoint = true;
              policy.allowWaypoint(this.waypoint!);
              addToList(this.clientPolicies, 'waypoint', policy);
            }
          } else {
            this.addNetworkRule(policy, r);
          }
          this.rows.push(rowOf(r, mode, this.hostPath));
        }
        if (sidecar) {
          // the Sidecar of these pods: entries whose selector this one contains (every-pod entries always)
          const applicable = mine.filter((r) => r.selector === undefined || (selector !== undefined && contains(selector, r.selector)));
          this.sidecarResource(scope, ns, name, selector, applicable);
          const cidrRules = own.filter((r): r is NetworkRule => r.kind === 'network' && r.protocol === RemoteProtocol.TCP && r.generated !== RemoteGenerated.ANYWHERE);
          cidrRules.forEach((r) => this.cidrServiceEntry(scope, ns, r));
        }
      }
    }
  }

  private addEntryLabels(policy: EgressNetworkPolicy, rules: AllowRule[]): void {
    const seen = new Map<string, { value: string; where: string }>();
    for (const r of rules) {
      for (const [k, v] of Object.entries(r.labels ?? {})) {
        const other = seen.get(k);
        if (other !== undefined && other.value !== v) {
          fieldError(this, `${r.where}: labels.${k}`, `"${v}" differs from "${other.value}" given by ${other.where} for the same NetworkPolicy (same namespace and selector); use one value`);
        }
        seen.set(k, { value: v, where: r.where });
        ApiObject.of(policy.networkPolicy).metadata.addLabel(k, v);
      }
    }
  }

  private addNetworkRule(policy: EgressNetworkPolicy, r: NetworkRule): void {
    const cidrs: Array<{ cidr: string; except: string[] }> =
      r.generated === RemoteGenerated.ANYWHERE
        ? [{ cidr: '0.0.0.0/0', except: [METADATA_CIDR] }]
        : r.generated === RemoteGenerated.CLOUD_METADATA
          ? [{ cidr: METADATA_CIDR, except: [] }]
          : r.generated === RemoteGenerated.KUBE_API
            ? (this.options.kubeApiCidrs ?? []).map((cidr) => ({ cidr, except: [] }))
            : [{ cidr: r.remoteCidr!, except: [] }];
    const ports =
      r.ports.length === 0
        ? [plus.NetworkPolicyPort.of({ protocol: r.protocol === RemoteProtocol.UDP ? plus.NetworkProtocol.UDP : plus.NetworkProtocol.TCP })]
        : r.ports.map((p) => (r.protocol === RemoteProtocol.UDP ? plus.NetworkPolicyPort.udp(p) : plus.NetworkPolicyPort.tcp(p)));
    cidrs.forEach((c, i) => {
      const id = `Peer-${r.index}-${shortHash(r.where)}-${i}`;
      // outside the app's tree, like the policy's own peers: cdk8s-plus renders the block into the rule at once
      const peer = plus.NetworkPolicyIpBlock.ipv4(peerScope(), id, c.cidr, c.except.length > 0 ? c.except : undefined);
      this.atWhere(r.where, () => policy.networkPolicy.addEgressRule(peer, ports));
    });
  }

  private sidecarResource(scope: Construct, ns: string, name: string, selector: { [key: string]: string } | undefined, rules: AllowRule[]): void {
    const hosts = new Set<string>(['./*']);
    let anywhere = false;
    for (const r of rules) {
      if (r.kind === 'host') {
        const unit = this.unitOf(r.host.name);
        hosts.add(`${this.gatewayNamespace}/${r.host.name}`);
        hosts.add(`${this.gatewayNamespace}/${unit.gateway!.gateway!.serviceFqdn}`);
      } else if (r.generated === RemoteGenerated.ANYWHERE) {
        anywhere = true;
      } else if (r.generated === RemoteGenerated.KUBE_API) {
        hosts.add(`default/kubernetes.default.svc.${this.mesh.clusterDomain}`);
      }
    }
    new net.Sidecar(scope, `Sidecar-${name}`, {
      metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress' } },
      spec: {
        workloadSelector: selector === undefined ? undefined : { labels: { ...selector } },
        egress: [{ hosts: [...hosts].sort() }],
        outboundTrafficPolicy: {
          mode: anywhere ? OutboundMode.ALLOW_UNDERSCORE_ANY : OutboundMode.REGISTRY_UNDERSCORE_ONLY,
        },
      },
    });
  }

  /** A TCP `remoteCidr` in sidecar mode: a ServiceEntry for the range, so a REGISTRY_ONLY sidecar passes it. */
  private cidrServiceEntry(scope: Construct, ns: string, r: NetworkRule): void {
    const cidrs = r.generated === RemoteGenerated.CLOUD_METADATA ? [METADATA_CIDR] : r.generated === RemoteGenerated.KUBE_API ? [] : [r.remoteCidr!];
    if (cidrs.length === 0) {
      return;
    }
    const label = shortHash(JSON.stringify([cidrs, r.ports, r.selector ?? null]));
    const name = dnsLabelName([BASE, 'cidr', label]);
    new net.ServiceEntry(scope, `Cidr-${label}`, {
      metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress' } },
      spec: {
        hosts: [`${name}.${ns}.cidr.invalid`],
        addresses: cidrs,
        exportTo: ['.'],
        location: net.ServiceEntrySpecLocation.MESH_UNDERSCORE_EXTERNAL,
        resolution: net.ServiceEntrySpecResolution.NONE,
        ports: r.ports.map((p) => ({ number: p, name: `tcp-${p}`, protocol: 'TCP' })),
      },
    });
  }

  private fenceProxies(): void {
    const fenceGiven = this.options.fenceGivenProxies ?? false;
    for (const plan of this.gatewayPlans) {
      if (this.options.gateway !== undefined && !fenceGiven) {
        continue;
      }
      const fence = new EgressGatewayNetworkPolicy(this, `Fence-${plan.name}`, {
        paths: plan.units.map((u) => u.construct!),
        name: dnsLabelName([plan.name, 'lockdown']),
        mesh: this.mesh,
      });
      (this.clientPolicies.get(plan) ?? []).forEach((p) => fence.allowClient(p));
    }
    const waypoint = this.waypoint;
    if (waypoint !== undefined && this.waypointHosts.size > 0 && (this.options.waypoint === undefined || fenceGiven)) {
      const hostPorts = [...this.waypointHosts.values()].flatMap((h) => h.ports.map((p) => p.targetPort ?? p.number));
      const externalPorts = [...new Set(hostPorts)].sort((a, b) => a - b);
      // the waypoint pods as an egress path: clients reach them on HBONE, they reach the hosts' ports
      const waypointPath: IEgressPath = {
        toEgressPathConfig: (): EgressPathConfig => ({
          namespace: waypoint.namespace,
          podLabels: waypoint.selectorLabels,
          podPorts: [waypoint.hbonePort],
          externalPorts,
        }),
      };
      const fence = new EgressGatewayNetworkPolicy(this, 'Fence-waypoint', {
        paths: [waypointPath],
        name: dnsLabelName([waypoint.name, 'lockdown']),
        mesh: this.mesh,
      });
      (this.clientPolicies.get('waypoint') ?? []).forEach((p) => fence.allowClient(p));
    }
  }

  /** Runs fn; an error is prefixed with the entries it concerns. */
  /** `atWhere` for the entries behind a construct or host (their places are joined only when `fn` fails). */
  private atEntries<T>(rules: AllowRule[], fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.entryError(rules.map((r) => r.where).join(', '), e);
    }
  }

  private atWhere<T>(where: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.entryError(where, e);
    }
  }

  private entryError(where: string, e: unknown): Error {
    return new Error(`${this.node.path}: ${where}: ${e instanceof Error ? e.message : String(e)}`);
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

function reservedProxyPort(port: number): boolean {
  return port >= RESERVED_PROXY_PORTS[0] && port <= RESERVED_PROXY_PORTS[1];
}

/**
 * The pod port of each gateway Service port, distinct and deterministic: a port >= 1024 listens on itself; a low port
 * (the pods run as non-root) on port + 8000 (443 -> 8443, as `EgressGateway` does), or, when that is taken by
 * another Service port, the next free port from 20000 (never the proxy's 15000-15090).
 */
function podPorts(servicePorts: number[]): Map<number, number> {
  const sorted = [...new Set(servicePorts)].sort((a, b) => a - b);
  const used = new Set(sorted.filter((p) => p >= 1024));
  const out = new Map<number, number>();
  for (const p of sorted) {
    if (p >= 1024) {
      out.set(p, p);
      continue;
    }
    let t = p + 8000;
    if (used.has(t)) {
      t = 20000;
      while (used.has(t) || reservedProxyPort(t)) {
        t++;
      }
    }
    used.add(t);
    out.set(p, t);
  }
  return out;
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


function selectorSlug(labels: { [key: string]: string }): string {
  const text = Object.keys(labels).sort().map((k) => `${k}-${labels[k]}`).join('-').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return `${text.slice(0, 30).replace(/-+$/, '')}-${shortHash(selectorKey(labels))}`;
}

