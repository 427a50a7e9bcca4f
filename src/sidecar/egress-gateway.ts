import { ApiObject } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { EgressGatewayAttributes, EgressGatewayBase, gatewayPorts, gatewayServiceName, IEgressGateway, ImportedEgressGateway, meshOf } from './egress-gateway-base';
import { requireArray, requireBoolean, requireInstance, requireStruct } from '../core/boundary';
import { validateDnsLabel, validateDnsSubdomain } from '../core/dns';
import { fieldError, inField } from '../core/errors';
import { WorkloadIdentity, WorkloadSelector } from '../core/identity';
import { MeshSettings } from '../core/mesh';
import { rejectReservedNamespace } from '../core/namespaces';
import { EgressPort } from '../core/port';
import { MeshRegistry } from '../core/registry';
import { libraryLabels } from '../core/visibility';
import { checkResourceTypes, cpuUtilizationMetrics, ProxyWorkloadOptions, resourceAmounts, validateScaling } from '../core/workload-scaling';

const k8s = plus.k8s;

/** Label that makes the selector of a gateway defined here unique in the cluster (namespace + name). */
export const GATEWAY_INSTANCE_LABEL = 'cdk8s-istio-egress/gateway';

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
    MeshRegistry.of(this).register(this);
    props = inField(this, 'props', () => requireStruct<EgressGatewayProps>(props ?? {}, 'EgressGatewayProps'));
    this.mesh = meshOf(this, props.mesh);
    this.namespace = inField(this, 'namespace', () => validateDnsLabel(props.namespace ?? 'istio-egress', 'namespace'));
    this.serviceName = inField(this, 'name', () => gatewayServiceName(props.name ?? 'egress-gateway', 'gateway name'));
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
