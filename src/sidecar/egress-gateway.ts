import { ApiObject, Lazy } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import {
  DestinationRule,
  DestinationRuleSpec,
  DestinationRuleSpecSubsetsTrafficPolicyPortLevelSettingsTlsMode,
  DestinationRuleSpecTrafficPolicyTlsMode,
} from '../../imports/networking.istio.io';
import { PeerAuthentication, PeerAuthenticationSpecMtlsMode } from '../../imports/security.istio.io';
import { Telemetry } from '../../imports/telemetry.istio.io';
import { requireArray, requireBoolean, requireInstance, requireStruct } from '../core/boundary';
import { checkNotProxyPort, containerPortNameProblem, dns1035LabelProblem } from '../core/bounds';
import { validateDnsLabel, validateDnsSubdomain } from '../core/dns';
import { EgressPathConfig, IEgressPath } from '../core/egress-path';
import { fieldError, inField, problem } from '../core/errors';
import { WorkloadIdentity, WorkloadSelector } from '../core/identity';
import { MeshSettings } from '../core/mesh';
import { rejectReservedNamespace } from '../core/namespaces';
import { EgressPort, protocolFromPortName, validateUniquePorts } from '../core/port';
import { MeshRegistry } from '../core/registry';
import { libraryLabels, mergeExportTo } from '../core/visibility';
import { checkResourceTypes, cpuUtilizationMetrics, ProxyWorkloadOptions, resourceAmounts, validateScaling } from '../core/workload-scaling';

const k8s = plus.k8s;

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
 * Properties for a new egress gateway.
 */
export interface EgressGatewayProps extends ProxyWorkloadOptions {
  /**
   * Namespace of the gateway: one of its own. Istio's root and istiod namespaces, `kube-system`, `kube-public` and
   * `default` are refused. It must exist (or set `createNamespace`) and must not disable sidecar injection (the
   * gateway pods are injected with Istio's `gateway` template).
   *
   * @default "istio-egress"
   */
  readonly namespace?: string;

  /**
   * Define the namespace too, labelled `istio-injection: enabled` so Istio's injector (default revision) injects
   * the gateway pods, and the app applies with one `kubectl apply`. Leave it off when the namespace is managed
   * elsewhere, or when the mesh uses revisions (label that namespace `istio.io/rev: <revision>` there).
   *
   * @default false
   */
  readonly createNamespace?: boolean;

  /**
   * Name of the Deployment, Service and ServiceAccount: a DNS-1035 label (lower-case letters, digits and '-',
   * starting with a letter), as Kubernetes requires of Service names.
   *
   * @default "egress-gateway"
   */
  readonly name?: string;

  /**
   * The Service ports sidecars send egress traffic to. A port's `targetPort` is the port the proxy listens on; when
   * not set it is the port plus 8000 for ports below 1024 (443 -> 8443, as Istio's charts do: the proxy runs as
   * non-root and cannot bind low ports), else the port itself. Port names must start with the protocol
   * (`tls-...`, `http-...`): Istio reads a Service port's protocol from its name; they also name the container ports,
   * so at most 15 characters with no `--` (Kubernetes `IsValidPortName`). The Istio proxy's own ports (15000, 15001,
   * 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090) cannot be Service or target ports.
   *
   * @default - [EgressPort.tls(443)] (443 -> 8443)
   */
  readonly ports?: EgressPort[];

  /**
   * Node labels the gateway pods must run on, e.g. dedicated egress nodes with fixed public IPs.
   *
   * @default - any node
   */
  readonly nodeSelector?: { [key: string]: string };

  /**
   * Taints the gateway pods tolerate, e.g. the taint of dedicated egress nodes.
   *
   * @default - none
   */
  readonly tolerations?: plus.NodeTaintQuery[];

  /**
   * Priority class of the gateway pods.
   *
   * @default - the cluster default
   */
  readonly priorityClassName?: string;

  /**
   * Mesh settings (cluster domain, trust domain).
   *
   * @default MeshSettings.defaults()
   */
  readonly mesh?: MeshSettings;
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

/** Label that makes the selector of a gateway defined here unique in the cluster (namespace + name). */
export const GATEWAY_INSTANCE_LABEL = 'cdk8s-istio-egress/gateway';

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
      new DestinationRule(this, 'ClientDestinationRule', {
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
    new PeerAuthentication(this, 'StrictMutualTls', {
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
    new Telemetry(this, 'AccessLogging', {
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
 * A dedicated Istio egress gateway: Deployment injected with Istio's `gateway` template (`image: auto`), its own
 * ServiceAccount, a ClusterIP Service, a PodDisruptionBudget, optional HorizontalPodAutoscaler, zone spreading and
 * node placement for dedicated egress nodes.
 *
 * The pods run as non-root (1337) with every capability dropped, a read-only root filesystem and no privilege
 * escalation; no Kubernetes API token is mounted (`automountServiceAccountToken: false`). No RBAC is created unless
 * a construct needs the gateway to read a client key (`grantCredentialAccess()`, for mutual TLS origination).
 *
 * Use `EgressGateway.fromAttributes` for a gateway that already exists.
 *
 * @see https://istio.io/latest/docs/setup/additional-setup/gateway/#deploying-a-gateway
 */
export class EgressGateway extends EgressGatewayBase {
  /**
   * An egress gateway that already exists (installed by Istio's Helm chart, istioctl, or another app), named by its
   * namespace, pod labels, Service and ports.
   */
  public static fromAttributes(scope: Construct, id: string, attrs: EgressGatewayAttributes): IEgressGateway {
    return new ImportedEgressGateway(scope, id, attrs);
  }

  public readonly namespace: string;
  public readonly serviceName: string;
  public readonly ports: EgressPort[];
  public readonly identity?: WorkloadIdentity;
  public readonly mesh: MeshSettings;
  protected readonly podLabels: { [key: string]: string };

  /** The replica count, or undefined when autoscaled. */
  public readonly replicas?: number;

  /** The gateway Deployment (escape hatch; construct id `Resource`, so `ApiObject.of(gateway)` returns it). */
  public readonly deployment: ApiObject;

  /** The gateway Service, which sidecars send egress traffic to (escape hatch). */
  public readonly service: ApiObject;

  /** The gateway ServiceAccount, whose identity the gateway's proxy gets (escape hatch). */
  public readonly serviceAccount: ApiObject;

  /** The Namespace, when `createNamespace` is set (escape hatch). */
  public readonly namespaceObject?: ApiObject;

  private credentialAccess = false;

  public constructor(scope: Construct, id: string, props: EgressGatewayProps = {}) {
    super(scope, id);
    MeshRegistry.of(this).register('EgressGateway', this);
    props = inField(this, 'props', () => requireStruct<EgressGatewayProps>(props ?? {}, 'EgressGatewayProps'));
    this.mesh = meshOf(this, props.mesh);
    this.namespace = inField(this, 'namespace', () => validateDnsLabel(props.namespace ?? 'istio-egress', 'namespace'));
    this.serviceName = inField(this, 'name', () => serviceName(props.name ?? 'egress-gateway', 'gateway name'));
    rejectReservedNamespace(this, 'namespace', this.namespace, this.mesh, 'an egress gateway');
    const instance = `${this.serviceName}.${this.namespace}`;
    if (instance.length > 63) {
      fieldError(this, 'name', `gateway name and namespace "${instance}" are ${instance.length} characters together; the pod label allows 63, shorten the name`);
    }
    // Only a label unique to this gateway: a generic one (`istio: <name>`) would let Istio Gateways of other namespaces select
    // these pods (Gateway selectors are cluster-wide unless istiod runs with PILOT_SCOPE_GATEWAY_TO_NAMESPACE).
    this.podLabels = { [GATEWAY_INSTANCE_LABEL]: instance };
    this.identity = WorkloadIdentity.serviceAccount(this.namespace, this.serviceName);
    // Our pods run as non-root without the unprivileged-port sysctl: low Service ports target port + 8000.
    this.ports = gatewayPorts(this, props.ports, 8000);
    const scaling = validateScaling(this, props);
    this.replicas = scaling.replicas;
    const placement = this.placement(props);

    const metadata = { name: this.serviceName, namespace: this.namespace, labels: this.commonLabels() };

    if (props.createNamespace ?? false) {
      this.namespaceObject = new k8s.KubeNamespace(this, 'Namespace', { metadata: { name: this.namespace, labels: { 'istio-injection': 'enabled' } } });
    }

    // No Kubernetes API token in the pods: the proxy authenticates to istiod with the projected `istio-token` volume
    // of Istio's gateway injection template (audience istio-ca), not with the service account token, and nothing
    // in the pod calls the Kubernetes API. Code running in the gateway (which parses internet responses) gets no
    // API credentials.
    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata, automountServiceAccountToken: false });

    this.deployment = new k8s.KubeDeployment(this, 'Resource', {
      metadata,
      spec: {
        replicas: this.replicas,
        selector: { matchLabels: this.selectorLabels },
        template: {
          metadata: {
            annotations: {
              // Istio injects the whole proxy from its `gateway` template: this is what `image: auto` refers to.
              'inject.istio.io/templates': 'gateway',
            },
            // `app.kubernetes.io/version` (with `.../name`) gives the pods Istio's canonical revision label for
            // telemetry; `latest` is Istio's own default revision.
            labels: { ...this.commonLabels(), 'app.kubernetes.io/version': 'latest', 'sidecar.istio.io/inject': 'true' },
          },
          spec: {
            serviceAccountName: this.serviceName,
            automountServiceAccountToken: false,
            nodeSelector: placement.nodeSelector,
            tolerations: this.tolerations(props.tolerations),
            priorityClassName: placement.priorityClassName,
            topologySpreadConstraints: placement.spreadAcrossZones ? this.spreadConstraints() : undefined,
            securityContext: { runAsNonRoot: true, runAsUser: 1337, runAsGroup: 1337, fsGroup: 1337, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'istio-proxy',
                image: 'auto',
                ports: this.ports.map((p) => ({ name: p.name, containerPort: p.targetPort!, protocol: 'TCP' })),
                resources: inField(this, 'resources', () => toKubeResources(props.resources)),
                securityContext: {
                  allowPrivilegeEscalation: false,
                  privileged: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  runAsUser: 1337,
                  runAsGroup: 1337,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
    });

    this.service = new k8s.KubeService(this, 'Service', {
      metadata,
      spec: {
        type: 'ClusterIP',
        selector: this.selectorLabels,
        ports: this.ports.map((p) => ({ name: p.name, port: p.number, targetPort: k8s.IntOrString.fromNumber(p.targetPort!), protocol: 'TCP' })),
      },
    });

    if (scaling.minAvailable > 0) {
      new k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
        metadata,
        spec: { minAvailable: k8s.IntOrString.fromNumber(scaling.minAvailable), selector: { matchLabels: this.selectorLabels } },
      });
    }

    if (scaling.autoscaling) {
      new k8s.KubeHorizontalPodAutoscalerV2(this, 'Autoscaler', {
        metadata,
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.serviceName },
          minReplicas: scaling.autoscaling.minReplicas,
          maxReplicas: scaling.autoscaling.maxReplicas,
          metrics: cpuUtilizationMetrics(scaling.autoscaling),
        },
      });
    }
  }

  /**
   * Creates a Role that lets the gateway's service account read the Secrets of its namespace, and binds it
   * (Istio's "SDS" role: istiod serves a `credentialName` to a gateway only if the gateway may read that Secret).
   */
  public grantCredentialAccess(): void {
    if (this.credentialAccess) {
      return;
    }
    this.credentialAccess = true;
    const metadata = { name: `${this.serviceName}-sds`, namespace: this.namespace, labels: this.commonLabels() };
    new k8s.KubeRole(this, 'CredentialReader', {
      metadata,
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }],
    });
    new k8s.KubeRoleBinding(this, 'CredentialReaderBinding', {
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: metadata.name },
      subjects: [{ kind: 'ServiceAccount', name: this.serviceName, namespace: this.namespace }],
    });
  }

  /** Node selector, priority class and zone spreading, checked where they enter (they reach the Deployment verbatim). */
  private placement(props: EgressGatewayProps) {
    const nodeSelector =
      props.nodeSelector === undefined || (typeof props.nodeSelector === 'object' && props.nodeSelector !== null && Object.keys(props.nodeSelector).length === 0)
        ? undefined
        : inField(this, 'nodeSelector', () => WorkloadSelector.fromLabels(props.nodeSelector!).labels);
    const priorityClassName =
      props.priorityClassName === undefined ? undefined : inField(this, 'priorityClassName', () => validateDnsSubdomain(props.priorityClassName!, 'priority class name'));
    const spreadAcrossZones = props.spreadAcrossZones === undefined ? true : inField(this, 'spreadAcrossZones', () => requireBoolean(props.spreadAcrossZones));
    return { nodeSelector, priorityClassName, spreadAcrossZones };
  }

  private tolerations(tolerations: plus.NodeTaintQuery[] | undefined) {
    if (tolerations === undefined) {
      return undefined;
    }
    return inField(this, 'tolerations', () =>
      requireArray(tolerations, {
        element: 'a NodeTaintQuery',
        each: (t) => (requireInstance(t, plus.NodeTaintQuery, 'NodeTaintQuery.is (cdk8s-plus)') as any)._toKube(),
      }),
    );
  }

  private commonLabels(): { [key: string]: string } {
    return { ...this.podLabels, ...libraryLabels(this.serviceName), 'app.kubernetes.io/name': this.serviceName, 'app.kubernetes.io/component': 'egress-gateway' };
  }

  private spreadConstraints() {
    const labelSelector = { matchLabels: this.selectorLabels };
    return [
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector },
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector },
    ];
  }
}

class ImportedEgressGateway extends EgressGatewayBase {
  public readonly namespace: string;
  public readonly serviceName: string;
  public readonly ports: EgressPort[];
  public readonly identity?: WorkloadIdentity;
  public readonly mesh: MeshSettings;
  protected readonly podLabels: { [key: string]: string };

  public constructor(scope: Construct, id: string, attrs: EgressGatewayAttributes) {
    super(scope, id);
    MeshRegistry.of(this).register('EgressGateway', this);
    attrs = inField(this, 'attrs', () => requireStruct<EgressGatewayAttributes>(attrs, 'EgressGatewayAttributes'));
    this.mesh = meshOf(this, attrs.mesh);
    this.namespace = inField(this, 'namespace', () => validateDnsLabel(attrs.namespace, 'namespace'));
    this.serviceName = inField(this, 'serviceName', () => serviceName(attrs.serviceName, 'service name'));
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

/** Validates gateway ports and fills in target ports (port + lowPortOffset below 1024, else the port itself). */
function gatewayPorts(scope: IConstruct, ports: EgressPort[] | undefined, lowPortOffset: number): EgressPort[] {
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

/** A Kubernetes Service name: a DNS-1123 label that starts with a letter (DNS-1035). */
function serviceName(value: string, what: string): string {
  validateDnsLabel(value, what);
  const why = dns1035LabelProblem(value);
  if (why) {
    throw problem(`invalid ${what} "${value}": it ${why}; e.g. "egress-gateway"`);
  }
  return value;
}

/** The mesh settings given (a MeshSettings instance), or Istio's defaults. */
function meshOf(scope: IConstruct, mesh: MeshSettings | undefined): MeshSettings {
  return mesh === undefined ? MeshSettings.defaults() : inField(scope, 'mesh', () => requireInstance(mesh, MeshSettings, 'the MeshSettings constructor'));
}

function toKubeResources(resources: plus.ContainerResources | undefined): plus.k8s.ResourceRequirements {
  const q = (v: string) => k8s.Quantity.fromString(v);
  if (!resources) {
    return { requests: { cpu: q('100m'), memory: q('128Mi') }, limits: { cpu: q('2000m'), memory: q('1024Mi') } };
  }
  checkResourceTypes(resources);
  const amounts = resourceAmounts(resources);
  const quantities = (values: { [key: string]: string } | undefined) =>
    values === undefined ? undefined : Object.fromEntries(Object.entries(values).map(([k, v]) => [k, q(v)]));
  return { requests: quantities(amounts?.requests), limits: quantities(amounts?.limits) };
}
