import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { EgressGateway } from './egress-gateway';
import { IEgressGateway } from './egress-gateway-base';
import { resolveDnsCache, SniDnsCacheOptions } from './sni-dns-cache';
import { sniForwarderPatches } from './sni-forwarder';
import * as net from '../../imports/networking.istio.io';
import * as sec from '../../imports/security.istio.io';
import { requireArray, requireBoolean, requireImplements, requireInstance, requireString, requireStruct } from '../core/boundary';
import { checkInt32, checkRe2 } from '../core/bounds';
import { DataplaneMode } from '../core/dataplane-mode';
import { validateDnsLabel } from '../core/dns';
import { EgressPathConfig, IEgressPath } from '../core/egress-path';
import { fieldError, inField, problem } from '../core/errors';
import { ExternalHost, HostExemption, HostSet } from '../core/host';
import { HOST_EXEMPTIONS_ANNOTATION, HostScreen } from '../core/host-risk';
import { authorizationSources, WorkloadIdentity } from '../core/identity';
import { istioObject } from '../core/istio-object';
import { MeshSettings } from '../core/mesh';
import { hostListBytes, objectSizeProblem } from '../core/object-size';
import { EgressPort, Protocol, validatePortNumber } from '../core/port';
import { MeshRegistry } from '../core/registry';
import { ServiceEntryShards } from '../core/service-entries';
import { exportToFor, identityRulesKey, libraryLabels } from '../core/visibility';

/**
 * Properties of a WildcardEgressGateway.
 */
export interface WildcardEgressGatewayProps {
  /**
   * The allow-list: external host names workloads may open TLS connections to, exact (`api.github.com`) or
   * wildcard (`*.wikipedia.org`, any name ending in `.wikipedia.org`). More can be added with `addHost`. Hosts may
   * not overlap (`*.a.com` and `b.a.com`): Istio rejects that in one VirtualService. The bare `*` is refused: Istio
   * cannot route it from sidecars.
   *
   * @default - none yet; at least one must be added before synthesis
   */
  readonly hosts?: string[];

  /**
   * The egress gateway to forward through: an `EgressGateway` or an existing one
   * (`EgressGateway.fromAttributes`). It must have a TLS port numbered like each of `ports`.
   *
   * @default - a new `EgressGateway` (child id `EgressGateway`) in namespace `istio-egress`, with one TLS port per entry of
   * `ports`
   */
  readonly gateway?: IEgressGateway;

  /**
   * The TLS ports applications connect to external hosts on. Each uses the gateway port with the same number, and
   * the gateway connects to the external host on the same port.
   *
   * @default [443]
   */
  readonly ports?: number[];

  /**
   * Base name of the generated Istio resources (a DNS-1123 label), unique in the gateway's namespace.
   *
   * @default "wildcard-egress"
   */
  readonly name?: string;

  /**
   * Who may use the gateway: the gateway's AuthorizationPolicy allows only these mTLS identities, and the routes,
   * ServiceEntry and DestinationRule are exported only to their namespaces.
   *
   * @default - [WorkloadIdentity.anyInMesh()]: any workload with an Istio mTLS identity (out-of-mesh and plain-text
   * clients are always refused); routes exported to all namespaces
   */
  readonly allowFrom?: WorkloadIdentity[];

  /**
   * Log every connection: the gateway's listener (Telemetry scoped to the gateway pods, never mesh-wide) and the SNI
   * forwarder (its own access log, as Telemetry does not reach EnvoyFilter-made listeners).
   *
   * @default true
   */
  readonly accessLogging?: boolean;

  /**
   * Bounds of the SNI forwarder's DNS cache.
   *
   * @default - 1024 hosts, 1024 pending lookups, 5 minute TTL, IPv4 only
   */
  readonly dnsCache?: SniDnsCacheOptions;

  /**
   * Priority of the EnvoyFilter (higher applies later; Istio's default is 0). A protobuf int32.
   *
   * @default 10
   */
  readonly envoyFilterPriority?: number;

  /**
   * Apply the EnvoyFilter only to gateway proxies whose version matches this regular expression (e.g. `^1\.30.*`),
   * so an Istio upgrade turns the forwarder off (connections fail closed) instead of applying it to an Envoy it was
   * not tested with. Istio compiles it with Go's RE2 and refuses the whole EnvoyFilter if that fails, so RE2 syntax
   * is checked at synth: no lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`), backreferences or possessive quantifiers;
   * named groups `(?P<name>...)` / `(?<name>...)` and flags such as `(?i)` are fine.
   *
   * @default - every proxy version
   */
  readonly proxyVersion?: string;

  /**
   * Mesh settings (cluster and trust domain).
   *
   * @default - the gateway's settings
   */
  readonly mesh?: MeshSettings;

  /**
   * Hosts the construct refuses by default, accepted anyway for the reason given (recorded on the ServiceEntry):
   * in-cluster and cloud metadata names, and wildcards anyone can register a name under (`*.com`, `*.co.uk`,
   * `*.amazonaws.com`, `*.github.io`, ...). See `HostExemption`.
   *
   * @default - none: a refused host fails synthesis
   */
  readonly hostExemptions?: HostExemption[];
}

/**
 * Wildcard TLS egress through one dedicated egress gateway that forwards each connection to the exact host named in
 * its TLS SNI (an Envoy SNI dynamic forward proxy, built with EnvoyFilters).
 *
 * Istio routes egress to a wildcard domain (`*.wikipedia.org`) through a gateway only to one fixed upstream host;
 * this construct makes the gateway connect to whichever allowed name the client asked for, the design of Istio's
 * blog "Routing egress traffic to wildcard destinations" (2023), without that sample's flaws:
 *
 * - sidecars send matching TLS to the gateway over Istio mTLS (VirtualService + DestinationRule `ISTIO_MUTUAL`);
 * - the gateway accepts only in-mesh mTLS clients (Gateway server `ISTIO_MUTUAL`; PeerAuthentication `STRICT`
 *   records the intent) allowed by
 *   its AuthorizationPolicy (`allowFrom`);
 * - the host allow-list is checked twice: by the sidecar (VirtualService `sniHosts`) and by the gateway (the SNI
 *   forwarder's `server_names`), from one list;
 * - the EnvoyFilter is scoped to this gateway's pods and listener port, with an explicit priority, so it never
 *   touches another gateway;
 * - the gateway's own listener route points at an allowed host, not at a host that exists nowhere;
 * - access logging is scoped to the gateway pods.
 *
 * Security notes: SNI is chosen by the client, so a client that owns its TLS stack can name an allowed host and
 * connect to any IP that host resolves to, never elsewhere: the gateway resolves the SNI name itself. The Envoy
 * SNI dynamic forward proxy filter is alpha. Pair with `EgressNetworkPolicy` so pods cannot bypass the gateway.
 *
 * @see https://istio.io/latest/blog/2023/egress-sni/
 */
export class WildcardEgressGateway extends Construct implements IEgressPath {
  /** The egress gateway the traffic leaves through. */
  public readonly gateway: IEgressGateway;

  /** Base name of the generated resources. */
  public readonly name: string;

  /** The namespace of the generated Istio resources (the gateway's). */
  public readonly namespace: string;

  /** The TLS ports applications use. */
  public readonly ports: number[];

  /** Mesh settings in use. */
  public readonly mesh: MeshSettings;

  /**
   * The Istio Gateway with this construct's server on the gateway pods (escape hatch; construct id `Resource`, so
   * `ApiObject.of(construct)` returns it).
   */
  public readonly istioGateway: ApiObject;

  /** The VirtualService that routes the hosts from sidecars to the gateway (escape hatch). */
  public readonly meshRoute: ApiObject;

  /** The VirtualService that routes the gateway server's traffic to the SNI forwarder (escape hatch). */
  public readonly gatewayRoute: ApiObject;

  /** The AuthorizationPolicy that admits `allowFrom` to this construct's server (escape hatch). */
  public readonly authorizationPolicy: ApiObject;

  /** The EnvoyFilter that builds the SNI forwarder on the gateway pods (escape hatch). */
  public readonly sniForwarder: ApiObject;

  private readonly hostSet = new HostSet();
  private readonly identities: WorkloadIdentity[];
  private readonly gatewayPorts: EgressPort[];
  private readonly accessLogging: boolean;
  private readonly hostScreen: HostScreen;
  private serviceEntryShards?: ServiceEntryShards;
  private cachedExportTo?: string[];
  private cachedRulesKey?: string;

  public constructor(scope: Construct, id: string, props: WildcardEgressGatewayProps = {}) {
    super(scope, id);
    MeshRegistry.of(this).register(this);
    props = inField(this, 'props', () => requireStruct<WildcardEgressGatewayProps>(props ?? {}, 'WildcardEgressGatewayProps'));
    this.name = inField(this, 'name', () => validateDnsLabel(props.name ?? 'wildcard-egress', 'name'));
    this.ports = this.validatePorts(props.ports ?? [443]);
    const mesh = props.mesh === undefined ? undefined : inField(this, 'mesh', () => requireInstance(props.mesh, MeshSettings, 'new MeshSettings({ ... })'));
    this.gateway =
      props.gateway === undefined
        ? new EgressGateway(this, 'EgressGateway', { mesh, ports: this.ports.map((p) => EgressPort.tls(p)) })
        : inField(this, 'gateway', () =>
          requireImplements<IEgressGateway>(props.gateway, 'IEgressGateway', ['claimPort', 'addClientSubset', 'requireMutualTls'], 'an EgressGateway or EgressGateway.fromAttributes(...)'),
        );
    this.mesh = mesh ?? this.gateway.mesh;
    this.namespace = this.gateway.namespace;
    this.gatewayPorts = this.ports.map((p, i) =>
      inField(this, `ports[${i}]`, () => {
        const port = this.gateway.claimPort(p, this);
        if (!port.isTls) {
          throw problem(`gateway port ${port} is not TLS; the gateway needs a TLS port ${p} (e.g. from EgressPort.tls with ${p})`);
        }
        return port;
      }),
    );
    this.identities = inField(this, 'allowFrom', () =>
      requireArray(props.allowFrom ?? [WorkloadIdentity.anyInMesh()], {
        element: 'a WorkloadIdentity',
        each: (identity) => requireInstance(identity, WorkloadIdentity, 'WorkloadIdentity.serviceAccount("shop", "checkout")'),
      }),
    );
    if (this.identities.length === 0) {
      fieldError(this, 'allowFrom', 'an empty list would allow nobody; omit it to allow any in-mesh workload, or list identities');
    }
    const dnsCache = resolveDnsCache(this, props.dnsCache);
    this.accessLogging = props.accessLogging === undefined ? true : inField(this, 'accessLogging', () => requireBoolean(props.accessLogging));
    const priority = inField(this, 'envoyFilterPriority', () => checkInt32(props.envoyFilterPriority ?? 10, 'priority'));
    const proxyVersion = props.proxyVersion === undefined ? undefined : inField(this, 'proxyVersion', () => checkRe2(props.proxyVersion, 'regular expression'));

    this.hostScreen = new HostScreen(this, 'hostExemptions', props.hostExemptions, {
      mesh: this.mesh,
      clusterDomains: [this.gateway.mesh.clusterDomain],
      namespaces: [this.namespace],
      ownNames: [this.gateway.serviceFqdn],
    });
    const hosts = props.hosts === undefined ? [] : inField(this, 'hosts', () => requireArray<string>(props.hosts, { element: 'a host such as "api.example.com"' }));
    hosts.forEach((h, i) => this.addHostAt(h, `hosts[${i}]`));
    this.node.addValidation({
      validate: () =>
        this.hostSet.size === 0
          ? ['hosts: the allow-list is empty, so the gateway would forward nothing; pass hosts or add one with addHost (e.g. "*.example.com")']
          : this.sizeProblems(),
    });

    this.gateway.requireMutualTls();
    if (this.accessLogging) {
      inField(this, 'accessLogging', () => this.gateway.enableAccessLogging());
    }

    const metadata = (name: string) => ({ name, namespace: this.namespace, labels: libraryLabels(this.name) });
    const exportTo = this.meshExportTo;
    const gatewayHost = this.gateway.serviceFqdn;

    this.istioGateway = istioObject(this, 'Resource', net.Gateway, {
      metadata: metadata(this.name),
      spec: {
        selector: this.gateway.selectorLabels,
        servers: this.gatewayPorts.map((port) => ({
          port: { number: port.number, name: `${port.name}-${this.name}`.slice(0, 63).replace(/-+$/, ''), protocol: 'TLS' },
          // Only VirtualServices of this namespace may bind, and only for the name sidecars present as SNI.
          hosts: [`./${gatewayHost}`],
          tls: { mode: net.GatewaySpecServersTlsMode.ISTIO_UNDERSCORE_MUTUAL },
        })),
      },
    });

    // Sidecars reach the gateway over Istio mTLS, presenting the gateway's name as SNI (its server's host).
    inField(this, 'name', () => this.gateway.addClientSubset({ name: this.name, sni: gatewayHost, ports: this.gatewayPorts.map((p) => p.number), exportTo }));

    this.serviceEntryShards = new ServiceEntryShards(this, 'ServiceEntry', this.name, () => this.hostSet.names, (name) => ({
      metadata: { ...metadata(name), annotations: this.hostScreen.annotations },
      spec: {
        exportTo,
        location: net.ServiceEntrySpecLocation.MESH_UNDERSCORE_EXTERNAL,
        // NONE: wildcard hosts cannot be resolved by istiod; the gateway resolves each SNI name itself.
        resolution: net.ServiceEntrySpecResolution.NONE,
        ports: this.ports.map((p) => ({ number: p, name: `tls-${p}`, protocol: 'TLS' })),
      },
    }));
    this.serviceEntryShards.grow(this.hostSet.size);

    this.meshRoute = istioObject(this, 'MeshRoute', net.VirtualService, {
      metadata: metadata(this.name),
      spec: Lazy.any({
        produce: (): net.VirtualServiceSpec => ({
          hosts: this.hostSet.names,
          exportTo,
          gateways: ['mesh'],
          tls: this.ports.map((p, i) => ({
            match: [{ gateways: ['mesh'], port: p, sniHosts: this.hostSet.names }],
            route: [{ destination: { host: gatewayHost, subset: this.name, port: { number: this.gatewayPorts[i].number } } }],
          })),
        }),
      }) as any,
    });

    this.gatewayRoute = istioObject(this, 'GatewayRoute', net.VirtualService, {
      metadata: metadata(`${this.name}-gateway`),
      spec: Lazy.any({
        produce: (): net.VirtualServiceSpec => ({
          hosts: [gatewayHost],
          exportTo: ['.'],
          gateways: [this.name],
          tcp: this.gatewayPorts.map((port, i) => ({
            match: [{ gateways: [this.name], port: port.number }],
            // Never used: the EnvoyFilter points this listener's tcp_proxy at the SNI forwarder. It names an allowed
            // host so istiod keeps the listener and the route refers to a host that exists.
            route: [{ destination: { host: this.hostSet.names[0] ?? gatewayHost, port: { number: this.ports[i] } } }],
          })),
        }),
      }) as any,
    });

    this.authorizationPolicy = istioObject(this, 'AuthorizationPolicy', sec.AuthorizationPolicy, {
      metadata: metadata(this.name),
      spec: {
        selector: { matchLabels: this.gateway.selectorLabels },
        action: sec.AuthorizationPolicySpecAction.ALLOW,
        rules: [
          {
            from: authorizationSources(this.identities, this.mesh),
            to: [{ operation: { ports: this.gatewayPorts.map((p) => String(p.podPort)) } }],
            // Only connections to this construct's server (the SNI its client subset presents): a server another
            // Gateway binds to the same pods is not allowed by this policy.
            when: [{ key: 'connection.sni', values: [gatewayHost] }],
          },
        ],
      },
    });

    const forwarder = { name: this.name, gatewayFqdn: gatewayHost, ports: this.ports, gatewayPorts: this.gatewayPorts };
    this.sniForwarder = istioObject(this, 'SniForwarder', net.EnvoyFilter, {
      metadata: metadata(`${this.name}-sni-forwarder`),
      spec: Lazy.any({
        produce: (): net.EnvoyFilterSpec => ({
          workloadSelector: { labels: this.gateway.selectorLabels },
          priority,
          configPatches: sniForwarderPatches({ ...forwarder, hosts: this.hostSet.names, dnsCache, accessLogging: this.accessLogging, proxyVersion }),
        }),
      }) as any,
    });
  }
  /** The ServiceEntries of the hosts, 256 hosts each (escape hatch). */
  public get serviceEntries(): ApiObject[] {
    return this.serviceEntryShards?.all ?? [];
  }

  /**
   * Adds a host to the allow-list: an exact name (`api.github.com`) or a wildcard (`*.example.com`). Adding a host
   * already listed does nothing.
   *
   * @throws if the host is invalid, is `*`, or overlaps a listed host
   */
  public addHost(host: string): void {
    this.addHostAt(host, `addHost ${JSON.stringify(host)}`);
  }

  /**
   * The gateway pods on the listener ports this construct uses, and the TLS ports they connect to outside.
   */
  public toEgressPathConfig(): EgressPathConfig {
    return {
      namespace: this.namespace,
      podLabels: this.gateway.selectorLabels,
      podPorts: this.gatewayPorts.map((p) => p.podPort),
      externalPorts: [...this.ports],
    };
  }

  /** The allow-list, sorted: the exact list every generated resource carries. */
  public get hosts(): string[] {
    return this.hostSet.names;
  }

  /** The identities allowed to use the gateway. */
  public get allowedIdentities(): WorkloadIdentity[] {
    return [...this.identities];
  }

  private addHostAt(host: string, field: string): void {
    inField(this, field, () => {
      requireString(host, 'api.example.com');
      if (host === '*') {
        throw problem(
          'invalid host "*": Istio cannot route every host from sidecars (ServiceEntry and mesh VirtualService hosts reject "*"); ' +
            'list the domains you need, e.g. "*.example.com"',
        );
      }
      const parsed = ExternalHost.of(host);
      this.hostScreen.check(parsed);
      MeshRegistry.of(this).claimHost(this, {
        host: parsed,
        mode: DataplaneMode.SIDECAR,
        ports: this.ports.map((number) => ({ number, protocol: Protocol.TLS })),
        namespace: this.namespace,
        exportTo: this.meshExportTo,
        rules: this.rulesKey,
        via: `SNI forwarder "${this.name}" at gateway ${this.namespace}/${this.gateway.serviceName}`,
      });
      this.hostSet.add(parsed);
    });
    const exemptions = this.hostScreen.annotations;
    this.serviceEntryShards?.grow(this.hostSet.size);
    if (exemptions !== undefined && this.serviceEntryShards !== undefined) {
      for (const entry of this.serviceEntryShards.all) {
        ApiObject.of(entry).metadata.addAnnotation(HOST_EXEMPTIONS_ANNOTATION, exemptions[HOST_EXEMPTIONS_ANNOTATION]);
      }
    }
  }

  /**
   * The mesh VirtualService lists every host once in `hosts` and once per port in `sniHosts`, the forwarder EnvoyFilter
   * once per port in `server_names`: refused when one would exceed what the API server stores (M7).
   */
  private sizeProblems(): string[] {
    const names = this.hostSet.names;
    const fix = `split the ${names.length} hosts over several WildcardEgressGateways`;
    return [
      objectSizeProblem(`hosts: the VirtualService "${this.namespace}/${this.name}"`, hostListBytes(names, 1 + this.ports.length), fix),
      objectSizeProblem(`hosts: the EnvoyFilter "${this.namespace}/${this.name}-sni-forwarder"`, hostListBytes(names, this.ports.length), fix),
    ].filter((p): p is string => p !== undefined);
  }

  private validatePorts(ports: number[]): number[] {
    const given = inField(this, 'ports', () => requireArray<number>(ports, { element: 'a port number such as 443' }));
    if (given.length === 0) {
      fieldError(this, 'ports', 'at least one TLS port is required, e.g. [443]');
    }
    const seen = new Map<number, number>();
    given.forEach((p, i) => {
      inField(this, `ports[${i}]`, () => validatePortNumber(p));
      if (seen.has(p)) {
        fieldError(this, `ports[${i}]`, `port ${p} is already listed at ports[${seen.get(p)}]; list each port once`);
      }
      seen.set(p, i);
    });
    return given;
  }

  /** The mesh-facing resources are exported only to the namespaces of the allowed identities (plus the gateway's). */
  private get meshExportTo(): string[] {
    this.cachedExportTo ??= exportToFor(this.identities, this.namespace);
    return this.cachedExportTo;
  }

  /** Who may use the hosts, for the app-wide registry (identities are fixed at construction). */
  private get rulesKey(): string {
    this.cachedRulesKey ??= identityRulesKey(this.identities, this.mesh);
    return this.cachedRulesKey;
  }
}
