import { hasNoLabels, sortedUnique } from './peers';
import { validateDnsLabel } from '../core/dns';
import { EgressPathConfig, HBONE_PORT, IEgressPath } from '../core/egress-path';
import { atSubField } from '../core/errors';
import { WorkloadSelector } from '../core/identity';
import { validatePortNumber } from '../core/port';

/**
 * Reading an `IEgressPath` for a NetworkPolicy: the proxy pods, their ports, and whether they are reached over HBONE.
 * Internal.
 */

/** A validated egress path: namespace, non-empty labels, unique valid pod ports and external ports (sorted). */
export interface EgressPathTarget extends EgressPathConfig {
  /** Whether clients reach the pods over HBONE (TCP 15008): a waypoint, or any path whose pod ports include 15008. */
  readonly hbone: boolean;
}

/**
 * The validated config of `path`, which may come from JavaScript or Python: anything that is not an `IEgressPath`
 * (no `toEgressPathConfig` method, e.g. a plain object or a construct of another kind) gets an error saying so
 * rather than "toEgressPathConfig is not a function".
 *
 * @param what what the path is for, e.g. "an egress path" or "a waypoint"
 */
export function egressPathTarget(path: IEgressPath, what: string): EgressPathTarget {
  if (path === undefined || path === null) {
    throw new Error(`${what} must not be null or undefined; remove the empty entry`);
  }
  if (typeof (path as any).toEgressPathConfig !== 'function') {
    throw new Error(
      `${describe(path)} is not an egress path: it has no toEgressPathConfig method. ` +
        'Pass an IEgressPath: a WildcardEgressGateway, TlsOriginationEgress, EgressGateway, AmbientEgressWaypoint, or an object whose toEgressPathConfig method returns the proxy pods and ports',
    );
  }
  return validatePathConfig(path.toEgressPathConfig());
}

function validatePathConfig(config: EgressPathConfig): EgressPathTarget {
  if (config === undefined || config === null) {
    throw new Error('toEgressPathConfig returned nothing; it must name the namespace, pod labels and pod ports of the proxy pods');
  }
  const namespace = validateDnsLabel(config.namespace, 'namespace');
  if (hasNoLabels(config.podLabels)) {
    throw new Error(
      `the proxy pods in "${namespace}" have no pod labels: an empty selector would open the ports to every pod of the namespace; ` +
        'the path must give the labels of exactly its proxy pods',
    );
  }
  let podLabels: { [key: string]: string };
  try {
    podLabels = WorkloadSelector.fromLabels(config.podLabels).labels;
  } catch (e) {
    throw atSubField(e, 'podLabels');
  }
  if (!Array.isArray(config.podPorts) || config.podPorts.length === 0) {
    throw new Error('the path has no pod ports: a rule without ports would allow every port of its pods; the path must list the ports its pods listen on');
  }
  const podPorts = sortedUnique(config.podPorts.map((p, i) => validatePortNumber(p, `podPorts[${i}]`)));
  if (config.externalPorts !== undefined && config.externalPorts !== null && !Array.isArray(config.externalPorts)) {
    throw new Error(`externalPorts ${JSON.stringify(config.externalPorts)} must be a list of port numbers`);
  }
  const externalPorts = sortedUnique((config.externalPorts ?? []).map((p, i) => validatePortNumber(p, `externalPorts[${i}]`)));
  return { namespace, podLabels, podPorts, externalPorts, hbone: podPorts.includes(HBONE_PORT) };
}

/** A short description of a value that is not an egress path, for the error. */
function describe(value: unknown): string {
  const path = (value as any)?.node?.path;
  if (typeof path === 'string') {
    return `the construct "${path}" (${(value as any).constructor?.name ?? 'object'})`;
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value as object);
    return keys.length === 0 ? 'an empty object' : `an object with ${keys.slice(0, 5).join(', ')}`;
  }
  return JSON.stringify(value) ?? String(value);
}
