import { Lazy } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import {
  DestinationRule,
  DestinationRuleSpec,
  DestinationRuleSpecSubsetsTrafficPolicyPortLevelSettingsTlsMode,
  DestinationRuleSpecTrafficPolicyTlsMode,
} from '../../imports/networking.istio.io';
import { PeerAuthentication, PeerAuthenticationSpecMtlsMode } from '../../imports/security.istio.io';
import { Telemetry } from '../../imports/telemetry.istio.io';
import { requireArray, requireInstance, requireStruct } from '../core/boundary';
import { checkNotProxyPort, containerPortNameProblem, dns1035LabelProblem } from '../core/bounds';
import { validateDnsLabel, validateDnsSubdomain } from '../core/dns';
import { EgressPathConfig, IEgressPath } from '../core/egress-path';
import { fieldError, inField, problem } from '../core/errors';
import { WorkloadIdentity, WorkloadSelector } from '../core/identity';
import { istioObject } from '../core/istio-object';
import { MeshSettings } from '../core/mesh';
import { rejectReservedNamespace } from '../core/namespaces';
import { EgressPort, protocolFromPortName, validateUniquePorts } from '../core/port';
import { MeshRegistry } from '../core/registry';
import { libraryLabels, mergeExportTo } from '../core/visibility';

/**
 * An Istio egress gateway: the pods that every allowed connection leaves the mesh through, and the Service that
 * sidecars send it to. Either one defined by `EgressGateway`, or an existing one (e.g. installed by Istio's
 * `gateway` Helm chart) described with `EgressGateway.fromAttributes`.
 *
 * Constructs that route through a gateway read everything they need from here, so a namespace, label or port is
 * never typed twice.
 */
export interface IEgressGateway extends IConstruct, IEgressPath {
  /** The namespace of the gateway's pods and Service. */
  readonly namespace: string;

  /** The name of the gateway's Kubernetes Service. */
  readonly serviceName: string;

  /**
   * Labels that select exactly this gateway's pods: used for Istio `Gateway.selector`, EnvoyFilter and
   * PeerAuthentication `workloadSelector`/`selector`, and NetworkPolicy `podSelector`.
   */
  readonly selectorLabels: { [key: string]: string };

  /**
   * The gateway's Service ports. `number` is the Service port sidecars connect to and what an Istio `Gateway`
   * server names (istiod binds the listener on the matching target port); `targetPort` is the port the gateway pods
   * listen on (what EnvoyFilter listener matches, AuthorizationPolicy ports and NetworkPolicies name).
   */
  readonly ports: EgressPort[];

  /** The identity the gateway pods run as, when known. @default - unknown (an existing gateway whose service account was not given) */
  readonly identity?: WorkloadIdentity;

  /** Mesh settings the gateway was defined with (cluster domain for its Service name). */
  readonly mesh: MeshSettings;

  /** The gateway Service's fully qualified name: `<service>.<namespace>.svc.<clusterDomain>`. */
  readonly serviceFqdn: string;

  /** The gateway's pods, as an Istio workload selector. */
  readonly workloadSelector: WorkloadSelector;

  /**
   * Lets the gateway read TLS credentials (Kubernetes Secrets) of its own namespace, as Istio requires for a
   * `credentialName` on a gateway (istiod checks that the gateway's service account may read the Secret).
   * Idempotent. An existing gateway keeps the RBAC its installation gave it: this does nothing for it.
   */
  grantCredentialAccess(): void;

  /**
   * The gateway port with the given Service port number.
   *
   * @throws if the gateway has no such port
   */
  findPort(number: number): EgressPort;

  /**
   * Reserves a gateway port for one construct's listener configuration, so two constructs never program the same
   * gateway port (their routes and EnvoyFilters would fight over it).
   *
   * @param number the Service port number
   * @param claimant the construct that configures the port
   * @returns the port
   * @throws if the gateway has no such port, or another construct claimed it
   */
  claimPort(number: number, claimant: IConstruct): EgressPort;

  /**
   * Adds a subset to the gateway's one mesh-side DestinationRule (`<service>-clients`, in the gateway's namespace,
   * host = the gateway Service): sidecars that route to the subset reach the gateway over Istio mTLS
   * (`ISTIO_MUTUAL`) presenting `sni`, which the gateway's server matches. Every construct routing through the
   * gateway adds its subsets here, because Istio merges DestinationRules of one host only when their `exportTo`
   * agree: with one rule per construct, clients would see only one of them.
   *
   * @throws if a subset of that name exists, or a port is not a gateway port
   */
  addClientSubset(subset: GatewayClientSubset): void;

  /**
   * Declares Istio mutual TLS `STRICT` for the gateway pods (PeerAuthentication with a selector for this gateway, in
   * its namespace, named `<service>-strict-mtls`). Idempotent.
   *
   * Istio applies PeerAuthentication to sidecar inbound listeners; a gateway proxy has none, so on the gateway's own
   * listeners mutual TLS is enforced by the `ISTIO_MUTUAL` Gateway servers the constructs define, and this policy
   * records the intent (and keeps `istioctl x describe` and policy audits truthful). The pods' status and metrics
   * ports (15021, 15020, 15090) stay plain text either way.
   */
  requireMutualTls(): void;

  /**
   * Turns on Envoy access logging for the gateway pods only (Telemetry with a selector for this gateway, in its
   * namespace, named `<service>-access-log`; never mesh-wide). Idempotent.
   *
   * @param provider the extension provider to log with
   * @default "envoy" (Istio's built-in stdout provider)
   */
  enableAccessLogging(provider?: string): void;
}

/**
 * A subset of the gateway's mesh-side DestinationRule: how client sidecars reach the gateway for one route.
 */
export interface GatewayClientSubset {
  /** Subset name (a DNS-1123 label), unique per gateway. Routes name it in `destination.subset`. */
  readonly name: string;

  /** The SNI client sidecars present in their Istio mTLS handshake; the gateway server's hosts must match it. */
  readonly sni: string;

  /** The gateway Service ports the subset is used on. */
  readonly ports: number[];

  /**
   * The namespaces whose sidecars use the subset, as `exportTo` values (`.` the gateway's namespace, `*` all). The
   * rule is exported to the union over all subsets.
   */
  readonly exportTo: string[];
}


/**
 * Describes an egress gateway that already exists, e.g. one installed by Istio's `gateway` Helm chart.
 */
export interface EgressGatewayAttributes {
  /** Namespace of the gateway pods and Service. */
  readonly namespace: string;

  /** Name of the gateway's Service. */
  readonly serviceName: string;

  /**
   * Labels that select exactly the gateway's pods (and no other gateway's): e.g. `{ istio: 'egressgateway' }`.
   */
  readonly selectorLabels: { [key: string]: string };

  /**
   * The gateway Service's ports. As in a Kubernetes Service, a port without `targetPort` targets the same port on the
   * pods: Istio's `gateway` Helm chart listens on the Service ports themselves (443 -> 443), while the
   * `istio-egressgateway` of `istioctl install` maps 80 -> 8080 and 443 -> 8443, so set `targetPort` for that one.
   * The pod port matters: EnvoyFilter listener matches, AuthorizationPolicy ports and NetworkPolicies name it.
   */
  readonly ports: EgressPort[];

  /**
   * The service account the gateway pods run as.
   *
   * @default - unknown
   */
  readonly serviceAccountName?: string;

  /**
   * Mesh settings.
   *
   * @default MeshSettings.defaults()
   */
  readonly mesh?: MeshSettings;
}

/**
 * Common behaviour of defined and existing egress gateways.
 */
export abstract class EgressGatewayBase extends Construct implements IEgressGateway {
  public abstract readonly namespace: string;
  public abstract readonly serviceName: string;
  public abstract readonly ports: EgressPort[];
  public abstract readonly identity?: WorkloadIdentity;
  public abstract readonly mesh: MeshSettings;
  /** The labels of the gateway pods that select them. */
  protected abstract readonly podLabels: { [key: string]: string };

  private readonly clientSubsets = new Map<string, GatewayClientSubset>();
  private mtlsRequired = false;
  private accessLogProvider?: string;

  public get selectorLabels(): { [key: string]: string } {
    return { ...this.podLabels };
  }

  public get serviceFqdn(): string {
    return this.mesh.serviceFqdn(this.serviceName, this.namespace);
  }

  public get workloadSelector(): WorkloadSelector {
    return WorkloadSelector.fromLabels(this.podLabels);
  }

  public abstract grantCredentialAccess(): void;

  /**
   * The gateway pods on all their ports; no external port (the constructs routing through the gateway know those).
   */
  public toEgressPathConfig(): EgressPathConfig {
    const podPorts = this.ports.map((p) => p.podPort);
    return { namespace: this.namespace, podLabels: this.selectorLabels, podPorts, externalPorts: [] };
  }

  public claimPort(number: number, claimant: IConstruct): EgressPort {
    const port = this.findPort(number);
    MeshRegistry.of(this).claimProxyPort(claimant, `${this.namespace}/${this.serviceName}`, number);
    return port;
  }

  public addClientSubset(subset: GatewayClientSubset): void {
    validateDnsLabel(subset.name, 'subset name');
    if (this.clientSubsets.has(subset.name)) {
      throw problem(
        `egress gateway ${this.namespace}/${this.serviceName} ("${this.node.path}") already has a client subset "${subset.name}" ` +
          'from another construct; give each construct routing through the gateway its own name',
      );
    }
    if (subset.ports.length === 0) {
      throw new Error(`client subset "${subset.name}" needs at least one gateway port`);
    }
    subset.ports.forEach((p) => this.findPort(p));
    if (subset.exportTo.length === 0) {
      throw new Error(`client subset "${subset.name}" needs exportTo ("*" for all namespaces)`);
    }
    if (this.clientSubsets.size === 0) {
      istioObject(this, 'ClientDestinationRule', DestinationRule, {
        metadata: { name: `${this.serviceName}-clients`, namespace: this.namespace, labels: libraryLabels(this.serviceName) },
        spec: Lazy.any({ produce: () => this.renderClientRule() }) as any,
      });
    }
    this.clientSubsets.set(subset.name, { ...subset, ports: [...subset.ports], exportTo: [...subset.exportTo] });
  }

  public requireMutualTls(): void {
    if (this.mtlsRequired) {
      return;
    }
    this.mtlsRequired = true;
    istioObject(this, 'StrictMutualTls', PeerAuthentication, {
      metadata: { name: `${this.serviceName}-strict-mtls`, namespace: this.namespace, labels: libraryLabels(this.serviceName) },
      spec: { selector: { matchLabels: this.selectorLabels }, mtls: { mode: PeerAuthenticationSpecMtlsMode.STRICT } },
    });
  }

  private renderClientRule(): DestinationRuleSpec {
    const subsets = [...this.clientSubsets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const exportTo = mergeExportTo(subsets.map((s) => s.exportTo), this.namespace);
    return {
      host: this.serviceFqdn,
      exportTo,
      trafficPolicy: { tls: { mode: DestinationRuleSpecTrafficPolicyTlsMode.ISTIO_UNDERSCORE_MUTUAL } },
      subsets: subsets.map((s) => ({
        name: s.name,
        trafficPolicy: {
          portLevelSettings: s.ports.map((number) => ({
            port: { number },
            tls: { mode: DestinationRuleSpecSubsetsTrafficPolicyPortLevelSettingsTlsMode.ISTIO_UNDERSCORE_MUTUAL, sni: s.sni },
          })),
        },
      })),
    };
  }

  public enableAccessLogging(provider: string = 'envoy'): void {
    if (this.accessLogProvider !== undefined) {
      if (this.accessLogProvider !== provider) {
        throw new Error(
          `access logging of egress gateway ${this.namespace}/${this.serviceName} already uses provider "${this.accessLogProvider}", not "${provider}"; use one provider`,
        );
      }
      return;
    }
    if (typeof provider !== 'string' || provider.trim().length === 0) {
      throw new Error(`access log provider ${JSON.stringify(provider)} must be the name of an Istio extension provider, e.g. "envoy"`);
    }
    this.accessLogProvider = provider;
    istioObject(this, 'AccessLogging', Telemetry, {
      metadata: { name: `${this.serviceName}-access-log`, namespace: this.namespace, labels: libraryLabels(this.serviceName) },
      spec: { selector: { matchLabels: this.selectorLabels }, accessLogging: [{ providers: [{ name: provider }] }] },
    });
  }

  public findPort(number: number): EgressPort {
    const port = this.ports.find((p) => p.number === number);
    if (!port) {
      throw new Error(
        `egress gateway ${this.namespace}/${this.serviceName} has no port ${number} (it has ${this.ports.map((p) => p.number).join(', ')}); add it to the gateway's ports`,
      );
    }
    return port;
  }
}

/**
 * An egress gateway that exists outside this app (`EgressGateway.fromAttributes`). It defines no workload of its own;
 * client subsets, mutual TLS and access logging add their objects as for an `EgressGateway`.
 *
 * @internal
 */
export class ImportedEgressGateway extends EgressGatewayBase {
  public readonly namespace: string;
  public readonly serviceName: string;
  public readonly ports: EgressPort[];
  public readonly identity?: WorkloadIdentity;
  public readonly mesh: MeshSettings;
  protected readonly podLabels: { [key: string]: string };

  public constructor(scope: Construct, id: string, attrs: EgressGatewayAttributes) {
    super(scope, id);
    MeshRegistry.of(this).register(this);
    attrs = inField(this, 'attrs', () => requireStruct<EgressGatewayAttributes>(attrs, 'EgressGatewayAttributes'));
    this.mesh = meshOf(this, attrs.mesh);
    this.namespace = inField(this, 'namespace', () => validateDnsLabel(attrs.namespace, 'namespace'));
    this.serviceName = inField(this, 'serviceName', () => gatewayServiceName(attrs.serviceName, 'service name'));
    rejectReservedNamespace(this, 'namespace', this.namespace, this.mesh, 'an egress gateway');
    this.podLabels = inField(this, 'selectorLabels', () => WorkloadSelector.fromLabels(attrs.selectorLabels).labels);
    this.identity =
      attrs.serviceAccountName === undefined
        ? undefined
        : inField(this, 'serviceAccountName', () => WorkloadIdentity.serviceAccount(this.namespace, validateDnsSubdomain(attrs.serviceAccountName!, 'service account name')));
    if (attrs.ports === undefined || attrs.ports === null || (Array.isArray(attrs.ports) && attrs.ports.length === 0)) {
      fieldError(this, 'ports', 'an existing gateway needs at least one port; list its Service ports (e.g. from EgressPort.tls with port 443 and targetPort 8443)');
    }
    // As in a Kubernetes Service, a port without targetPort targets the same port number on the pods.
    this.ports = gatewayPorts(this, attrs.ports, 0);
  }

  public grantCredentialAccess(): void {
    // The installation that created the gateway owns its RBAC (Istio's Helm chart creates the SDS Role).
  }
}

/** Validates gateway ports and fills in target ports (port + lowPortOffset below 1024, else the port itself). @internal */
export function gatewayPorts(scope: IConstruct, ports: EgressPort[] | undefined, lowPortOffset: number): EgressPort[] {
  const given = inField(scope, 'ports', () =>
    requireArray(ports ?? [EgressPort.tls(443)], { element: 'an EgressPort', each: (p) => requireInstance(p, EgressPort, 'EgressPort.tls or another EgressPort factory') }),
  );
  if (given.length === 0) {
    fieldError(scope, 'ports', 'at least one port is required, e.g. from EgressPort.tls with 443');
  }
  const result = given.map((port, i) =>
    inField(scope, `ports[${i}]`, () => {
      if (protocolFromPortName(port.name) !== port.protocol) {
        throw problem(
          `port name "${port.name}" does not start with its protocol: Istio reads a Service port's protocol from the name; use e.g. "${port.protocol.toLowerCase()}-${port.number}"`,
        );
      }
      // The Deployment's container ports carry the same names: Kubernetes refuses names that are not IANA service names.
      const nameWhy = containerPortNameProblem(port.name);
      if (nameWhy) {
        throw problem(`port name "${port.name}" ${nameWhy}; the gateway's container port carries it, so shorten it (e.g. "${port.protocol.toLowerCase()}-${port.number}")`);
      }
      const targetPort = port.targetPort ?? (port.number < 1024 ? port.number + lowPortOffset : port.number);
      checkNotProxyPort(port.number, 'port');
      checkNotProxyPort(targetPort, 'target port');
      return EgressPort.of({ number: port.number, protocol: port.protocol, name: port.name, targetPort });
    }),
  );
  inField(scope, 'ports', () => validateUniquePorts(result, 'ports'));
  const targets = new Map<number, number>();
  result.forEach((p, i) => {
    const other = targets.get(p.targetPort!);
    if (other !== undefined) {
      fieldError(scope, `ports[${i}]`, `target port ${p.targetPort} is already used by ports[${other}]; each Service port needs its own pod port`);
    }
    targets.set(p.targetPort!, i);
  });
  return result;
}

/** A Kubernetes Service name: a DNS-1123 label that starts with a letter (DNS-1035). @internal */
export function gatewayServiceName(value: string, what: string): string {
  validateDnsLabel(value, what);
  const why = dns1035LabelProblem(value);
  if (why) {
    throw problem(`invalid ${what} "${value}": it ${why}; e.g. "egress-gateway"`);
  }
  return value;
}

/** The mesh settings given (a MeshSettings instance), or Istio's defaults. @internal */
export function meshOf(scope: IConstruct, mesh: MeshSettings | undefined): MeshSettings {
  return mesh === undefined ? MeshSettings.defaults() : inField(scope, 'mesh', () => requireInstance(mesh, MeshSettings, 'the MeshSettings constructor'));
}
