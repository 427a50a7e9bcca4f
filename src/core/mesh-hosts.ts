import { IConstruct } from 'constructs';

/**
 * Which construct of an app routes each external host from sidecars (a mesh-bound VirtualService host).
 *
 * Istio keeps only one mesh-bound VirtualService per host (`istioctl analyze` IST0109); a second construct routing
 * the same host would silently lose its route. Keyed by the root of the construct tree, so separate apps never meet.
 */
const claimsByRoot = new WeakMap<IConstruct, Map<string, IConstruct>>();

/**
 * Records that `claimant` routes `host` from sidecars.
 *
 * @throws if another construct of the same app already routes that host
 * @internal
 */
export function claimMeshHost(claimant: IConstruct, host: string): void {
  const root = claimant.node.root;
  let claims = claimsByRoot.get(root);
  if (claims === undefined) {
    claims = new Map();
    claimsByRoot.set(root, claims);
  }
  const owner = claims.get(host);
  if (owner !== undefined && owner !== claimant && isAttached(owner)) {
    throw new Error(
      `host "${host}" is already routed from sidecars by "${owner.node.path}"; Istio keeps only one mesh VirtualService per host ` +
        '(IST0109) and would drop one of the routes, so route it through one construct only',
    );
  }
  claims.set(host, claimant);
}

/** Whether a construct is still in its tree (not removed with `tryRemoveChild`). */
function isAttached(construct: IConstruct): boolean {
  const scopes = construct.node.scopes;
  for (let i = 1; i < scopes.length; i++) {
    if (scopes[i - 1].node.tryFindChild(scopes[i].node.id) !== scopes[i]) {
      return false;
    }
  }
  return true;
}
