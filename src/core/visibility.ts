/**
 * Which namespaces see a generated Istio object (`exportTo`), and the labels every generated object carries: one
 * home for both, used by every construct.
 */
import { authorizationSources, WorkloadIdentity } from './identity';
import { MeshSettings } from './mesh';

/**
 * The `exportTo` of mesh-facing objects used by the given identities: `["*"]` when any in-mesh workload may use them,
 * else the owning namespace (`.`) and the namespaces of the identities, sorted.
 *
 * @internal
 */
export function exportToFor(identities: WorkloadIdentity[], ownNamespace: string): string[] {
  if (identities.some((i) => i.isAnyInMesh)) {
    return ['*'];
  }
  return mergeExportTo([identities.map((i) => i.namespace!)], ownNamespace);
}

/**
 * The union of several `exportTo` lists of objects in `ownNamespace`: `["*"]` if any list has `*`, else `.` and the
 * other namespaces, sorted (the own namespace written as `.` once).
 *
 * @internal
 */
export function mergeExportTo(lists: ReadonlyArray<ReadonlyArray<string>>, ownNamespace: string): string[] {
  const all = lists.flat();
  if (all.includes('*')) {
    return ['*'];
  }
  return ['.', ...[...new Set(all.filter((ns) => ns !== '.' && ns !== ownNamespace))].sort()];
}

/**
 * A canonical text of who may use something, for comparing the rules of two constructs (the registry refuses
 * overlapping hosts whose rules differ).
 *
 * @internal
 */
export function identityRulesKey(identities: WorkloadIdentity[], mesh: MeshSettings, extra: string = ''): string {
  return JSON.stringify({ from: authorizationSources(identities, mesh), extra });
}

/** The label that marks every object this library generates. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/**
 * Labels of a generated object: managed by this library, part of the named construct instance.
 *
 * @internal
 */
export function libraryLabels(partOf: string): { [key: string]: string } {
  return { [MANAGED_BY_LABEL]: 'cdk8s-istio-egress', 'app.kubernetes.io/part-of': partOf };
}
