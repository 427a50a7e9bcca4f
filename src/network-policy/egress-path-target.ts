import { hasNoLabels } from './peers';
import { describe, requireArray, requireImplements } from '../core/boundary';
import { sortedUnique } from '../core/collections';
import { validateDnsLabel } from '../core/dns';
import { EgressPathConfig, HBONE_PORT, IEgressPath } from '../core/egress-path';
import { atSubField, problem } from '../core/errors';
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
 */
export function egressPathTarget(path: IEgressPath): EgressPathTarget {
  const p = requireImplements<IEgressPath>(
    path,
    'IEgressPath',
    ['toEgressPathConfig'],
    'a WildcardEgressGateway, TlsOriginationEgress, EgressGateway, AmbientEgressWaypoint, or an object whose toEgressPathConfig method returns the proxy pods and ports',
  );
  return validatePathConfig(p.toEgressPathConfig());
}

function validatePathConfig(config: EgressPathConfig): EgressPathTarget {
  if (config === undefined || config === null || typeof config !== 'object') {
    throw problem(`toEgressPathConfig() returned ${describe(config)}; it must name the namespace, pod labels and pod ports of the proxy pods`);
  }
  const namespace = validateDnsLabel(config.namespace, 'namespace');
  if (hasNoLabels(config.podLabels)) {
    throw problem(
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
  if (config.podPorts === undefined || config.podPorts === null || (Array.isArray(config.podPorts) && config.podPorts.length === 0)) {
    throw problem('the path has no pod ports: a rule without ports would allow every port of its pods; the path must list the ports its pods listen on', 'podPorts');
  }
  const podPorts = sortedUnique(portList(config.podPorts, 'podPorts'));
  const externalPorts = sortedUnique(config.externalPorts === undefined || config.externalPorts === null ? [] : portList(config.externalPorts, 'externalPorts'));
  return { namespace, podLabels, podPorts, externalPorts, hbone: podPorts.includes(HBONE_PORT) };
}

/** A list of port numbers of the path config, errors located under `field` (`podPorts[1]`). */
function portList(value: unknown, field: string): number[] {
  try {
    return requireArray(value, { element: 'a port number such as 443', each: (p) => validatePortNumber(p as number) });
  } catch (e) {
    throw atSubField(e, field);
  }
}
