import { Lazy, Yaml } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { Gateway as KubeGateway, GatewaySpecListenersAllowedRoutesNamespacesFrom } from '../../imports/gateway.networking.k8s.io';
import {
  DestinationRule,
  DestinationRuleSpecTrafficPolicyTlsMode,
  ServiceEntry,
  ServiceEntrySpecLocation,
  ServiceEntrySpecResolution,
} from '../../imports/networking.istio.io';
import { AuthorizationPolicy, AuthorizationPolicySpecAction } from '../../imports/security.istio.io';
import { validateDnsLabel } from '../core/dns';
import { fieldError, inField, requirePresent } from '../core/errors';
import { ExternalHost, properSuffixes } from '../core/host';
import { authorizationSources, WorkloadIdentity } from '../core/identity';
import { IstioVersion } from '../core/istio-version';
import { MeshSettings } from '../core/mesh';
import { dnsLabelName, hostToDnsLabel } from '../core/names';
import { OriginationTls } from '../core/origination-tls';
import { EgressPort, Protocol, validateUniquePorts } from '../core/port';
import { cpuUtilizationMetrics, EgressGatewayAutoscaling, resourceAmounts, validateScaling, WorkloadScaling } from '../core/workload-scaling';

const k8s = plus.k8s;

/** Label on a Service / ServiceEntry / namespace that sends its traffic through the named waypoint. */
const USE_WAYPOINT = 'istio.io/use-waypoint';
/** Label naming the waypoint's namespace when it differs from the labelled resource's (Istio >= 1.23). */
const USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace';
/** Label on a waypoint Gateway that says which traffic it handles. */
const WAYPOINT_FOR = 'istio.io/waypoint-for';
/** Label Istio puts on the pods it deploys for a Gateway. */
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
/** Kubernetes' immutable namespace name label. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** The HBONE port ztunnel connects to on a waypoint. */
const HBONE_PORT = 15008;
/** Protocols Istio accepts on a DYNAMIC_DNS ServiceEntry in its newest release (validation.go). */
const DYNAMIC_DNS_PROTOCOLS = [Protocol.HTTP, Protocol.TLS, Protocol.GRPC, Protocol.HTTP2];

/**
 * An ambient-mode egress waypoint: the Envoy proxy that traffic to registered external hosts passes through, where
 * Istio enforces L7 policy and originates TLS. Either one defined by `AmbientEgressWaypoint`, or an existing one
 * described with `AmbientEgressWaypoint.fromAttributes`.
 *
 * Other constructs read what they need from here, e.g. a NetworkPolicy that lets application pods reach the waypoint
 * pods (`selectorLabels`) on the HBONE port (`hbonePort`).
 */
export interface IEgressWaypoint extends IConstruct {
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
}

/**
 * Describes a waypoint that already exists (e.g. made with `istioctl waypoint apply`).
 */
export interface EgressWaypointAttributes {
  /** Namespace of the waypoint Gateway. */
  readonly namespace: string;

  /** Name of the waypoint Gateway. */
  readonly name: string;
}

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
   * Namespaces the ServiceEntry is visible to (`exportTo`). Must include the waypoint's namespace (or `*`).
   *
   * Clients that cannot see the ServiceEntry are not sent to the waypoint: their traffic goes straight to the
   * internet unless a NetworkPolicy stops it.
   *
   * @default - the ServiceEntry's own namespace (`.`), the waypoint's namespace, and the namespaces of the identities
   * the host's allow rules name; `*` if a rule allows `WorkloadIdentity.anyInMesh()`
   */
  readonly exportTo?: string[];
}

/**
 * What one allow rule of a host permits. The rule becomes one AuthorizationPolicy (`action: ALLOW`) attached to the
 * host's ServiceEntry; a request is allowed when it matches any rule of the host.
 */
export interface WaypointAllowOptions {
  /**
   * Who may use the host. At least one: there is no implicit "everyone"; write `WorkloadIdentity.anyInMesh()` to allow
   * every workload with a mesh identity.
   */
  readonly identities: WorkloadIdentity[];

  /**
   * Client ports of the host (ServiceEntry port numbers) the rule allows.
   *
   * @default - every port of the host
   */
  readonly ports?: number[];

  /**
   * HTTP methods allowed, upper case (`GET`). Only on HTTP ports.
   *
   * @default - any method
   */
  readonly methods?: string[];

  /**
   * HTTP paths allowed: exact (`/get`), prefix (`/api/*`), suffix (`*.json`) or `*`. Only on HTTP ports. The query
   * string is not part of the path.
   *
   * @default - any path
   */
  readonly paths?: string[];
}

/**
 * An allow rule for a host named by its host name.
 */
export interface WaypointAllowProps extends WaypointAllowOptions {
  /** The host, exactly as given to `addHost`. */
  readonly host: string;
}

/**
 * Properties of an `EgressWaypointHost`.
 */
export interface EgressWaypointHostProps extends EgressWaypointHostOptions {
  /** The waypoint the host is bound to. */
  readonly waypoint: AmbientEgressWaypoint;

  /** The external host name (`api.example.com` or `*.example.com`). */
  readonly host: string;
}

/**
 * Properties of an ambient egress waypoint.
 */
export interface AmbientEgressWaypointProps {
  /**
   * The namespace of the waypoint.
   *
   * @default "istio-egress"
   */
  readonly namespace?: string;

  /**
   * The waypoint's name: its Gateway, and the Deployment, Service, ServiceAccount, HorizontalPodAutoscaler and
   * PodDisruptionBudget Istio creates for it. A DNS label.
   *
   * @default "egress-waypoint"
   */
  readonly name?: string;

  /**
   * Define the namespace too, labelled `istio.io/dataplane-mode: ambient` and `istio.io/use-waypoint: <name>` (every
   * Service and ServiceEntry of the namespace then uses the waypoint). Set false when the namespace is managed
   * elsewhere; give it those labels there.
   *
   * @default true
   */
  readonly createNamespace?: boolean;

  /**
   * Other namespaces whose ServiceEntries (labelled `istio.io/use-waypoint` + `istio.io/use-waypoint-namespace`) may
   * use this waypoint: the Gateway listener's `allowedRoutes`. A ServiceEntry of a namespace not listed is not bound,
   * and its traffic bypasses the waypoint.
   *
   * @default - only the waypoint's own namespace (`allowedRoutes.namespaces.from: Same`)
   */
  readonly allowedNamespaces?: string[];

  /**
   * The Istio release the cluster runs; wildcard hosts (`DYNAMIC_DNS`) are checked against it.
   *
   * @default IstioVersion.V1_30
   */
  readonly istioVersion?: IstioVersion;

  /**
   * Declare that istiod runs with `ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true` (Istio >= 1.29), which wildcard
   * hosts with TLS ports need. Istio keeps it off by default because the waypoint then trusts the SNI the client
   * sends: a client allowed `*.example.com` can send `SNI: api.example.com` and reach any server that answers for it,
   * and domain fronting on shared CDNs reaches other sites behind the same address.
   *
   * @default false
   */
  readonly istiodWildcardTlsEnabled?: boolean;

  /**
   * Number of waypoint pods. Not with `autoscaling`.
   *
   * @default 2
   */
  readonly replicas?: number;

  /**
   * Scale the waypoint with a HorizontalPodAutoscaler on CPU (created by Istio from the parameters ConfigMap).
   *
   * @default - fixed `replicas`
   */
  readonly autoscaling?: EgressGatewayAutoscaling;

  /**
   * Minimum number of waypoint pods a voluntary disruption (node drain) must leave running: a PodDisruptionBudget,
   * created by Istio. Must be below the replica count (or `autoscaling.minReplicas`). 0 for none.
   *
   * @default - 1 when there are at least 2 replicas, else no PodDisruptionBudget
   */
  readonly minAvailable?: number;

  /**
   * CPU and memory of the waypoint proxy.
   *
   * @default - Istio's waypoint defaults (requests 100m CPU / 128Mi, limits 2 CPU / 1Gi)
   */
  readonly resources?: plus.ContainerResources;

  /**
   * Spread the waypoint pods across zones and nodes (`topologySpreadConstraints`, `ScheduleAnyway`).
   *
   * @default true
   */
  readonly spreadAcrossZones?: boolean;

  /**
   * Mesh settings (trust domain of the principals in AuthorizationPolicies).
   *
   * @default MeshSettings.defaults()
   */
  readonly mesh?: MeshSettings;
}

/**
 * An Istio ambient-mode egress waypoint with its external hosts and their policies.
 *
 * Defines:
 * - the waypoint: a Gateway API `Gateway` of class `istio-waypoint` (label `istio.io/waypoint-for: service`, one
 *   `mesh` listener on 15008/HBONE), `metadata.name` = `name`; istiod deploys the pods;
 * - a ConfigMap `<name>-config` referenced from `spec.infrastructure.parametersRef`, holding the overrides Istio
 *   (>= 1.26) applies to what it deploys: `deployment` (replicas, resources, zone spreading),
 *   `horizontalPodAutoscaler`, `podDisruptionBudget`;
 * - optionally the namespace, labelled for ambient and enrolled to the waypoint;
 * - per host (`addHost`): a ServiceEntry labelled `istio.io/use-waypoint`, one ALLOW AuthorizationPolicy per rule
 *   (`allow`) attached to it with `targetRefs`, and a DestinationRule when the waypoint originates TLS.
 *
 * Istio semantics to know:
 * - A ServiceEntry bound to a waypoint with **no** ALLOW policy lets every client through. Each host therefore needs
 *   at least one allow rule (checked at synth); once one exists, everything it does not match is denied (HTTP 403,
 *   or the connection is closed for TLS/TCP).
 * - Ambient egress does not enforce by itself: a client that does not resolve the host through Istio's DNS proxy, dials
 *   an IP directly, or runs while the waypoint is missing goes straight to the internet. Pair the waypoint with a
 *   NetworkPolicy that only lets application pods reach the waypoint (`selectorLabels`, `hbonePort`).
 * - The cluster needs ambient DNS capture (on by default since Istio 1.25) and IP auto-allocation for ServiceEntries
 *   (`PILOT_ENABLE_IP_AUTOALLOCATE`), which manifests cannot set: check a ServiceEntry's `status.addresses`.
 *
 * @see https://istio.io/latest/docs/ambient/usage/egress-gateway/
 * @see https://istio.io/latest/docs/ambient/usage/waypoint/
 */
export class AmbientEgressWaypoint extends Construct implements IEgressWaypoint {
  /**
   * A waypoint that already exists, e.g. for a NetworkPolicy that must let pods reach it.
   */
  public static fromAttributes(scope: Construct, id: string, attrs: EgressWaypointAttributes): IEgressWaypoint {
    return new ImportedEgressWaypoint(scope, id, attrs);
  }

  /** The namespace of the waypoint. */
  public readonly namespace: string;

  /** The waypoint's name (Gateway, and the Deployment, Service and ServiceAccount Istio creates). */
  public readonly name: string;

  /** The HBONE port of the waypoint pods (15008). */
  public readonly hbonePort: number = HBONE_PORT;

  /** The waypoint's identity: service account `<name>` in `<namespace>`. */
  public readonly identity: WorkloadIdentity;

  /** The Istio release the manifests are checked against. */
  public readonly istioVersion: IstioVersion;

  /** Whether istiod was declared to run with `ENABLE_WILDCARD_HOST_SERVICE_ENTRIES_FOR_TLS=true`. */
  public readonly istiodWildcardTlsEnabled: boolean;

  /** Mesh settings. */
  public readonly mesh: MeshSettings;

  /** The replica count, or undefined when autoscaled. */
  public readonly replicas?: number;

  private readonly routeNamespaces: string[];
  private readonly scaling: WorkloadScaling;
  private readonly hostList: EgressWaypointHost[] = [];
  /**
   * The hosts of `hostList` by host name, in the order added. A name is listed once when hosts are added with
   * `addHost`, but an `EgressWaypointHost` created directly skips that check.
   */
  private readonly hostsByName = new Map<string, EgressWaypointHost[]>();
  /** The first host of `hostList` with each ServiceEntry name. */
  private readonly hostByServiceEntryName = new Map<string, EgressWaypointHost>();
  /** For each proper suffix of a host's domain (`a.com` and `com` for `x.a.com` or `*.x.a.com`), the hosts under it. */
  private readonly hostsUnderSuffix = new Map<string, EgressWaypointHost[]>();
  private readonly resourceNames = new Map<string, string>();

  public constructor(scope: Construct, id: string, props: AmbientEgressWaypointProps = {}) {
    super(scope, id);
    this.mesh = props.mesh ?? MeshSettings.defaults();
    this.istioVersion = props.istioVersion ?? IstioVersion.V1_30;
    this.istiodWildcardTlsEnabled = props.istiodWildcardTlsEnabled ?? false;
    this.namespace = inField(this, 'namespace', () => validateDnsLabel(props.namespace ?? 'istio-egress', 'namespace'));
    this.name = inField(this, 'name', () => validateDnsLabel(props.name ?? 'egress-waypoint', 'waypoint name'));
    this.identity = WorkloadIdentity.serviceAccount(this.namespace, this.name);
    this.routeNamespaces = this.validateAllowedNamespaces(props.allowedNamespaces);
    this.scaling = validateScaling(this, props);
    this.replicas = this.scaling.replicas;

    if (props.createNamespace ?? true) {
      new k8s.KubeNamespace(this, 'Namespace', {
        metadata: {
          name: this.namespace,
          labels: { 'istio.io/dataplane-mode': 'ambient', [USE_WAYPOINT]: this.name },
        },
      });
    }

    const parametersName = dnsLabelName([this.name, 'config']);
    new k8s.KubeConfigMap(this, 'Parameters', {
      metadata: { name: parametersName, namespace: this.namespace },
      data: this.parameters(props),
    });

    const sameNamespaceOnly = this.routeNamespaces.length === 1;
    new KubeGateway(this, 'Resource', {
      metadata: { name: this.name, namespace: this.namespace, labels: { [WAYPOINT_FOR]: 'service' } },
      spec: {
        gatewayClassName: 'istio-waypoint',
        listeners: [
          {
            name: 'mesh',
            port: HBONE_PORT,
            protocol: 'HBONE',
            allowedRoutes: {
              namespaces: sameNamespaceOnly
                ? { from: GatewaySpecListenersAllowedRoutesNamespacesFrom.SAME }
                : {
                  from: GatewaySpecListenersAllowedRoutesNamespacesFrom.SELECTOR,
                  selector: { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: this.routeNamespaces }] },
                },
            },
          },
        ],
        infrastructure: { parametersRef: { group: '', kind: 'ConfigMap', name: parametersName } },
      },
    });
  }

  /** Labels of the waypoint pods: `gateway.networking.k8s.io/gateway-name: <name>`. */
  public get selectorLabels(): { [key: string]: string } {
    return { [GATEWAY_NAME_LABEL]: this.name };
  }

  /** The namespaces whose ServiceEntries may use the waypoint (own namespace first). */
  public get allowedNamespaces(): string[] {
    return [...this.routeNamespaces];
  }

  /** The hosts added so far, in the order they were added. */
  public get hosts(): EgressWaypointHost[] {
    return [...this.hostList];
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
    const host = this.hostsByName.get(props.host)?.[0];
    if (!host) {
      const known = this.hostList.map((h) => `"${h.host.name}"`).join(', ') || 'none';
      fieldError(this, `allow(${JSON.stringify(name)}).host`, `unknown host ${JSON.stringify(props.host)} (hosts: ${known}); add it with addHost() first`);
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
    if (!this.routeNamespaces.includes(host.namespace)) {
      fieldError(
        host,
        'namespace',
        `namespace "${host.namespace}" may not use waypoint ${this.namespace}/${this.name}: its listener only accepts ServiceEntries from ${this.routeNamespaces.join(', ')}, ` +
          `so the ServiceEntry would not be bound and traffic would bypass the waypoint; add "${host.namespace}" to the waypoint's allowedNamespaces`,
      );
    }
    // The index finds the overlapping hosts; only when one of them clashes is the whole list walked, in the order the
    // hosts were added, so the message names the same host as always.
    if (this.overlappingHosts(host.host).some((other) => host.ports.some((port) => clashingPort(other, port) !== undefined))) {
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
    this.hostList.push(host);
    addToList(this.hostsByName, host.host.name, host);
    if (!this.hostByServiceEntryName.has(host.serviceEntryName)) {
      this.hostByServiceEntryName.set(host.serviceEntryName, host);
    }
    for (const suffix of properSuffixes(host.host.domain)) {
      addToList(this.hostsUnderSuffix, suffix, host);
    }
  }

  /**
   * Claims a resource name in a namespace, failing if another resource of the waypoint has it.
   *
   * @internal
   */
  public _claimName(scope: IConstruct, field: string, kind: string, namespace: string, name: string): void {
    const key = `${kind}/${namespace}/${name}`;
    const owner = this.resourceNames.get(key);
    if (owner !== undefined) {
      fieldError(scope, field, `${kind} name "${namespace}/${name}" is already used by ${owner}; choose another name`);
    }
    this.resourceNames.set(key, scope.node.path);
  }

  /**
   * The hosts added so far that overlap `host` (`ExternalHost.overlaps`), found in time proportional to its labels
   * and the number found, as `HostSet` does: the hosts with its name, the wildcards `*.<d>` for each proper suffix `d`
   * of its domain (they cover it), and, for a wildcard `*.<d>`, the hosts under `d` (it covers them).
   */
  private overlappingHosts(host: ExternalHost): EgressWaypointHost[] {
    if (host.isAnyHost) {
      return this.hostList;
    }
    const found = [...(this.hostsByName.get(host.name) ?? []), ...(this.hostsByName.get('*') ?? [])];
    for (const suffix of properSuffixes(host.domain)) {
      found.push(...(this.hostsByName.get(`*.${suffix}`) ?? []));
    }
    if (host.isWildcard) {
      found.push(...(this.hostsUnderSuffix.get(host.domain) ?? []));
    }
    return found;
  }

  private validateAllowedNamespaces(given: string[] | undefined): string[] {
    const namespaces = [this.namespace];
    (given ?? []).forEach((ns, i) => {
      const value = inField(this, `allowedNamespaces[${i}]`, () => validateDnsLabel(requirePresent(ns, 'a namespace'), 'namespace'));
      if (namespaces.includes(value)) {
        fieldError(this, `allowedNamespaces[${i}]`, `namespace "${value}" is listed twice (the waypoint's own namespace is always allowed); remove the duplicate`);
      }
      namespaces.push(value);
    });
    return [namespaces[0], ...namespaces.slice(1).sort()];
  }

  /** The ConfigMap data Istio merges (strategic merge patch) into the resources it deploys for the waypoint. */
  private parameters(props: AmbientEgressWaypointProps): { [key: string]: string } {
    const data: { [key: string]: string } = {};
    const podSpec: any = {};
    const resources = resourceAmounts(props.resources);
    if (resources) {
      podSpec.containers = [{ name: 'istio-proxy', resources }];
    }
    if (props.spreadAcrossZones ?? true) {
      // One selector object per constraint: a shared one would be written as a YAML anchor and alias.
      podSpec.topologySpreadConstraints = ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: this.selectorLabels },
      }));
    }
    const deploymentSpec: any = {};
    if (this.replicas !== undefined) {
      deploymentSpec.replicas = this.replicas;
    }
    if (Object.keys(podSpec).length > 0) {
      deploymentSpec.template = { spec: podSpec };
    }
    if (Object.keys(deploymentSpec).length > 0) {
      data.deployment = Yaml.stringify({ spec: deploymentSpec });
    }
    const { autoscaling, minAvailable } = this.scaling;
    if (autoscaling) {
      data.horizontalPodAutoscaler = Yaml.stringify({
        spec: { minReplicas: autoscaling.minReplicas, maxReplicas: autoscaling.maxReplicas, metrics: cpuUtilizationMetrics(autoscaling) },
      });
    }
    if (minAvailable > 0) {
      data.podDisruptionBudget = Yaml.stringify({ spec: { minAvailable, selector: { matchLabels: this.selectorLabels } } });
    }
    return data;
  }
}

/**
 * One external host of an `AmbientEgressWaypoint`: a ServiceEntry bound to the waypoint, its allow rules
 * (AuthorizationPolicies) and, with TLS origination, a DestinationRule. Create it with `AmbientEgressWaypoint.addHost`.
 *
 * Generated names (all in `namespace`): ServiceEntry `<serviceEntryName>`, AuthorizationPolicy
 * `<serviceEntryName>-<rule>`, DestinationRule `<serviceEntryName>-tls`.
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

  private readonly waypoint: AmbientEgressWaypoint;
  private readonly rules = new Map<string, WorkloadIdentity[]>();

  public constructor(scope: Construct, id: string, props: EgressWaypointHostProps) {
    super(scope, id);
    this.waypoint = props.waypoint;
    this.host = inField(this, 'host', () => ExternalHost.of(props.host));
    this.serviceEntryName = props.name === undefined ? hostResourceName(this.host) : inField(this, 'name', () => validateDnsLabel(props.name!, 'ServiceEntry name'));
    this.namespace = inField(this, 'namespace', () => validateDnsLabel(props.namespace ?? this.waypoint.namespace, 'namespace'));
    this.resolution = this.validateResolution(props.resolution);
    this.ports = this.validatePorts(props.ports ?? [EgressPort.tls(443)], props.tlsOrigination);
    const tls = props.tlsOrigination === undefined ? undefined : this.validateTls(props.tlsOrigination);
    const exportTo = props.exportTo === undefined ? undefined : this.validateExportTo(props.exportTo);
    this.waypoint._registerHost(this);
    this.waypoint._claimName(this, 'name', 'ServiceEntry', this.namespace, this.serviceEntryName);

    const labels: { [key: string]: string } = { [USE_WAYPOINT]: this.waypoint.name };
    if (this.namespace !== this.waypoint.namespace) {
      labels[USE_WAYPOINT_NAMESPACE] = this.waypoint.namespace;
    }
    new ServiceEntry(this, 'Resource', {
      metadata: { name: this.serviceEntryName, namespace: this.namespace, labels },
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
                'add one with allow() (use WorkloadIdentity.anyInMesh() to allow every workload explicitly)',
          ],
    });

    if (tls) {
      this.destinationRuleName = dnsLabelName([this.serviceEntryName, 'tls']);
      this.waypoint._claimName(this, 'tlsOrigination', 'DestinationRule', this.namespace, this.destinationRuleName);
      new DestinationRule(this, 'TlsOrigination', {
        metadata: { name: this.destinationRuleName, namespace: this.namespace, annotations: tls._annotations },
        spec: {
          host: this.host.name,
          exportTo: this.consumerNamespaces(),
          trafficPolicy: { tls: tls._renderClientTls(this.host.name, DestinationRuleSpecTrafficPolicyTlsMode) },
        },
      });
    }
  }

  /** The names of the allow rules, in the order they were added. */
  public get ruleNames(): string[] {
    return [...this.rules.keys()];
  }

  /**
   * Allows the given identities to use the host, optionally only some ports, HTTP methods and paths: one
   * AuthorizationPolicy `<serviceEntryName>-<name>` with `action: ALLOW`, attached to the ServiceEntry
   * (`targetRefs`). Rules add up: a request passes if any rule of the host matches it.
   *
   * @param name the rule name, a DNS label unique within the host
   * @throws if an identity, port, method or path is invalid, or methods/paths are used on a non-HTTP port
   */
  public allow(name: string, options: WaypointAllowOptions): void {
    const field = `allow(${JSON.stringify(name)})`;
    inField(this, field, () => validateDnsLabel(name, 'rule name'));
    if (this.rules.has(name)) {
      fieldError(this, field, `rule "${name}" is already defined for host "${this.host.name}"; give each rule its own name`);
    }
    const identities = (options.identities ?? []).map((id, i) => inField(this, `${field}.identities[${i}]`, () => requirePresent(id, 'an identity')));
    const from = inField(this, `${field}.identities`, () => authorizationSources(identities, this.waypoint.mesh));
    const ports = this.rulePorts(field, options.ports);
    const methods = this.ruleMethods(field, options.methods);
    const paths = this.rulePaths(field, options.paths);
    if (methods || paths) {
      const nonHttp = (ports ?? this.ports.map((p) => p.number)).map((n) => this.ports.find((p) => p.number === n)!).filter((p) => !p.isHttp);
      if (nonHttp.length > 0) {
        fieldError(
          this,
          methods ? `${field}.methods` : `${field}.paths`,
          `HTTP methods and paths only apply to HTTP ports, but the rule covers ${nonHttp.map((p) => p.toString()).join(', ')} of host "${this.host.name}", where the waypoint cannot see requests ` +
            '(an ALLOW rule with HTTP conditions never matches there); restrict the rule with ports to the HTTP ports, or originate TLS at the waypoint on an HTTP port',
        );
      }
    }
    const policyName = dnsLabelName([this.serviceEntryName, name]);
    this.waypoint._claimName(this, field, 'AuthorizationPolicy', this.namespace, policyName);
    this.rules.set(name, identities);

    const operation = ports || methods || paths ? { ports: ports?.map(String), methods, paths } : undefined;
    new AuthorizationPolicy(this, `Allow-${name}`, {
      metadata: { name: policyName, namespace: this.namespace },
      spec: {
        targetRefs: [{ group: 'networking.istio.io', kind: 'ServiceEntry', name: this.serviceEntryName }],
        action: AuthorizationPolicySpecAction.ALLOW,
        rules: [{ from, to: operation ? [{ operation }] : undefined }],
      },
    });
  }

  private validateResolution(given: WaypointHostResolution | undefined): WaypointHostResolution {
    const resolution = given ?? (this.host.isWildcard ? WaypointHostResolution.DYNAMIC_DNS : WaypointHostResolution.DNS);
    if (!Object.values(WaypointHostResolution).includes(resolution)) {
      fieldError(this, 'resolution', `unsupported resolution ${JSON.stringify(resolution)}: use one of ${Object.values(WaypointHostResolution).join(', ')}`);
    }
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
      fieldError(this, 'ports', 'at least one port is required, e.g. EgressPort.tls(443) or EgressPort.http(80)');
    }
    given.forEach((port, i) => {
      inField(this, `ports[${i}]`, () => requirePresent(port, 'a port'));
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
            'use EgressPort.http(80, { targetPort: 443 }), or drop tlsOrigination to pass the TLS through',
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
          'routes on the SNI the client chooses (SNI spoofing, domain fronting); list the exact hosts, or enable the flag and set istiodWildcardTlsEnabled: true on the waypoint to accept the risk',
      );
    }
  }

  private validateExportTo(given: string[]): string[] {
    if (given.length === 0) {
      fieldError(this, 'exportTo', 'an empty list exports to every namespace (Istio default); list the namespaces, or ["*"] to mean every namespace');
    }
    const seen = new Map<string, number>();
    given.forEach((entry, i) => {
      requirePresent(entry, `${this.node.path}: exportTo[${i}]`);
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
    return this.namespace === this.waypoint.namespace ? ['.'] : ['.', this.waypoint.namespace];
  }

  private defaultExportTo(): string[] {
    const identities = [...this.rules.values()].flat();
    if (identities.some((i) => i.isAnyInMesh)) {
      return ['*'];
    }
    const others = new Set<string>();
    for (const ns of [this.waypoint.namespace, ...identities.map((i) => i.namespace!)]) {
      if (ns !== this.namespace) {
        others.add(ns);
      }
    }
    return ['.', ...[...others].sort()];
  }

  /** Checks the TLS origination for the waypoint, which reads `credentialName` Secrets from its own namespace. */
  private validateTls(tls: OriginationTls): OriginationTls {
    if (!(tls instanceof OriginationTls)) {
      fieldError(this, 'tlsOrigination', 'expected an OriginationTls, e.g. OriginationTls.simple()');
    }
    if (tls.presentsClientCertificate) {
      fieldError(
        this,
        'tlsOrigination',
        `${tls} cannot be originated at a waypoint: Istio reads the client certificate Secret (credentialName) from the waypoint's namespace ("${this.waypoint.namespace}"), ` +
          'and istiod hands its private key only to a proxy whose service account may read the Secrets there, which Istio does not grant the waypoints it deploys ' +
          '(granting it would let every namespace bound to the waypoint make it present the certificate); originate mutual TLS at an egress gateway ' +
          '(TlsOriginationEgress with OriginationTls.mutual), or verify the server only with OriginationTls.simple()',
      );
    }
    inField(this, 'tlsOrigination', () => tls._validate({ namespace: this.waypoint.namespace, kind: 'waypoint' }));
    return tls;
  }

  private rulePorts(field: string, given: number[] | undefined): number[] | undefined {
    if (given === undefined) {
      return undefined;
    }
    if (given.length === 0) {
      fieldError(this, `${field}.ports`, 'an empty list allows no port; omit ports to allow every port of the host');
    }
    given.forEach((n, i) => {
      if (!this.ports.some((p) => p.number === n)) {
        fieldError(
          this,
          `${field}.ports[${i}]`,
          `${JSON.stringify(n)} is not a port of host "${this.host.name}" (ports: ${this.ports.map((p) => p.number).join(', ')}); name the client port the ServiceEntry declares`,
        );
      }
      if (given.indexOf(n) !== i) {
        fieldError(this, `${field}.ports[${i}]`, `port ${n} is listed twice; remove the duplicate`);
      }
    });
    return [...given];
  }

  private ruleMethods(field: string, given: string[] | undefined): string[] | undefined {
    if (given === undefined) {
      return undefined;
    }
    if (given.length === 0) {
      fieldError(this, `${field}.methods`, 'an empty list would allow no method; omit methods to allow every method');
    }
    given.forEach((m, i) => {
      if (typeof m !== 'string' || !/^[A-Z][A-Z-]*$/.test(m)) {
        const fix = typeof m === 'string' && /^[A-Za-z][A-Za-z-]*$/.test(m) ? `write it in upper case ("${m.toUpperCase()}"): methods are compared exactly` : 'give an HTTP method such as "GET"';
        fieldError(this, `${field}.methods[${i}]`, `invalid method ${JSON.stringify(m)}; ${fix}`);
      }
      if (given.indexOf(m) !== i) {
        fieldError(this, `${field}.methods[${i}]`, `method "${m}" is listed twice; remove the duplicate`);
      }
    });
    return [...given];
  }

  private rulePaths(field: string, given: string[] | undefined): string[] | undefined {
    if (given === undefined) {
      return undefined;
    }
    if (given.length === 0) {
      fieldError(this, `${field}.paths`, 'an empty list would allow no path; omit paths to allow every path');
    }
    given.forEach((p, i) => {
      const problem = pathProblem(p);
      if (problem) {
        fieldError(this, `${field}.paths[${i}]`, `invalid path ${JSON.stringify(p)}: ${problem}`);
      }
      if (given.indexOf(p) !== i) {
        fieldError(this, `${field}.paths[${i}]`, `path "${p}" is listed twice; remove the duplicate`);
      }
    });
    return [...given];
  }
}

class ImportedEgressWaypoint extends Construct implements IEgressWaypoint {
  public readonly namespace: string;
  public readonly name: string;
  public readonly hbonePort: number = HBONE_PORT;
  public readonly identity: WorkloadIdentity;

  public constructor(scope: Construct, id: string, attrs: EgressWaypointAttributes) {
    super(scope, id);
    this.namespace = inField(this, 'namespace', () => validateDnsLabel(attrs.namespace, 'namespace'));
    this.name = inField(this, 'name', () => validateDnsLabel(attrs.name, 'waypoint name'));
    this.identity = WorkloadIdentity.serviceAccount(this.namespace, this.name);
  }

  public get selectorLabels(): { [key: string]: string } {
    return { [GATEWAY_NAME_LABEL]: this.name };
  }
}

const RESOLUTION: Record<WaypointHostResolution, ServiceEntrySpecResolution> = {
  [WaypointHostResolution.DNS]: ServiceEntrySpecResolution.DNS,
  [WaypointHostResolution.DNS_ROUND_ROBIN]: ServiceEntrySpecResolution.DNS_UNDERSCORE_ROUND_UNDERSCORE_ROBIN,
  [WaypointHostResolution.DYNAMIC_DNS]: ServiceEntrySpecResolution.DYNAMIC_UNDERSCORE_DNS,
};

/** The port of `host` with the number of `port` but another protocol, if any. */
function clashingPort(host: EgressWaypointHost, port: EgressPort): EgressPort | undefined {
  return host.ports.find((p) => p.number === port.number && p.protocol !== port.protocol);
}

function addToList<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) {
    map.set(key, [value]);
  } else {
    list.push(value);
  }
}

/** `api.example.com` -> `api-example-com`, `*.example.com` -> `wildcard-example-com`, at most 63 characters. */
function hostResourceName(host: ExternalHost): string {
  return dnsLabelName([hostToDnsLabel(host.name)]);
}

/** Why `path` is not an AuthorizationPolicy path Istio matches, or undefined. */
function pathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || path.length === 0) {
    return 'a path must be a non-empty string such as "/get"';
  }
  if (/\s/.test(path)) {
    return 'a path must not contain white space';
  }
  if (path.includes('?') || path.includes('#')) {
    return 'the path Istio matches never contains the query string or fragment; remove everything from "?" or "#"';
  }
  if (!path.startsWith('/') && !path.startsWith('*')) {
    return 'start it with "/" (exact or prefix match) or "*" (suffix match)';
  }
  const inner = path.replace(/\{\*\*?\}/g, '').slice(1, -1);
  if (path.length > 1 && inner.includes('*')) {
    return 'a "*" is only allowed as the first or last character (suffix or prefix match), or as a whole segment "{*}" / "{**}"';
  }
  return undefined;
}
