import { Construct } from 'constructs';
import { realiseAmbient } from './ambient-plan';
import { checkAllowList } from './checks';
import { AllowListContext } from './context';
import { HostRule } from './entry';
import { fenceProxies } from './fences';
import { EgressMatrixRow, matrixMarkdown } from './matrix';
import { compareRows, skippedRow, writeMatrixFiles } from './matrix-rows';
import { EgressAllowListSpec, EgressAllowListSpecOptions } from './model';
import { realiseNamespaces } from './namespace-plan';
import { realiseSidecar } from './sidecar-gateways';
import { GatewayPlan } from './sidecar-plan';
import { AmbientEgressWaypoint } from '../ambient/ambient-egress-waypoint';
import { IEgressWaypoint } from '../ambient/egress-waypoint';
import { requireImplements } from '../core/boundary';
import { DataplaneMode } from '../core/dataplane-mode';
import { validateDnsLabel } from '../core/dns';
import { fieldError, inField } from '../core/errors';
import { IstioVersion } from '../core/istio-version';
import { MeshSettings } from '../core/mesh';
import { EgressGateway } from '../sidecar/egress-gateway';
import { IEgressGateway } from '../sidecar/egress-gateway-base';

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
  private readonly matrixTexts: { json?: string; markdown?: string } = {};
  private readonly waypointConstruct?: AmbientEgressWaypoint;
  /** The gateways of the sidecar-mode groups, in the order planned. */
  private readonly gatewayPlans: GatewayPlan[];

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

    const ctx: AllowListContext = {
      scope: this,
      options: props,
      mesh: this.mesh,
      gatewayNamespace: this.gatewayNamespace,
      modeOf: (namespace) => this.modeOf(namespace),
      hostPath: new Map(),
      rows: this.rows,
    };
    const rules = this.spec._rules;
    checkAllowList(ctx, this.spec.namespaces, rules);

    const sidecarHosts = rules.filter((r): r is HostRule => r.kind === 'host' && this.modeOf(r.namespace) === DataplaneMode.SIDECAR);
    const ambientHosts = rules.filter((r): r is HostRule => r.kind === 'host' && this.modeOf(r.namespace) === DataplaneMode.AMBIENT);
    const sidecar = realiseSidecar(ctx, sidecarHosts);
    this.gatewayPlans = sidecar.gatewayPlans;
    const ambient = realiseAmbient(ctx, ambientHosts);
    this.waypointConstruct = ambient?.created;
    const clientPolicies = realiseNamespaces(ctx, this.spec.namespaces, rules, sidecar, this.waypoint);
    fenceProxies(ctx, this.gatewayPlans, ambient, clientPolicies);
    for (const s of this.spec.skipped) {
      this.rows.push(skippedRow(s, this.modeOf(s.namespace)));
    }
    this.rows.sort(compareRows);

    if (props.writeMatrix ?? true) {
      this.node.addValidation({ validate: () => writeMatrixFiles(this) });
    }
    this.spec._realise(this);
  }

  /** The egress matrix: one row per namespace, workload, remote and port set, sorted. */
  public get matrix(): EgressMatrixRow[] {
    return this.rows.map((r) => ({ ...r, ports: [...r.ports] }));
  }

  /** The egress matrix as JSON (what is written beside the manifests). */
  public matrixJson(): string {
    // The matrix is final once the allow-list is built (its spec takes no more entries); cdk8s writes it on every
    // validation pass (once per synth and once per chart), so the text is made once.
    this.matrixTexts.json ??= JSON.stringify({ namespaces: this.spec.namespaces, rows: this.rows, skipped: this.spec.skipped }, undefined, 2) + '\n';
    return this.matrixTexts.json;
  }

  /** The egress matrix as a Markdown table. */
  public matrixMarkdown(): string {
    this.matrixTexts.markdown ??= matrixMarkdown(this.rows);
    return this.matrixTexts.markdown;
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
}
