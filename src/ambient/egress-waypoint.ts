import { Construct, IConstruct } from 'constructs';
import { EgressWaypointHost, EgressWaypointHostOptions, hostResourceName } from './waypoint-host';
import { GATEWAY_NAME_LABEL } from './waypoint-labels';
import { WaypointAllowProps } from './waypoint-rules';
import { requireArray, requireBoolean, requireInstance, requireStruct } from '../core/boundary';
import { dns1035LabelProblem } from '../core/bounds';
import { addToList } from '../core/collections';
import { DataplaneMode } from '../core/dataplane-mode';
import { validateDnsLabel } from '../core/dns';
import { EgressPathConfig, HBONE_PORT, IEgressPath } from '../core/egress-path';
import { fieldError, inField, problem } from '../core/errors';
import { ExternalHost, HostExemption, HostIndex } from '../core/host';
import { HostScreen } from '../core/host-risk';
import { WorkloadIdentity } from '../core/identity';
import { IstioVersion } from '../core/istio-version';
import { MeshSettings } from '../core/mesh';
import { rejectReservedNamespace } from '../core/namespaces';
import { MeshRegistry } from '../core/registry';

/**
 * An ambient-mode egress waypoint: the Envoy proxy that traffic to registered external hosts passes through, where
 * Istio enforces L7 policy and originates TLS. Either one defined by `AmbientEgressWaypoint`, or an existing one
 * (e.g. made with `istioctl waypoint apply`) described with `AmbientEgressWaypoint.fromAttributes`; both can carry
 * hosts (`addHost`) and their allow rules.
 *
 * It is an `IEgressPath`: `toEgressPathConfig()` names the waypoint pods, their HBONE port (15008) and the ports they
 * connect to outside, so `EgressNetworkPolicy` lets application pods reach the waypoint and
 * `EgressGatewayNetworkPolicy` fences the waypoint pods' own egress.
 */
export interface IEgressWaypoint extends IConstruct, IEgressPath {
  /** The namespace of the waypoint Gateway and its pods. */
  readonly namespace: string;

  /** The name of the waypoint (its Gateway API `Gateway`; Istio names the Deployment, Service and ServiceAccount after it). */
  readonly name: string;

  /** Labels that select exactly the waypoint pods: `gateway.networking.k8s.io/gateway-name: <name>` (set by Istio). */
  readonly selectorLabels: { [key: string]: string };

  /** The port ztunnel connects to on the waypoint pods (HBONE, 15008). NetworkPolicies must allow it. */
  readonly hbonePort: number;

  /** The identity of the waypoint pods: the ServiceAccount Istio creates for a waypoint, named after the Gateway. */
  readonly identity: WorkloadIdentity;

  /** The hosts added to the waypoint in this app, in the order they were added. */
  readonly hosts: EgressWaypointHost[];

  /**
   * Registers an external host: a ServiceEntry bound to this waypoint. Add at least one allow rule with the returned
   * host's `allow()` (or this waypoint's `allow()`).
   *
   * @param host an exact host (`api.example.com`) or a wildcard (`*.example.com`, needs `DYNAMIC_DNS`)
   * @param options ports, resolution, TLS origination, namespace, name and visibility of the host
   */
  addHost(host: string, options?: EgressWaypointHostOptions): EgressWaypointHost;

  /**
   * Adds an allow rule to a host added earlier, named by its host name.
   *
   * @param name the rule name: a DNS label, the suffix of the AuthorizationPolicy name (`<ServiceEntry name>-<rule>`)
   * @param props the host and what the rule allows
   */
  allow(name: string, props: WaypointAllowProps): void;
}

/**
 * Describes a waypoint that already exists (e.g. made with `istioctl waypoint apply`).
 */
export interface EgressWaypointAttributes {
  /** Namespace of the waypoint Gateway. */
  readonly namespace: string;

  /** Name of the waypoint Gateway. */
  readonly name: string;

  /**
   * Other namespaces the waypoint's listener accepts ServiceEntries from (its `allowedRoutes`), where hosts added to
   * this waypoint may be placed. Declare exactly what the existing Gateway allows: `istioctl waypoint apply` accepts
   * only its own namespace.
   *
   * @default - only the waypoint's own namespace
   */
  readonly allowedNamespaces?: string[];

  /**
   * The Istio release the cluster runs; wildcard hosts (`DYNAMIC_DNS`) are checked against it. Set it once in
   * `mesh` instead; given in both places, the two must agree.
   *
   * @default - `mesh.istioVersion`
   */
  readonly istioVersion?: IstioVersion;

  /**
   * Declare that istiod runs with `ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true`; see
   * `AmbientEgressWaypointProps.istiodWildcardTlsEnabled`.
   *
   * @default false
   */
  readonly istiodWildcardTlsEnabled?: boolean;

  /**
   * Mesh settings (root and istiod namespaces, trust domain of the principals in AuthorizationPolicies).
   *
   * @default MeshSettings.defaults()
   */
  readonly mesh?: MeshSettings;

  /**
   * Hosts the waypoint refuses by default, accepted anyway for the reason given (recorded on the host's
   * ServiceEntry): in-cluster and cloud metadata names, and wildcards anyone can register a name under; see
   * `AmbientEgressWaypointProps.hostExemptions`.
   *
   * @default - none: a refused host fails synthesis
   */
  readonly hostExemptions?: HostExemption[];
}

/**
 * What `AmbientEgressWaypoint` and the waypoints of `AmbientEgressWaypoint.fromAttributes` share: the hosts bound to
 * the waypoint, their allow rules, the resource names they claim, and the waypoint as an `IEgressPath`.
 */
export abstract class EgressWaypointBase extends Construct implements IEgressWaypoint {
  /** The namespace of the waypoint. */
  public abstract readonly namespace: string;

  /** The waypoint's name (Gateway, and the Deployment, Service and ServiceAccount Istio creates). */
  public abstract readonly name: string;

  /** The waypoint's identity: service account `<name>` in `<namespace>`. */
  public abstract readonly identity: WorkloadIdentity;

  /** The Istio release the manifests are checked against. */
  public abstract readonly istioVersion: IstioVersion;

  /** Whether istiod was declared to run with `ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true`. */
  public abstract readonly istiodWildcardTlsEnabled: boolean;

  /** Mesh settings. */
  public abstract readonly mesh: MeshSettings;

  /** The namespaces whose ServiceEntries may use the waypoint (own namespace first). */
  public abstract readonly allowedNamespaces: string[];

  /** The HBONE port of the waypoint pods (15008). */
  public readonly hbonePort: number = HBONE_PORT;

  private readonly hostList: EgressWaypointHost[] = [];
  /**
   * The hosts of `hostList` by host name, in the order added. A name is listed once when hosts are added with
   * `addHost`, but an `EgressWaypointHost` created directly skips that check.
   */
  private readonly hostsByName = new Map<string, EgressWaypointHost[]>();
  /** The first host of `hostList` with each ServiceEntry name. */
  private readonly hostByServiceEntryName = new Map<string, EgressWaypointHost>();
  /** Refuses in-cluster, metadata and public-suffix hosts (M3), with the waypoint's `hostExemptions`. */
  private hostScreen?: HostScreen;
  /** The hosts by overlap (core's one domain-suffix index). */
  private readonly hostIndex = new HostIndex<EgressWaypointHost>();
  /** The server ports of the hosts (`targetPort`, else the port number), kept as hosts register. */
  private readonly externalPorts = new Set<number>();
  /** `externalPorts` sorted; recomputed after a host adds a new port. */
  private sortedExternalPorts?: number[];

  /** Labels of the waypoint pods: `gateway.networking.k8s.io/gateway-name: <name>`. */
  public get selectorLabels(): { [key: string]: string } {
    return { [GATEWAY_NAME_LABEL]: this.name };
  }

  /** The hosts added so far, in the order they were added. */
  public get hosts(): EgressWaypointHost[] {
    return [...this.hostList];
  }

  /**
   * The waypoint as an egress path: its pods (`selectorLabels`) in its namespace, reached on the HBONE port (15008),
   * connecting outside to the server ports of the hosts added so far (each ServiceEntry port's `targetPort`, else its
   * number; 443 for TLS origination from port 80). Read it after the hosts are added: a host added later is not in
   * a config read before. Empty `externalPorts` when no host is added yet.
   */
  public toEgressPathConfig(): EgressPathConfig {
    if (this.sortedExternalPorts === undefined) {
      this.sortedExternalPorts = [...this.externalPorts].sort((a, b) => a - b);
    }
    return {
      namespace: this.namespace,
      podLabels: this.selectorLabels,
      podPorts: [this.hbonePort],
      externalPorts: [...this.sortedExternalPorts],
    };
  }

  /**
   * Registers an external host: a ServiceEntry bound to this waypoint. Add at least one allow rule with the returned
   * host's `allow()` (or this waypoint's `allow()`).
   *
   * @param host an exact host (`api.example.com`) or a wildcard (`*.example.com`, needs `DYNAMIC_DNS`)
   * @throws if the host is invalid or already added, or its options contradict each other or another host
   */
  public addHost(host: string, options: EgressWaypointHostOptions = {}): EgressWaypointHost {
    const parsed = inField(this, 'host', () => ExternalHost.of(host));
    options = inField(this, 'options', () => requireStruct<EgressWaypointHostOptions>(options ?? {}, 'EgressWaypointHostOptions'));
    const existing = this.hostsByName.get(parsed.name)?.[0];
    if (existing) {
      fieldError(this, 'host', `host "${parsed.name}" is already added (${existing.node.path}); add each host once, with all its ports and rules`);
    }
    const name = options.name === undefined ? hostResourceName(parsed) : inField(this, 'name', () => validateDnsLabel(options.name!, 'ServiceEntry name'));
    const owner = this.hostByServiceEntryName.get(name);
    if (owner) {
      fieldError(this, 'name', `ServiceEntry name "${name}" of host "${parsed.name}" is already used by host "${owner.host.name}"; give one of them another name`);
    }
    return new EgressWaypointHost(this, name, { ...options, host, waypoint: this });
  }

  /**
   * Adds an allow rule to a host added earlier, named by its host name.
   *
   * @param name the rule name: a DNS label, the suffix of the AuthorizationPolicy name (`<ServiceEntry name>-<rule>`)
   * @throws if the host was not added
   */
  public allow(name: string, props: WaypointAllowProps): void {
    props = inField(this, `rule ${JSON.stringify(name)}`, () => requireStruct<WaypointAllowProps>(props, 'WaypointAllowProps'));
    const host = this.hostsByName.get(props.host)?.[0];
    if (!host) {
      const known = this.hostList.map((h) => `"${h.host.name}"`).join(', ') || 'none';
      fieldError(this, `rule ${JSON.stringify(name)}: host`, `unknown host ${JSON.stringify(props.host)} (hosts: ${known}); add it with addHost first`);
    }
    const { host: _host, ...options } = props;
    host.allow(name, options);
  }

  /**
   * Registers a host created with this waypoint as its parent.
   *
   * @internal
   */
  public _registerHost(host: EgressWaypointHost): void {
    // M3: a waypoint, like an egress gateway, must not become a way into the cluster or to cloud metadata.
    inField(host, 'host', () => this.hostScreen?.check(host.host));
    const routeNamespaces = this.allowedNamespaces;
    if (!routeNamespaces.includes(host.namespace)) {
      fieldError(
        host,
        'namespace',
        `namespace "${host.namespace}" may not use waypoint ${this.namespace}/${this.name}: its listener only accepts ServiceEntries from ${routeNamespaces.join(', ')}, ` +
          `so the ServiceEntry would not be bound and traffic would bypass the waypoint; add "${host.namespace}" to the waypoint's allowedNamespaces`,
      );
    }
    // The index finds the overlapping hosts; only when one of them clashes is the whole list walked, in the order the
    // hosts were added, so the message names the same host as always.
    if (this.hostIndex.overlapping(host.host).some((other) => host.ports.some((port) => clashingPort(other, port) !== undefined))) {
      for (const other of this.hostList) {
        if (!other.host.overlaps(host.host)) {
          continue;
        }
        for (const port of host.ports) {
          const clash = clashingPort(other, port);
          if (clash) {
            fieldError(
              host,
              'ports',
              `port ${port.number} of "${host.host.name}" is ${port.protocol} but host "${other.host.name}" (which overlaps it) declares port ${port.number} as ${clash.protocol}; ` +
                'the waypoint can serve one protocol per host name and port, so use the same protocol or another port',
            );
          }
        }
      }
    }
    // Across the app: a host of another waypoint or a sidecar construct that overlaps this one (ztunnel ignores
    // exportTo, so every namespace sees an ambient host). Rules are compared at synth, once allow() has run.
    inField(host, 'host', () =>
      MeshRegistry.of(this).claimHost(this, {
        host: host.host,
        mode: DataplaneMode.AMBIENT,
        ports: host.ports.map((p) => ({ number: p.number, protocol: p.protocol })),
        namespace: host.namespace,
        exportTo: ['*'],
        rules: '',
        finalRules: () => host._rulesKey(),
        via: `waypoint ${this.namespace}/${this.name}`,
      }),
    );
    this.hostList.push(host);
    addToList(this.hostsByName, host.host.name, host);
    if (!this.hostByServiceEntryName.has(host.serviceEntryName)) {
      this.hostByServiceEntryName.set(host.serviceEntryName, host);
    }
    this.hostIndex.add(host.host, host);
    for (const port of host.ports) {
      const external = port.targetPort ?? port.number;
      if (!this.externalPorts.has(external)) {
        this.externalPorts.add(external);
        this.sortedExternalPorts = undefined;
      }
    }
  }

  /**
   * The annotations that record the exemption of `host` from the waypoint's host check, if any.
   *
   * @internal
   */
  public _hostAnnotations(host: ExternalHost): { [key: string]: string } | undefined {
    return this.hostScreen?.annotationsFor(host);
  }

  /**
   * Sets up the host check (M3) with the waypoint's `hostExemptions`; call once the namespaces are known.
   *
   * @internal
   */
  protected _screenHosts(exemptions: HostExemption[] | undefined): void {
    this.hostScreen = new HostScreen(this, 'hostExemptions', exemptions, {
      mesh: this.mesh,
      namespaces: this.allowedNamespaces,
      ownNames: [this.mesh.serviceFqdn(this.name, this.namespace)],
    });
  }

  /**
   * The names of the hosts of this waypoint that a wildcard host strictly covers (`api.example.com` and
   * `*.api.example.com` under `*.example.com`), sorted; empty for an exact host. Read at synth, so hosts added after
   * the wildcard's rules count too.
   *
   * @internal
   */
  public _namesCoveredBy(host: ExternalHost): string[] {
    if (!host.isWildcard || host.isAnyHost) {
      return [];
    }
    const names = new Set<string>();
    for (const other of this.hostIndex.coveredBy(host)) {
      if (other.host.name !== host.name && host.covers(other.host)) {
        names.add(other.host.name);
      }
    }
    return [...names].sort();
  }

  /**
   * Claims a resource name in a namespace in the app's registry, failing if another construct of the app has it.
   *
   * @internal
   */
  public _claimName(scope: IConstruct, field: string, kind: string, namespace: string, name: string): void {
    inField(scope, field, () => MeshRegistry.of(this).claimObjectName(scope, kind, namespace, name));
  }
}

/**
 * Validates a waypoint's namespace and name, refusing the namespaces no egress proxy may run in.
 *
 * @internal
 */
export function validateWaypointIdentity(
  scope: IConstruct,
  namespace: string,
  name: string,
  mesh: MeshSettings,
): { namespace: string; name: string } {
  const ns = inField(scope, 'namespace', () => validateDnsLabel(namespace, 'namespace'));
  rejectReservedNamespace(scope, 'namespace', ns, mesh, 'An egress waypoint');
  const label = inField(scope, 'name', () => {
    const n = validateDnsLabel(name, 'waypoint name');
    const why = dns1035LabelProblem(n);
    if (why !== undefined) {
      throw problem(`invalid waypoint name "${n}": it ${why}, and Istio creates a Service of that name for the waypoint; e.g. "egress-waypoint"`);
    }
    return n;
  });
  return { namespace: ns, name: label };
}

/**
 * The common props of a waypoint, checked: mesh, Istio release (the waypoint's own only if it agrees with the
 * mesh's), and the istiod flag.
 *
 * @internal
 */
export function validateWaypointSettings(
  scope: IConstruct,
  props: { mesh?: MeshSettings; istioVersion?: IstioVersion; istiodWildcardTlsEnabled?: boolean },
): { mesh: MeshSettings; istioVersion: IstioVersion; istiodWildcardTlsEnabled: boolean } {
  const mesh = props.mesh === undefined ? MeshSettings.defaults() : inField(scope, 'mesh', () => requireInstance(props.mesh, MeshSettings, 'new MeshSettings({ ... })'));
  let istioVersion = mesh.istioVersion;
  if (props.istioVersion !== undefined) {
    const own = inField(scope, 'istioVersion', () => requireInstance(props.istioVersion, IstioVersion, 'IstioVersion.V1_32'));
    if (mesh._istioVersionGiven && own !== mesh.istioVersion) {
      fieldError(
        scope,
        'istioVersion',
        `${own} differs from the mesh's istioVersion ${mesh.istioVersion}: a mesh runs one Istio release; set it once in MeshSettings ({ istioVersion }) and drop it here`,
      );
    }
    istioVersion = own;
  }
  const istiodWildcardTlsEnabled =
    props.istiodWildcardTlsEnabled === undefined ? false : inField(scope, 'istiodWildcardTlsEnabled', () => requireBoolean(props.istiodWildcardTlsEnabled));
  return { mesh, istioVersion, istiodWildcardTlsEnabled };
}

/**
 * The namespaces a waypoint's listener accepts ServiceEntries from: its own first, then the others sorted.
 *
 * @internal
 */
export function validateRouteNamespaces(scope: IConstruct, namespace: string, given: string[] | undefined): string[] {
  const namespaces = [namespace];
  const list = given === undefined ? [] : inField(scope, 'allowedNamespaces', () => requireArray<string>(given, { element: 'a namespace' }));
  list.forEach((ns, i) => {
    const value = inField(scope, `allowedNamespaces[${i}]`, () => validateDnsLabel(ns, 'namespace'));
    if (namespaces.includes(value)) {
      fieldError(scope, `allowedNamespaces[${i}]`, `namespace "${value}" is listed twice (the waypoint's own namespace is always allowed); remove the duplicate`);
    }
    namespaces.push(value);
  });
  return [namespaces[0], ...namespaces.slice(1).sort()];
}

/**
 * A waypoint that exists outside this app (`AmbientEgressWaypoint.fromAttributes`). It defines no objects of its own;
 * hosts added to it are, like those of an `AmbientEgressWaypoint`.
 *
 * @internal
 */
export class ImportedEgressWaypoint extends EgressWaypointBase {
  public readonly namespace: string;
  public readonly name: string;
  public readonly identity: WorkloadIdentity;
  public readonly istioVersion: IstioVersion;
  public readonly istiodWildcardTlsEnabled: boolean;
  public readonly mesh: MeshSettings;
  private readonly routeNamespaces: string[];

  public constructor(scope: Construct, id: string, attrs: EgressWaypointAttributes) {
    super(scope, id);
    MeshRegistry.of(this).register(this);
    attrs = inField(this, 'attrs', () => requireStruct<EgressWaypointAttributes>(attrs, 'EgressWaypointAttributes'));
    const settings = validateWaypointSettings(this, attrs);
    this.mesh = settings.mesh;
    this.istioVersion = settings.istioVersion;
    this.istiodWildcardTlsEnabled = settings.istiodWildcardTlsEnabled;
    const { namespace, name } = validateWaypointIdentity(this, attrs.namespace, attrs.name, this.mesh);
    this.namespace = namespace;
    this.name = name;
    this.identity = WorkloadIdentity.serviceAccount(this.namespace, this.name);
    this.routeNamespaces = validateRouteNamespaces(this, this.namespace, attrs.allowedNamespaces);
    this._screenHosts(attrs.hostExemptions);
  }

  public get allowedNamespaces(): string[] {
    return [...this.routeNamespaces];
  }
}

/** The port of `host` with the number of `port` but another protocol, if any. */
function clashingPort(host: EgressWaypointHost, port: { number: number; protocol: string }): { protocol: string } | undefined {
  return host.ports.find((p) => p.number === port.number && p.protocol !== port.protocol);
}
