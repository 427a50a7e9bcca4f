import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';

/**
 * The NetworkPolicy duplicate-name check, isolated here until the app-wide registry (src/core/registry.ts) replaces it:
 * the only per-construct name check and the only module-level registry of this folder. Internal.
 */

/** The NetworkPolicy ApiObjects of one construct tree, for the duplicate-name check of one validation pass. */
interface NetworkPolicyIndex {
  /** NetworkPolicy ApiObjects by `<namespace>/<name>`, each list in tree order (pre-order, as `findAll()` lists them). */
  readonly byKey: Map<string, ApiObject[]>;
  /** The policies checked against this index: one checked again means a new validation pass. */
  readonly checked: Set<IConstruct>;
}

/** The current index of each construct tree, by root. */
const networkPolicyIndexes = new WeakMap<IConstruct, NetworkPolicyIndex>();

/**
 * The index of the NetworkPolicies of `self`'s tree for this validation pass. Walking the whole tree for every policy
 * made validation quadratic; one walk per pass serves every policy. The index is rebuilt when it may be stale: when
 * `self` was checked against it already (cdk8s validates every construct once per pass, and the tree may have grown
 * between passes, e.g. a re-synth after adding a policy), or when `self`'s own NetworkPolicy is missing from it (a
 * policy created after it was built).
 */
function networkPolicyIndex(self: IConstruct, own: ApiObject, key: string): NetworkPolicyIndex {
  const root = self.node.root;
  let index = networkPolicyIndexes.get(root);
  if (index === undefined || index.checked.has(self) || !(index.byKey.get(key) ?? []).includes(own)) {
    const byKey = new Map<string, ApiObject[]>();
    for (const c of root.node.findAll()) {
      if (ApiObject.isApiObject(c) && c.kind === 'NetworkPolicy') {
        const k = `${c.metadata.namespace}/${c.metadata.name}`;
        const list = byKey.get(k);
        if (list === undefined) {
          byKey.set(k, [c]);
        } else {
          list.push(c);
        }
      }
    }
    index = { byKey, checked: new Set() };
    networkPolicyIndexes.set(root, index);
  }
  index.checked.add(self);
  return index;
}

/**
 * Other NetworkPolicies of the app with the same namespace and name as `self`'s (the later one would replace the
 * earlier one): one problem each, for `self`'s validation.
 */
export function duplicateNameProblems(self: IConstruct, own: ApiObject, namespace: string, name: string): string[] {
  const key = `${namespace}/${name}`;
  return (networkPolicyIndex(self, own, key).byKey.get(key) ?? [])
    .filter((c) => c.metadata.name === name && c.metadata.namespace === namespace)
    .filter((c) => !c.node.path.startsWith(`${self.node.path}/`))
    .map((c) => `name: NetworkPolicy ${namespace}/${name} is also defined by "${c.node.path}"; one would replace the other. Give each its own name`);
}
