import { Size } from 'cdk8s';
import * as plus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { requireInstance, requireStruct } from './boundary';
import { INT32_MAX, show } from './bounds';
import { atSubField, fieldError } from './errors';

/**
 * Horizontal autoscaling of the gateway pods on CPU.
 */
export interface EgressGatewayAutoscaling {
  /** Fewest replicas. At least 1; at least 2 for high availability. */
  readonly minReplicas: number;

  /** Most replicas; at least minReplicas. */
  readonly maxReplicas: number;

  /**
   * Average CPU utilization (percent of the CPU request) to scale at.
   *
   * @default 80
   */
  readonly targetCpuUtilizationPercent?: number;
}

/**
 * How the pods of a proxy workload (an egress gateway, or a waypoint, whose Deployment Istio creates from these) are
 * run: replicas or autoscaling, disruption budget, resources and spread. One struct for every mode.
 */
export interface ProxyWorkloadOptions {
  /**
   * Number of proxy pods. Not allowed with `autoscaling`.
   *
   * @default 2
   */
  readonly replicas?: number;

  /**
   * Scale the proxy with a HorizontalPodAutoscaler (autoscaling/v2) on CPU instead of a fixed replica count (for a
   * waypoint, Istio creates it from the parameters ConfigMap).
   *
   * @default - fixed `replicas`
   */
  readonly autoscaling?: EgressGatewayAutoscaling;

  /**
   * Minimum number of proxy pods a voluntary disruption (node drain) must leave running: a PodDisruptionBudget
   * (for a waypoint, created by Istio). Must be below the replica count (or `autoscaling.minReplicas`), otherwise no
   * pod could ever be evicted. Set 0 for no PodDisruptionBudget.
   *
   * @default - 1 when there are at least 2 replicas, else no PodDisruptionBudget
   */
  readonly minAvailable?: number;

  /**
   * CPU and memory of the proxy container.
   *
   * @default - requests 100m CPU / 128Mi memory, limits 2 CPU / 1Gi memory (Istio's gateway and waypoint defaults)
   */
  readonly resources?: plus.ContainerResources;

  /**
   * Spread the pods across zones and nodes (`topologySpreadConstraints`, `ScheduleAnyway`), so one zone or node
   * failure does not take egress down.
   *
   * @default true
   */
  readonly spreadAcrossZones?: boolean;
}

/**
 * The replica settings of a proxy workload (an egress gateway or a waypoint), as given in its props.
 *
 * @internal
 */
export interface WorkloadScalingProps {
  readonly replicas?: number;
  readonly autoscaling?: EgressGatewayAutoscaling;
  readonly minAvailable?: number;
}

/**
 * Validated replica settings.
 *
 * @internal
 */
export interface WorkloadScaling {
  /** The fixed replica count, or undefined when autoscaled. */
  readonly replicas?: number;

  /** The autoscaling settings, if autoscaled. */
  readonly autoscaling?: EgressGatewayAutoscaling;

  /** The PodDisruptionBudget's `minAvailable`; 0 for no PodDisruptionBudget. */
  readonly minAvailable: number;
}

/**
 * Checks `replicas`, `autoscaling` and `minAvailable` (errors name `scope` and the field), and fills in the defaults:
 * 2 replicas; a PodDisruptionBudget of 1 when there are at least 2 replicas (or `minReplicas`).
 *
 * @internal
 */
export function validateScaling(scope: IConstruct, props: WorkloadScalingProps): WorkloadScaling {
  if (props.autoscaling && props.replicas !== undefined) {
    fieldError(scope, 'replicas', `set either replicas (${show(props.replicas)}) or autoscaling, not both: the autoscaler owns the replica count`);
  }
  const minAvailable = props.minAvailable;
  if (minAvailable !== undefined && (!Number.isInteger(minAvailable) || minAvailable < 0 || minAvailable > INT32_MAX)) {
    fieldError(scope, 'minAvailable', `${show(minAvailable)} must be a whole number >= 0 (0 means no PodDisruptionBudget)`);
  }
  if (props.autoscaling) {
    const { minReplicas, maxReplicas, targetCpuUtilizationPercent } = props.autoscaling;
    if (!Number.isInteger(minReplicas) || minReplicas < 1 || minReplicas > INT32_MAX) {
      fieldError(scope, 'autoscaling.minReplicas', `${show(minReplicas)} must be a whole number >= 1 (2 or more for high availability)`);
    }
    if (!Number.isInteger(maxReplicas) || maxReplicas < minReplicas || maxReplicas > INT32_MAX) {
      fieldError(scope, 'autoscaling.maxReplicas', `${show(maxReplicas)} must be a whole number >= minReplicas (${show(minReplicas)})`);
    }
    const target = targetCpuUtilizationPercent;
    if (target !== undefined && (!Number.isInteger(target) || target < 1 || target > INT32_MAX)) {
      fieldError(scope, 'autoscaling.targetCpuUtilizationPercent', `${show(targetCpuUtilizationPercent)} must be a whole number of percent >= 1`);
    }
    return { autoscaling: props.autoscaling, minAvailable: checkMinAvailable(scope, minAvailable, minReplicas, 'autoscaling.minReplicas', 'minReplicas') };
  }
  const replicas = props.replicas ?? 2;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > INT32_MAX) {
    fieldError(scope, 'replicas', `${show(replicas)} must be a whole number >= 1 (2 or more for high availability)`);
  }
  return { replicas, minAvailable: checkMinAvailable(scope, minAvailable, replicas, 'replicas', 'replicas') };
}

/** `minAvailable` below the replica count, or its default (1 from 2 replicas on, else 0). */
function checkMinAvailable(scope: IConstruct, minAvailable: number | undefined, replicas: number, field: string, raise: string): number {
  if (minAvailable === undefined) {
    return replicas >= 2 ? 1 : 0;
  }
  if (minAvailable > 0 && minAvailable >= replicas) {
    fieldError(
      scope,
      'minAvailable',
      `${show(minAvailable)} must be below ${field} (${replicas}), otherwise the PodDisruptionBudget blocks every eviction and node drains hang; lower it, raise ${raise}, or set 0 for no budget`,
    );
  }
  return minAvailable;
}

/**
 * The HorizontalPodAutoscaler (autoscaling/v2) metrics: average CPU utilization, 80% unless given.
 *
 * @internal
 */
export function cpuUtilizationMetrics(autoscaling: EgressGatewayAutoscaling) {
  return [
    {
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: autoscaling.targetCpuUtilizationPercent ?? 80 } },
    },
  ];
}

/**
 * Checks the types of a `ContainerResources` given from JavaScript: objects of options, `Cpu` and `Size` amounts.
 * Throws a `problem` located at the sub-field (`cpu.request`): call it inside `inField(scope, 'resources', ...)`.
 *
 * @internal
 */
export function checkResourceTypes(resources: unknown): plus.ContainerResources {
  requireStruct<plus.ContainerResources>(resources, 'ContainerResources');
  for (const [kind, type, how, structName] of [
    ['cpu', plus.Cpu, 'Cpu.millis (cdk8s-plus)', 'CpuResources'],
    ['memory', Size, 'Size.mebibytes (cdk8s)', 'MemoryResources'],
    ['ephemeralStorage', Size, 'Size.gibibytes (cdk8s)', 'EphemeralStorageResources'],
  ] as const) {
    const amounts = (resources as any)[kind];
    if (amounts === undefined) {
      continue;
    }
    try {
      requireStruct(amounts, structName);
    } catch (e) {
      throw atSubField(e, kind);
    }
    for (const bound of ['request', 'limit']) {
      if (amounts[bound] !== undefined) {
        try {
          requireInstance(amounts[bound], type as any, how);
        } catch (e) {
          throw atSubField(e, `${kind}.${bound}`);
        }
      }
    }
  }
  return resources as plus.ContainerResources;
}

/**
 * Container resource amounts as Kubernetes quantity strings.
 *
 * @internal
 */
export interface ResourceAmounts {
  readonly requests?: { [key: string]: string };
  readonly limits?: { [key: string]: string };
}

/**
 * The `requests` and `limits` of `resources` as quantity strings (memory and ephemeral storage in Mi); undefined when
 * nothing is set.
 *
 * @internal
 */
export function resourceAmounts(resources: plus.ContainerResources | undefined): ResourceAmounts | undefined {
  if (!resources) {
    return undefined;
  }
  const requests: { [key: string]: string } = {};
  const limits: { [key: string]: string } = {};
  if (resources.cpu?.request) requests.cpu = resources.cpu.request.amount;
  if (resources.cpu?.limit) limits.cpu = resources.cpu.limit.amount;
  if (resources.memory?.request) requests.memory = `${resources.memory.request.toMebibytes()}Mi`;
  if (resources.memory?.limit) limits.memory = `${resources.memory.limit.toMebibytes()}Mi`;
  if (resources.ephemeralStorage?.request) requests['ephemeral-storage'] = `${resources.ephemeralStorage.request.toMebibytes()}Mi`;
  if (resources.ephemeralStorage?.limit) limits['ephemeral-storage'] = `${resources.ephemeralStorage.limit.toMebibytes()}Mi`;
  const result: { requests?: { [key: string]: string }; limits?: { [key: string]: string } } = {};
  if (Object.keys(requests).length > 0) result.requests = requests;
  if (Object.keys(limits).length > 0) result.limits = limits;
  return Object.keys(result).length > 0 ? result : undefined;
}
