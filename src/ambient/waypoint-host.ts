import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import type { EgressWaypointBase } from './egress-waypoint';
import { USE_WAYPOINT, USE_WAYPOINT_NAMESPACE } from './waypoint-labels';
import { addAllowRule, WaypointAllowOptions } from './waypoint-rules';
import { addWaypointTlsOrigination, validateWaypointTls } from './waypoint-tls-origination';
import { ServiceEntry, ServiceEntrySpecLocation, ServiceEntrySpecResolution } from '../../imports/networking.istio.io';
import { requireArray, requireImplements, requireInstance, requireString, requireStruct } from '../core/boundary';
import { checkEnum } from '../core/bounds';
import { validateDnsLabel } from '../core/dns';
import { fieldError, inField } from '../core/errors';
import { ExternalHost } from '../core/host';
import { WorkloadIdentity } from '../core/identity';
import { istioObject } from '../core/istio-object';
import { IstioVersion } from '../core/istio-version';
import { dnsLabelName, hostToDnsLabel } from '../core/names';
import { OriginationTls } from '../core/origination-tls';
import { EgressPort, Protocol, validateUniquePorts } from '../core/port';
import { MeshRegistry } from '../core/registry';
import { libraryLabels, exportToFor, mergeExportTo } from '../core/visibility';

/** Protocols Istio accepts on a DYNAMIC_DNS ServiceEntry in its newest release (validation.go). */
const DYNAMIC_DNS_PROTOCOLS = [Protocol.HTTP, Protocol.TLS, Protocol.GRPC, Protocol.HTTP2];

/**
 * How the waypoint finds the addresses of an external host (ServiceEntry `resolution`).
 *
 * `NONE` and `STATIC` are deliberately missing: with `NONE` the waypoint forwards to whatever IP the client dialled,
 * so any destination reachable with an allowed `Host` header passes (istio.io "egress control" warning).
 *
 * @see https://istio.io/latest/docs/reference/config/networking/service-entry/#ServiceEntry-Resolution
 */
export enum WaypointHostResolution {
  /** The waypoint resolves the host name with DNS and connects to the first address (exact hosts only). */
  DNS = 'DNS',
  /** Like DNS, but connects to any of the returned addresses (exact hosts only). */
  DNS_ROUND_ROBIN = 'DNS_ROUND_ROBIN',
  /**
   * Wildcard hosts: the waypoint resolves the name each request asks for (HTTP `Host`, TLS SNI) with a dynamic
   * forward proxy. Istio >= 1.28 (HTTP), >= 1.29 for TLS behind an istiod flag, >= 1.30 for HTTP2/GRPC.
   */
  DYNAMIC_DNS = 'DYNAMIC_DNS',
}

/**
 * Options for one external host of a waypoint.
 */
export interface EgressWaypointHostOptions {
  /**
   * The ports clients use. For TLS origination use HTTP ports (`EgressPort.http(80, { targetPort: 443 })`): the
   * client port is what applications connect to and what policies name; `targetPort` is the server's port.
   *
   * @default [EgressPort.tls(443)]
   */
  readonly ports?: EgressPort[];

  /**
   * How the waypoint resolves the host.
   *
   * @default - `DNS` for an exact host, `DYNAMIC_DNS` for a wildcard host
   */
  readonly resolution?: WaypointHostResolution;

  /**
   * Originate TLS at the waypoint: the application speaks plain HTTP (e.g. to port 80), the waypoint encrypts the
   * request and sends it to the server's TLS port (the ServiceEntry port's `targetPort`, 443 unless given), in a
   * DestinationRule `<name>-tls`. Every port of the host must then be an HTTP port, and the host exact.
   *
   * `OriginationTls.simple()` verifies the server certificate against the system CA bundle (or
   * `TrustedCa.fromSecret` / `fromFile`) and the host name (`sni` and `subjectAltNames` = the host). A CA Secret must
   * be in the waypoint's namespace: Istio reads `credentialName` Secrets from the namespace of the proxy that uses
   * them. `OriginationTls.insecureWithoutVerification({ reason })` turns verification off and records the reason on
   * the DestinationRule. `OriginationTls.mutual` is refused: istiod serves a client key only to a proxy allowed to
   * read the Secrets of its namespace, which Istio does not grant waypoints.
   *
   * @see https://istio.io/latest/docs/ambient/usage/egress-gateway/#tls-origination
   * @default - none: the bytes the application sends leave the waypoint unchanged
   */
  readonly tlsOrigination?: OriginationTls;

  /**
   * The namespace of the ServiceEntry and its AuthorizationPolicies / DestinationRule. A namespace other than the
   * waypoint's must be in the waypoint's `allowedNamespaces`; the ServiceEntry then also carries
   * `istio.io/use-waypoint-namespace`.
   *
   * In ambient mode a ServiceEntry in an application namespace changes DNS and routing for the host for every ambient
   * pod of the mesh, not only for that namespace: ztunnel ignores `exportTo` (see `exportTo`).
   *
   * @default - the waypoint's namespace
   */
  readonly namespace?: string;

  /**
   * The ServiceEntry name; also the prefix of the AuthorizationPolicy (`<name>-<rule>`) and DestinationRule
   * (`<name>-tls`) names, and the construct id. A DNS label.
   *
   * @default - the host with dots replaced by dashes (`api.example.com` -> `api-example-com`, `*.example.com` ->
   * `wildcard-example-com`); a name longer than 63 characters is cut to 54 and ends in `-` plus 8 hex digits of the
   * SHA-256 of the full name
   */
  readonly name?: string;

  /**
   * Namespaces the ServiceEntry is exported to (`exportTo`). Must include the waypoint's namespace (or `*`).
   *
   * In ambient mode this is configuration scoping, not isolation: ztunnel ignores `exportTo` (Istio 1.30,
   * istio/istio#55163, istio/api#3729), so every ambient pod of the mesh resolves the host to the ServiceEntry's
   * address and is sent to the waypoint, whatever this list says. Who may use the host is decided by its allow rules
   * alone. The list still limits which sidecars and proxies of other namespaces receive the ServiceEntry.
   *
   * @default - the ServiceEntry's own namespace (`.`), the waypoint's namespace, and the namespaces of the identities
   * the host's allow rules name; `*` if a rule allows `WorkloadIdentity.anyInMesh()`
   */
  readonly exportTo?: string[];
}

/**
 * Properties of an `EgressWaypointHost`.
 */
export interface EgressWaypointHostProps extends EgressWaypointHostOptions {
  /** The waypoint the host is bound to: an `AmbientEgressWaypoint` or one from `AmbientEgressWaypoint.fromAttributes`. */
  readonly waypoint: EgressWaypointBase;

  /** The external host name (`api.example.com` or `*.example.com`). */
  readonly host: string;
}

/**
 * One external host of an egress waypoint: a ServiceEntry bound to the waypoint, its allow rules
 * (AuthorizationPolicies) and, with TLS origination, a DestinationRule. Create it with `addHost` on the waypoint.
 *
 * Generated names (all in `namespace`): ServiceEntry `<serviceEntryName>`, AuthorizationPolicy
 * `<serviceEntryName>-<rule>`, DestinationRule `<serviceEntryName>-tls`. The ServiceEntry is the construct's default
 * child (id `Resource`), so `ApiObject.of(host)` returns it.
 *
 * @see https://istio.io/latest/docs/reference/config/networking/service-entry/
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/
 */
export class EgressWaypointHost extends Construct {
  /** The host. */
  public readonly host: ExternalHost;

  /** The ServiceEntry ports (with `targetPort` 443 filled in for TLS origination). */
  public readonly ports: EgressPort[];

  /** The resolution. */
  public readonly resolution: WaypointHostResolution;

  /** The namespace of the ServiceEntry, its AuthorizationPolicies and DestinationRule. */
  public readonly namespace: string;

  /** The ServiceEntry name. */
  public readonly serviceEntryName: string;

  /** The DestinationRule name, when the waypoint originates TLS. */
  public readonly destinationRuleName?: string;

  /** The ServiceEntry (escape hatch). */
  public readonly serviceEntry: ApiObject;

  /** The TLS origination DestinationRule, when the waypoint originates TLS (escape hatch). */
  public readonly destinationRule?: ApiObject;

  /** The waypoint the host is bound to. */
  public readonly waypoint: EgressWaypointBase;

  private readonly rules = new Map<string, WorkloadIdentity[]>();
  private readonly policies: ApiObject[] = [];
  private readonly ruleKeys: string[] = [];

  public constructor(scope: Construct, id: string, props: EgressWaypointHostProps) {
    super(scope, id);
    MeshRegistry.of(this).register(this);
    props = inField(this, 'props', () => requireStruct<EgressWaypointHostProps>(props, 'EgressWaypointHostProps'));
    this.waypoint = inField(this, 'waypoint', () =>
      requireImplements<EgressWaypointBase>(
        props.waypoint,
        'AmbientEgressWaypoint',
        ['_registerHost', '_claimName', '_hostAnnotations'],
        'new AmbientEgressWaypoint(...) or AmbientEgressWaypoint.fromAttributes(...)',
      ),
    );
    this.host = inField(this, 'host', () => ExternalHost.of(requireString(props.host, 'api.example.com')));
    this.serviceEntryName = props.name === undefined ? hostResourceName(this.host) : inField(this, 'name', () => validateDnsLabel(props.name!, 'ServiceEntry name'));
    this.namespace = inField(this, 'namespace', () => validateDnsLabel(props.namespace ?? this.waypoint.namespace, 'namespace'));
    this.resolution = this.validateResolution(props.resolution);
    const ports = inField(this, 'ports', () =>
      requireArray(props.ports ?? [EgressPort.tls(443)], { element: 'an EgressPort', each: (p) => requireInstance(p, EgressPort, 'EgressPort.tls(443)') }),
    );
    this.ports = this.validatePorts(ports, props.tlsOrigination);
    const tls = props.tlsOrigination === undefined ? undefined : validateWaypointTls(this, props.tlsOrigination);
    const exportTo = props.exportTo === undefined ? undefined : this.validateExportTo(props.exportTo);
    this.waypoint._registerHost(this);
    this.waypoint._claimName(this, 'name', 'ServiceEntry', this.namespace, this.serviceEntryName);

    // Only the ServiceEntries the library generates are bound to the waypoint (never the namespace: M1).
    const labels: { [key: string]: string } = { ...libraryLabels(this.waypoint.name), [USE_WAYPOINT]: this.waypoint.name };
    if (this.namespace !== this.waypoint.namespace) {
      labels[USE_WAYPOINT_NAMESPACE] = this.waypoint.namespace;
    }
    this.serviceEntry = istioObject(this, 'Resource', ServiceEntry, {
      metadata: { name: this.serviceEntryName, namespace: this.namespace, labels, annotations: this.waypoint._hostAnnotations(this.host) },
      spec: {
        hosts: [this.host.name],
        location: ServiceEntrySpecLocation.MESH_UNDERSCORE_EXTERNAL,
        ports: this.ports.map((p) => ({ number: p.number, name: p.name, protocol: p.protocol, targetPort: p.targetPort })),
        resolution: RESOLUTION[this.resolution],
        exportTo: exportTo ?? (Lazy.any({ produce: () => this.defaultExportTo() }) as unknown as string[]),
      },
    });
    this.node.addValidation({
      validate: () =>
        this.rules.size > 0
          ? []
          : [
            `host "${this.host.name}" has no allow rule: a ServiceEntry bound to a waypoint with no ALLOW AuthorizationPolicy lets every client through; ` +
                'add one with the host\'s allow method (WorkloadIdentity.anyInMesh allows every workload explicitly)',
          ],
    });

    if (tls) {
      this.destinationRuleName = dnsLabelName([this.serviceEntryName, 'tls']);
      this.destinationRule = addWaypointTlsOrigination(this, tls, this.destinationRuleName, this.consumerNamespaces());
    }
  }

  /** The names of the allow rules, in the order they were added. */
  public get ruleNames(): string[] {
    return [...this.rules.keys()];
  }

  /** The AuthorizationPolicies of the allow rules, in the order they were added (escape hatch). */
  public get authorizationPolicies(): ApiObject[] {
    return [...this.policies];
  }

  /**
   * Allows the given identities to use the host, optionally only some ports, HTTP methods and paths: one
   * AuthorizationPolicy `<serviceEntryName>-<name>` with `action: ALLOW`, attached to the ServiceEntry
   * (`targetRefs`). Rules add up: a request passes if any rule of the host matches it.
   *
   * On a wildcard host the rule is also bound to the names under the wildcard and never covers the more specific
   * hosts of the same waypoint, which have rules of their own: on HTTP ports with `to.operation.notHosts`, on TLS
   * ports with `when: connection.sni` (values: the wildcard, notValues: the more specific hosts).
   *
   * @param name the rule name, a DNS label unique within the host
   * @throws if an identity, port, method or path is invalid, or methods/paths are used on a non-HTTP port
   */
  public allow(name: string, options: WaypointAllowOptions): void {
    const field = `rule ${JSON.stringify(name)}`;
    inField(this, field, () => validateDnsLabel(name, 'rule name'));
    if (this.rules.has(name)) {
      fieldError(this, field, `rule "${name}" is already defined for host "${this.host.name}"; give each rule its own name`);
    }
    const { policy, identities, key } = addAllowRule(this, name, options);
    this.rules.set(name, identities);
    this.policies.push(policy);
    this.ruleKeys.push(key);
  }

  /**
   * A canonical text of this host's rules (who, ports, methods, paths), whatever their names and order, for the
   * app-wide registry to compare overlapping hosts.
   *
   * @internal
   */
  public _rulesKey(): string {
    return [...this.ruleKeys].sort().join('|');
  }

  private validateResolution(given: WaypointHostResolution | undefined): WaypointHostResolution {
    const resolution = inField(this, 'resolution', () =>
      checkEnum(given ?? (this.host.isWildcard ? WaypointHostResolution.DYNAMIC_DNS : WaypointHostResolution.DNS), WaypointHostResolution, 'WaypointHostResolution', 'resolution'),
    );
    if (this.host.isWildcard && resolution !== WaypointHostResolution.DYNAMIC_DNS) {
      fieldError(
        this,
        'resolution',
        `wildcard host "${this.host.name}" cannot use resolution ${resolution}: Istio rejects it ("hosts must be FQDN or contain only prefix wildcards if no endpoints are provided for resolution mode DNS"); ` +
          'use WaypointHostResolution.DYNAMIC_DNS (Istio >= 1.28) or list the exact hosts',
      );
    }
    if (!this.host.isWildcard && resolution === WaypointHostResolution.DYNAMIC_DNS) {
      fieldError(
        this,
        'resolution',
        `resolution DYNAMIC_DNS needs a wildcard host but "${this.host.name}" is exact (Istio: "host must be wildcarded for resolution mode DYNAMIC_DNS"); use WaypointHostResolution.DNS`,
      );
    }
    return resolution;
  }

  private validatePorts(given: EgressPort[], tls: OriginationTls | undefined): EgressPort[] {
    if (given.length === 0) {
      fieldError(this, 'ports', 'at least one port is required, e.g. from EgressPort.tls with 443 or EgressPort.http with 80');
    }
    given.forEach((port, i) => {
      const twin = given.findIndex((p) => p.number === port.number);
      if (twin < i && given[twin].protocol !== port.protocol) {
        fieldError(
          this,
          `ports[${i}]`,
          `port ${port.number} of host "${this.host.name}" is declared twice with different protocols (${given[twin].protocol} at ports[${twin}], ${port.protocol} here); ` +
            'a host port carries one protocol: keep one, or use another port number',
        );
      }
    });
    inField(this, 'ports', () => validateUniquePorts(given, 'ports'));
    if (this.resolution === WaypointHostResolution.DYNAMIC_DNS) {
      given.forEach((port, i) => this.checkDynamicDnsPort(port, i));
    }
    if (!tls) {
      return given;
    }
    if (this.host.isWildcard) {
      fieldError(
        this,
        'tlsOrigination',
        `TLS origination for wildcard host "${this.host.name}" is not supported: the server name is only known per request, so the certificate could not be checked against a fixed name; ` +
          'add each exact host you need with its own TLS origination',
      );
    }
    return given.map((port, i) => {
      if (!port.isHttp) {
        fieldError(
          this,
          `ports[${i}]`,
          `TLS origination needs HTTP from the application, but ${port.toString()} is not an HTTP port (the application already speaks ${port.protocol} there, so the waypoint would encrypt twice); ` +
            'use an HTTP port that targets 443 (EgressPort.http with 80 and targetPort 443), or drop tlsOrigination to pass the TLS through',
        );
      }
      return EgressPort.of({ number: port.number, protocol: port.protocol, name: port.name, targetPort: port.targetPort ?? 443 });
    });
  }

  private checkDynamicDnsPort(port: EgressPort, i: number): void {
    const version = this.waypoint.istioVersion;
    if (!DYNAMIC_DNS_PROTOCOLS.includes(port.protocol)) {
      fieldError(
        this,
        `ports[${i}]`,
        `wildcard host "${this.host.name}" (DYNAMIC_DNS) cannot have ${port.toString()}: Istio allows only HTTP, TLS, GRPC and HTTP2 ports for resolution DYNAMIC_DNS; ` +
          `use ${port.protocol === Protocol.HTTPS ? 'EgressPort.tls' : 'one of those'} or list the exact hosts`,
      );
    }
    if (!version.waypointDynamicDnsProtocols().includes(port.protocol)) {
      const releases = [IstioVersion.V1_28, IstioVersion.V1_29, IstioVersion.V1_30];
      const needed = releases.find((v) => v.waypointDynamicDnsProtocols().includes(port.protocol))!;
      fieldError(
        this,
        `ports[${i}]`,
        `wildcard host "${this.host.name}" with ${port.toString()} needs Istio >= ${needed} at a waypoint, but the waypoint's istioVersion is ${version}; ` +
          'upgrade Istio and set istioVersion, or list the exact hosts',
      );
    }
    if (port.protocol === Protocol.TLS && !this.waypoint.istiodWildcardTlsEnabled) {
      fieldError(
        this,
        `ports[${i}]`,
        `wildcard host "${this.host.name}" with ${port.toString()} needs istiod started with ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true, which Istio keeps off because the waypoint then ` +
          'routes on the SNI the client chooses (SNI spoofing, domain fronting); list the exact hosts, or enable the flag and set istiodWildcardTlsEnabled to true on the waypoint to accept the risk',
      );
    }
  }

  private validateExportTo(list: string[]): string[] {
    const given = inField(this, 'exportTo', () => requireArray(list, { element: 'a namespace', each: (e) => requireString(e, 'shop') }));
    if (given.length === 0) {
      fieldError(this, 'exportTo', 'an empty list exports to every namespace (Istio default); list the namespaces, or ["*"] to mean every namespace');
    }
    const seen = new Map<string, number>();
    given.forEach((entry, i) => {
      if (entry === '~') {
        fieldError(this, `exportTo[${i}]`, '"~" hides the ServiceEntry from every namespace, including the waypoint\'s, so nothing would use it; remove the host instead');
      }
      if (entry !== '*' && entry !== '.') {
        inField(this, `exportTo[${i}]`, () => validateDnsLabel(entry, 'namespace'));
      }
      const key = entry === this.namespace ? '.' : entry;
      const before = seen.get(key);
      if (before !== undefined) {
        fieldError(this, `exportTo[${i}]`, `"${entry}" repeats exportTo[${before}] ("." is the ServiceEntry's own namespace "${this.namespace}"); remove the duplicate`);
      }
      seen.set(key, i);
    });
    if (seen.has('*') && given.length > 1) {
      fieldError(this, 'exportTo', '"*" already means every namespace; it cannot be combined with other entries');
    }
    const waypointKey = this.waypoint.namespace === this.namespace ? '.' : this.waypoint.namespace;
    if (!seen.has('*') && !seen.has(waypointKey)) {
      fieldError(
        this,
        'exportTo',
        `the waypoint's namespace "${this.waypoint.namespace}" is missing, so the waypoint could not see the ServiceEntry; add ${JSON.stringify(waypointKey)}`,
      );
    }
    return [...given];
  }

  /** The namespaces that consume the host's DestinationRule: its own and the waypoint's. */
  private consumerNamespaces(): string[] {
    return mergeExportTo([[this.waypoint.namespace]], this.namespace);
  }

  /** The ServiceEntry's namespace, the waypoint's, and those of the identities its rules allow (`*` for any). */
  private defaultExportTo(): string[] {
    const identities = [...this.rules.values()].flat();
    return identities.some((i) => i.isAnyInMesh) ? ['*'] : mergeExportTo([[this.waypoint.namespace], exportToFor(identities, this.namespace)], this.namespace);
  }
}

const RESOLUTION: Record<WaypointHostResolution, ServiceEntrySpecResolution> = {
  [WaypointHostResolution.DNS]: ServiceEntrySpecResolution.DNS,
  [WaypointHostResolution.DNS_ROUND_ROBIN]: ServiceEntrySpecResolution.DNS_UNDERSCORE_ROUND_UNDERSCORE_ROBIN,
  [WaypointHostResolution.DYNAMIC_DNS]: ServiceEntrySpecResolution.DYNAMIC_UNDERSCORE_DNS,
};

/**
 * `api.example.com` -> `api-example-com`, `*.example.com` -> `wildcard-example-com`, at most 63 characters.
 *
 * @internal
 */
export function hostResourceName(host: ExternalHost): string {
  return dnsLabelName([hostToDnsLabel(host.name)]);
}
