import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { EgressGateway } from './egress-gateway';
import { IEgressGateway } from './egress-gateway-base';
import { allowedClients, claimGatewayPort, rejectClientsInGatewayNamespace } from './origination-inputs';
import { defineHostResources, defineOriginationObjects, HostEntry, originationSizeProblems } from './origination-resources';
import { requireArray, requireBoolean, requireImplements, requireInstance, requireString, requireStruct } from '../core/boundary';
import { DataplaneMode } from '../core/dataplane-mode';
import { validateDnsLabel } from '../core/dns';
import { EgressPathConfig, IEgressPath } from '../core/egress-path';
import { fieldError, inField } from '../core/errors';
import { ExternalHost, HostExemption, HostSet } from '../core/host';
import { HOST_EXEMPTIONS_ANNOTATION, HostScreen } from '../core/host-risk';
import { WorkloadIdentity } from '../core/identity';
import { MeshSettings } from '../core/mesh';
import { dnsLabelName, hostToDnsLabel } from '../core/names';
import { OriginationTls } from '../core/origination-tls';
import { EgressPort, Protocol } from '../core/port';
import { MeshRegistry } from '../core/registry';
import { ServiceEntryShards } from '../core/service-entries';
import { exportToFor, identityRulesKey } from '../core/visibility';

/** Properties of a `TlsOriginationEgress`. */
export interface TlsOriginationEgressProps {
  /**
   * The external hosts applications call over plain HTTP, each an exact name (`edition.cnn.com`): the gateway
   * connects to exactly that name, so wildcards are refused. More can be added with `addHost`.
   *
   * @default - none yet; at least one must be added before synthesis
   */
  readonly hosts?: string[];

  /**
   * The egress gateway that originates TLS: an `EgressGateway` or an existing one (`EgressGateway.fromAttributes`).
   * It needs an HTTP port (sidecars send the requests to it as HTTP inside Istio mTLS).
   *
   * @default - a new `EgressGateway` (child id `Gateway`) in namespace `istio-egress` named `egress-gateway`, with
   * the one port `EgressPort.http(80)` (pods listen on 8080)
   */
  readonly gateway?: IEgressGateway;

  /**
   * The gateway's Service port (HTTP or HTTP2) that receives the requests. One TLS origination per gateway port: add
   * more hosts to the same origination with `addHost`, or give the gateway another HTTP port.
   *
   * @default - the gateway's only HTTP port
   */
  readonly gatewayPort?: number;

  /**
   * The port applications call the hosts on in plain HTTP (ServiceEntry port `http-<n>`).
   *
   * @default 80
   */
  readonly httpPort?: number;

  /**
   * The port the external hosts serve TLS on, which the gateway connects to (ServiceEntry port `https-<n>`).
   *
   * @default 443
   */
  readonly tlsPort?: number;

  /**
   * How the gateway originates TLS to the hosts (per host, `addHost` can override it).
   *
   * @default OriginationTls.simple(): TLS verified against the system roots and the host name
   */
  readonly tls?: OriginationTls;

  /**
   * Who may send requests through this origination: the gateway's AuthorizationPolicy allows only these mTLS
   * identities on the gateway port, and the ServiceEntry, VirtualServices and DestinationRule towards the gateway are
   * exported only to their namespaces (plus the gateway's).
   *
   * @default - every workload of the chart's namespace (`WorkloadIdentity.allInNamespace(<chart namespace>)`); a
   * chart without a namespace must list them
   */
  readonly allowFrom?: WorkloadIdentity[];

  /**
   * Base of the generated resource names (a DNS-1123 label), unique among the TLS originations of the gateway's
   * namespace. Resources for one host are named `<name>-<host with dots as dashes>`.
   *
   * @default "tls-origination"
   */
  readonly name?: string;

  /**
   * Turn on access logging for the gateway pods (Telemetry scoped to the gateway, never mesh-wide), so each
   * request shows in the gateway's log.
   *
   * @default true
   */
  readonly accessLogging?: boolean;

  /**
   * Mesh settings (trust domain of the allowed identities).
   *
   * @default - the gateway's settings
   */
  readonly mesh?: MeshSettings;

  /**
   * Hosts the construct refuses by default (in-cluster and cloud metadata names: see `HostExemption`), accepted
   * anyway for the reason given, which is recorded on the ServiceEntry.
   *
   * @default - none: a refused host fails synthesis
   */
  readonly hostExemptions?: HostExemption[];
}

/**
 * Options for one host added with `TlsOriginationEgress.addHost`.
 */
export interface OriginationHostOptions {
  /**
   * How the gateway originates TLS to this host.
   *
   * @default - the construct's `tls`
   */
  readonly tls?: OriginationTls;
}

/**
 * Applications call an external host in plain HTTP (`http://edition.cnn.com`); their sidecar sends the request over
 * Istio mutual TLS to a dedicated egress gateway, and the gateway originates TLS to the host on port 443, verifying
 * the server's certificate (or presenting a client certificate for mutual TLS). The applications hold no TLS code or
 * credentials, and the gateway logs and authorizes every request in clear.
 *
 * This is Istio's "Perform TLS origination with an egress gateway" task in current Istio (the sidecar-to-gateway hop
 * is `ISTIO_MUTUAL`, not the task's file-mounted certificates), plus what the task leaves out: server verification
 * with the host name checked, an AuthorizationPolicy on the gateway, narrow `exportTo`, and several hosts on one
 * gateway port.
 *
 * Resources (in the gateway's namespace; `<name>` defaults to `tls-origination`, `<host>` is the host with dots as
 * dashes, e.g. `edition-cnn-com`; names longer than 63 characters end in a hash):
 * - ServiceEntry `<name>`: the hosts on port `http-80` (HTTP) only, `resolution: DNS`, `location: MESH_EXTERNAL`;
 *   exported to the allowed namespaces only (not `.`), so the gateway never takes it for the upstream entry.
 * - ServiceEntry `<name>-upstream`: the same hosts on port `https-443` (HTTPS) only, exported to the gateway's
 *   namespace only (`.`): client sidecars never learn `host:443`, only the gateway does.
 * - Gateway `<name>`: one server on the gateway port, `protocol: HTTPS`, `tls.mode: ISTIO_MUTUAL`, hosts `./<host>`
 *   for every host (only this namespace's VirtualServices may bind), selector = the gateway's pod labels.
 * - DestinationRule `<name>` for the gateway Service: one subset `<name>-<host>` per host, `ISTIO_MUTUAL` with
 *   `sni: <host>` on the gateway port; exported to the allowed namespaces (the sidecars use it).
 * - VirtualService `<name>-<host>` per host: from sidecars (`mesh`, port 80) to the gateway subset; from the gateway
 *   to the host on port 443.
 * - DestinationRule `<name>-<host>` per host: originates TLS on port 443; `workloadSelector` = the gateway pods and
 *   `exportTo: ["."]`, so only the gateway applies it (a sidecar must not wrap the application's own HTTPS again).
 * - AuthorizationPolicy `<name>`: ALLOW the `allowFrom` identities on the gateway port's target port, only for a
 *   connection to this construct's server (`connection.sni` = the hosts, which the client subsets present) and only
 *   for requests to the hosts (`hosts`). Another Gateway bound to the same pods (even a selector-less one in another
 *   namespace) gets no access from this policy.
 * - EnvoyFilter `<name>-dns`: the gateway's clusters for the hosts resolve each name exactly as given
 *   (`no_default_search_domain`), never as `<host>.<namespace>.svc.cluster.local` through the pod's search path.
 *
 * Ports: the Gateway server and the gateway-side route name the gateway's Service port (80), as Istio's task does;
 * istiod finds the Service that selects the gateway pods and binds the listener on its target port (8080), which the
 * AuthorizationPolicy and NetworkPolicies name.
 *
 * Security notes: applications in the gateway's own namespace cannot be clients (they would see the gateway-only
 * ServiceEntry); with `WorkloadIdentity.anyInMesh()` they are not served. Pair this construct with
 * `EgressNetworkPolicy`, which only lets application pods reach the gateway pods: Istio alone cannot stop pods
 * bypassing the gateway.
 *
 * @see https://istio.io/latest/docs/tasks/traffic-management/egress/egress-gateway-tls-origination/
 * @see https://istio.io/latest/docs/reference/config/networking/gateway/
 * @see https://istio.io/latest/docs/reference/config/networking/destination-rule/
 */
export class TlsOriginationEgress extends Construct implements IEgressPath {
  /** The egress gateway that originates TLS. */
  public readonly gateway: IEgressGateway;

  /**
   * The gateway port that receives the requests, with its `targetPort` (the port the gateway pods listen on, for
   * NetworkPolicies from application pods).
   */
  public readonly gatewayPort: EgressPort;

  /** The port applications call the hosts on (plain HTTP). */
  public readonly httpPort: EgressPort;

  /** The port the gateway connects to the hosts on (TLS), for NetworkPolicies from the gateway to the internet. */
  public readonly tlsPort: EgressPort;

  /** Base of the generated resource names. */
  public readonly name: string;

  /** The namespace of every generated Istio resource: the gateway's. */
  public readonly namespace: string;

  /** Mesh settings in use. */
  public readonly mesh: MeshSettings;

  /**
   * The namespaces the ServiceEntry, VirtualServices and the DestinationRule towards the gateway are exported to
   * (`.` is the gateway's namespace, `*` all namespaces).
   */
  public readonly exportTo: string[];

  /**
   * The Istio Gateway with this construct's server on the gateway pods (escape hatch; construct id `Resource`, so
   * `ApiObject.of(construct)` returns it).
   */
  public readonly istioGateway: ApiObject;

  /** The AuthorizationPolicy that admits `allowFrom` to this construct's server, for its hosts only (escape hatch). */
  public readonly authorizationPolicy: ApiObject;

  /** The EnvoyFilter that makes the gateway resolve the hosts without the pod's DNS search path (escape hatch). */
  public readonly dnsFilter: ApiObject;

  private readonly hostSet = new HostSet();
  private readonly entries = new Map<string, HostEntry>();
  private readonly identities: WorkloadIdentity[];
  private readonly defaultTls: OriginationTls;
  private readonly hostScreen: HostScreen;
  private readonly clientServiceEntries: ServiceEntryShards;
  private readonly upstreamServiceEntries: ServiceEntryShards;
  private cachedRulesKey?: string;

  public constructor(scope: Construct, id: string, props: TlsOriginationEgressProps = {}) {
    super(scope, id);
    MeshRegistry.of(this).register(this);
    props = inField(this, 'props', () => requireStruct<TlsOriginationEgressProps>(props ?? {}, 'TlsOriginationEgressProps'));
    this.name = inField(this, 'name', () => validateDnsLabel(props.name ?? 'tls-origination', 'name'));
    this.httpPort = inField(this, 'httpPort', () => EgressPort.http(props.httpPort ?? 80));
    this.tlsPort = inField(this, 'tlsPort', () => EgressPort.https(props.tlsPort ?? 443));
    if (this.httpPort.number === this.tlsPort.number) {
      fieldError(
        this,
        'tlsPort',
        `${this.tlsPort.number} is also the httpPort: applications call port ${this.httpPort.number} in plain HTTP and the gateway connects to the host's TLS port, ` +
          'so they must differ (e.g. httpPort 80, tlsPort 443)',
      );
    }
    const mesh = props.mesh === undefined ? undefined : inField(this, 'mesh', () => requireInstance(props.mesh, MeshSettings, 'new MeshSettings({ ... })'));
    this.gateway =
      props.gateway === undefined
        ? new EgressGateway(this, 'EgressGateway', { mesh, ports: [EgressPort.http(80)] })
        : inField(this, 'gateway', () =>
          requireImplements<IEgressGateway>(
            props.gateway,
            'IEgressGateway',
            ['findPort', 'claimPort', 'addClientSubset', 'enableAccessLogging', 'grantCredentialAccess'],
            'an EgressGateway or EgressGateway.fromAttributes(...)',
          ),
        );
    this.mesh = mesh ?? this.gateway.mesh;
    this.namespace = this.gateway.namespace;
    this.gatewayPort = claimGatewayPort(this, this.gateway, props.gatewayPort);

    this.defaultTls = props.tls ?? OriginationTls.simple();
    this.validateTls(this.defaultTls, 'tls');

    this.identities = allowedClients(this, props.allowFrom);
    rejectClientsInGatewayNamespace(this, this.identities, this.namespace, props.allowFrom === undefined);
    this.exportTo = this.computeExportTo();
    this.hostScreen = new HostScreen(this, 'hostExemptions', props.hostExemptions, {
      mesh: this.mesh,
      clusterDomains: [this.gateway.mesh.clusterDomain],
      namespaces: [this.namespace],
      ownNames: [this.gateway.serviceFqdn],
    });

    this.node.addValidation({
      validate: () =>
        this.entries.size === 0
          ? ['hosts: no host to originate TLS to, so the gateway would route nothing; pass hosts or add one with addHost (e.g. "api.example.com")']
          : originationSizeProblems(this, this.hostSet.names),
    });

    if (props.accessLogging === undefined || inField(this, 'accessLogging', () => requireBoolean(props.accessLogging))) {
      this.gateway.enableAccessLogging();
    }

    const objects = defineOriginationObjects(this, this, this.identities, this.hostScreen, () => this.hostSet.names);
    this.clientServiceEntries = objects.clientServiceEntries;
    this.upstreamServiceEntries = objects.upstreamServiceEntries;
    this.istioGateway = objects.istioGateway;
    this.authorizationPolicy = objects.authorizationPolicy;
    this.dnsFilter = objects.dnsFilter;

    const hosts = props.hosts === undefined ? [] : inField(this, 'hosts', () => requireArray<string>(props.hosts, { element: 'a host' }));
    hosts.forEach((h, i) => this.addHostAt(h, `hosts[${i}]`, undefined));
  }
  /** The ServiceEntries of the hosts for clients (port 80) and for the gateway (port 443), 256 hosts each (escape hatch). */
  public get serviceEntries(): ApiObject[] {
    return [...this.clientServiceEntries.all, ...this.upstreamServiceEntries.all];
  }


  /**
   * Adds an external host: an exact name such as `api.example.com`. Creates its VirtualService and origination
   * DestinationRule (`<name>-<host>`) and adds it to the ServiceEntry, the Gateway server and the gateway
   * DestinationRule.
   *
   * @param host the host name (no wildcard, no scheme, no port)
   * @throws if the host is invalid, a wildcard, already added here, or originated by another TlsOriginationEgress
   */
  public addHost(host: string, options: OriginationHostOptions = {}): void {
    const field = `addHost ${JSON.stringify(host)}`;
    const tls = inField(this, `${field}.options`, () => requireStruct<OriginationHostOptions>(options ?? {}, 'OriginationHostOptions')).tls;
    this.addHostAt(host, field, tls);
  }

  /**
   * The gateway pods and ports of this origination, for a NetworkPolicy: applications reach the gateway pods on the
   * gateway port's target port; the gateway reaches the hosts on `tlsPort`.
   */
  public toEgressPathConfig(): EgressPathConfig {
    return {
      namespace: this.namespace,
      podLabels: this.gateway.selectorLabels,
      podPorts: [this.gatewayPort.podPort],
      externalPorts: [this.tlsPort.number],
    };
  }

  /** The originated hosts, sorted. */
  public get hosts(): string[] {
    return this.hostSet.names;
  }

  /** The identities allowed to send requests through this origination. */
  public get allowedIdentities(): WorkloadIdentity[] {
    return [...this.identities];
  }

  private addHostAt(host: string, field: string, tls: OriginationTls | undefined): void {
    const parsed = inField(this, field, () => {
      const wildcard = (name: string, example: string) =>
        new Error(
          `invalid host "${name}": TLS origination needs one concrete host, since the gateway connects to that exact name and verifies ` +
            `its certificate for it; list each name you call (e.g. "${example}")`,
        );
      if (host === '*') {
        throw wildcard(host, 'api.example.com');
      }
      const h = ExternalHost.of(requireString(host, 'api.example.com'));
      if (h.isWildcard) {
        throw wildcard(h.name, `www.${h.domain}`);
      }
      if (this.entries.has(h.name)) {
        throw new Error(`host "${h.name}" is already originated by this construct; add each host once`);
      }
      this.hostScreen.check(h);
      MeshRegistry.of(this).claimHost(this, {
        host: h,
        mode: DataplaneMode.SIDECAR,
        ports: [{ number: this.httpPort.number, protocol: Protocol.HTTP }],
        namespace: this.namespace,
        exportTo: this.exportTo,
        rules: (this.cachedRulesKey ??= identityRulesKey(this.identities, this.mesh)),
        via: `TLS origination "${this.name}" at gateway ${this.namespace}/${this.gateway.serviceName}`,
      });
      return h;
    });
    const hostTls = tls ?? this.defaultTls;
    if (tls !== undefined) {
      this.validateTls(tls, `${field}.tls`);
    }
    const resourceName = dnsLabelName([this.name, hostToDnsLabel(parsed.name)]);
    inField(this, field, () => this.checkResourceName(parsed.name, resourceName));

    this.hostSet.add(parsed);
    this.clientServiceEntries.grow(this.hostSet.size);
    this.upstreamServiceEntries.grow(this.hostSet.size);
    const exemptions = this.hostScreen.annotations;
    if (exemptions !== undefined) {
      for (const e of this.clientServiceEntries.all) {
        ApiObject.of(e).metadata.addAnnotation(HOST_EXEMPTIONS_ANNOTATION, exemptions[HOST_EXEMPTIONS_ANNOTATION]);
      }
    }
    const entry: HostEntry = { host: parsed, tls: hostTls, resourceName };
    this.entries.set(parsed.name, entry);
    // The gateway's server matches the SNI, so each host's subset presents the host as SNI.
    this.gateway.addClientSubset({ name: resourceName, sni: parsed.name, ports: [this.gatewayPort.number], exportTo: this.exportTo });
    // Only a client key needs RBAC: istiod serves a CA-only Secret of the gateway's namespace without it.
    if (hostTls._needsSecretReadAccess) {
      this.gateway.grantCredentialAccess();
    }
    defineHostResources(this, this, entry);
  }

  private validateTls(tls: OriginationTls, field: string): void {
    inField(this, field, () => requireInstance(tls, OriginationTls, 'OriginationTls.simple()'));
    inField(this, field, () => tls._validate({ namespace: this.namespace, kind: 'gateway' }));
  }

  /** Export the mesh-facing resources only to the namespaces of the allowed identities (plus the gateway's). */
  private computeExportTo(): string[] {
    return exportToFor(this.identities, this.namespace);
  }

  /** Checks that the per-host resource name is not used by another host here (the registry checks other constructs' objects). */
  private checkResourceName(host: string, resourceName: string): void {
    for (const e of this.entries.values()) {
      if (e.resourceName === resourceName) {
        throw new Error(
          `host "${host}" would get the resource name "${resourceName}", already used for host "${e.host.name}"; originate it with another TlsOriginationEgress (another name)`,
        );
      }
    }
  }
}
