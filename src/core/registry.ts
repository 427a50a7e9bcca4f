/**
 * One model of the mesh per cdk8s App: every construct of this library registers what it puts into the mesh here,
 * and conflicts between constructs (of any type, in either mode) are refused at synth time, each error naming both
 * constructs and the fix.
 *
 * What it knows:
 * - every generated object (API group, kind, namespace, name): two objects with the same key would silently replace
 *   each other at `kubectl apply` time (checked at validation, over every ApiObject of the app, so objects added
 *   through escape hatches and by user code count too);
 * - every external host routed from sidecars or bound to a waypoint, with its ports and protocols, the namespaces
 *   that see it and who may use it (checked as each host is claimed);
 * - the constructs of this library in the app, so an object clash names the construct that made each object;
 * - the proxy ports each construct configures, across imported copies of one gateway.
 *
 * @internal
 */
import { ApiObject, Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { DataplaneMode } from './dataplane-mode';
import { ExternalHost, HostIndex } from './host';
import { Protocol } from './port';

/** Kinds (API group/kind) the API server keeps without a namespace: two with one name are one object. */
const CLUSTER_SCOPED = new Set([
  '/Namespace',
  '/Node',
  '/PersistentVolume',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'scheduling.k8s.io/PriorityClass',
  'storage.k8s.io/StorageClass',
  'networking.k8s.io/IngressClass',
  'gateway.networking.k8s.io/GatewayClass',
]);

/** The construct id of the registry under the app's root. Not a generated name: it is never synthesized. */
const REGISTRY_ID = 'cdk8s-istio-egress.MeshRegistry';

/** A port of a claimed host. */
export interface ClaimedPort {
  /** The port clients connect to. */
  readonly number: number;
  /** Its protocol as Istio sees it. */
  readonly protocol: Protocol;
}

/** What a construct claims for one external host. */
export interface HostClaim {
  /** The host. */
  readonly host: ExternalHost;
  /** How it is reached. */
  readonly mode: DataplaneMode;
  /** The ports clients connect to, with their protocol. */
  readonly ports: ReadonlyArray<ClaimedPort>;
  /**
   * The namespace of the objects that route the host (their `exportTo: ["."]` means this one).
   */
  readonly namespace: string;
  /**
   * The `exportTo` of those objects (`*` every namespace, `.` their own). Ignored in ambient mode: ztunnel and the
   * waypoint ignore `exportTo` (istio/istio#55163), so an ambient host is seen by every namespace.
   */
  readonly exportTo: ReadonlyArray<string>;
  /**
   * A canonical text of who may use the host and how (principals, namespaces, L7 conditions). Two claims of
   * overlapping hosts are compatible only when their rules are equal.
   */
  readonly rules: string;
  /**
   * For a construct whose rules grow after the host is claimed (a waypoint host gets its rules with `allow`): returns
   * the final rules at synth time, when the comparison is made again. Undefined when `rules` is final.
   */
  readonly finalRules?: () => string;
  /** What routes it, for messages: e.g. `gateway istio-egress/egress-gateway`. */
  readonly via: string;
}

interface Claim extends HostClaim {
  readonly claimant: IConstruct;
}

/**
 * The registry of one cdk8s App (the root of the construct tree). Get it with `MeshRegistry.of(scope)`.
 *
 * @internal
 */
export class MeshRegistry extends Construct {
  /** The registry of the app `scope` belongs to; created on first use. */
  public static of(scope: IConstruct): MeshRegistry {
    const root = scope.node.root;
    const existing = root.node.tryFindChild(REGISTRY_ID);
    if (existing instanceof MeshRegistry) {
      return existing;
    }
    return new MeshRegistry(root as Construct);
  }

  /** Host claims by overlap (core's one domain-suffix index). */
  private readonly claims = new HostIndex<Claim>();
  private readonly allMembers = new Set<IConstruct>();
  private readonly gatewayPorts = new Map<string, IConstruct>();
  private readonly objectNames = new Map<string, IConstruct>();
  /** Overlapping claims whose rules were not final when claimed: compared again at synth. */
  private readonly deferred: Array<[Claim, Claim]> = [];
  /** The ApiObjects of the last object-clash check, in tree order, and what it found. */
  private lastCheck?: { readonly objects: ApiObject[]; readonly problems: string[] };

  private constructor(root: Construct) {
    super(root, REGISTRY_ID);
    this.node.addValidation({ validate: () => [...this.deferredConflicts(), ...this.objectClashes()] });
  }

  /**
   * Records a construct of this library, so an object clash names the construct that made each object.
   */
  public register(member: IConstruct): void {
    this.allMembers.add(member);
  }

  /**
   * Claims the name of an object a construct is about to generate, so a clash is refused at once, where the name is
   * chosen, rather than at synth (where every ApiObject of the app is checked anyway).
   *
   * @throws if another construct of the app claimed the same kind, namespace and name
   */
  public claimObjectName(claimant: IConstruct, kind: string, namespace: string, name: string): void {
    const key = `${kind}|${namespace}|${name}`;
    const owner = this.objectNames.get(key);
    if (owner !== undefined && owner !== claimant && isInTree(owner)) {
      throw new Error(`${kind} name "${namespace}/${name}" is already used by ${owner.node.path}; choose another name`);
    }
    this.objectNames.set(key, claimant);
  }

  /**
   * Records that `claimant` configures a port of a proxy workload (one Gateway server per port and construct), whichever
   * object stands for the workload (a gateway defined here, or the same one imported twice with `fromAttributes`).
   *
   * @param workload `namespace/name` of the proxy workload's Service
   * @throws if another construct of the app configures that port
   */
  public claimProxyPort(claimant: IConstruct, workload: string, port: number): void {
    const key = `${workload}:${port}`;
    const owner = this.gatewayPorts.get(key);
    if (owner !== undefined && owner !== claimant && isInTree(owner)) {
      throw new Error(
        `port ${port} of egress gateway ${workload} is already configured by "${owner.node.path}"; ` +
          'give the gateway another port for this construct, or use another gateway',
      );
    }
    this.gatewayPorts.set(key, claimant);
  }

  /** Whether a construct still in the tree configures `port` of the proxy workload `namespace/name` (`claimProxyPort`). */
  public isProxyPortClaimed(workload: string, port: number): boolean {
    const owner = this.gatewayPorts.get(`${workload}:${port}`);
    return owner !== undefined && isInTree(owner);
  }

  /**
   * Records that `claimant` routes a host.
   *
   * @throws if another construct of the app claims an overlapping host (the same name, or one covering the other)
   *   that a common namespace sees on a common port, unless both claims are sidecar claims with equal rules and
   *   visibility on distinct names; the message names both constructs and the fix
   */
  public claimHost(claimant: IConstruct, claim: HostClaim): void {
    const c: Claim = { ...claim, claimant };
    for (const other of this.claims.overlapping(claim.host)) {
      if (other.claimant === claimant || !isInTree(other.claimant)) {
        continue;
      }
      const problem = conflict(c, other);
      if (problem !== undefined) {
        throw new Error(problem);
      }
      if (c.finalRules !== undefined || other.finalRules !== undefined) {
        this.deferred.push([c, other]);
      }
    }
    this.claims.add(claim.host, c);
  }

  /**
   * The path of the construct that made an ApiObject: the nearest construct of this library above it, else its
   * parent, or the object itself when it was made directly in a chart.
   */
  private ownerPath(o: ApiObject): string {
    for (let scope = o.node.scope; scope !== undefined; scope = scope.node.scope) {
      if (this.allMembers.has(scope)) {
        return scope.node.path;
      }
    }
    const parent = o.node.scope;
    return parent !== undefined && !Chart.isChart(parent) && parent.node.scope !== undefined ? parent.node.path : o.node.path;
  }

  /** The conflicts of overlapping claims whose rules were completed after they were claimed. */
  private deferredConflicts(): string[] {
    const problems: string[] = [];
    for (const [a, b] of this.deferred) {
      if (!isInTree(a.claimant) || !isInTree(b.claimant)) {
        continue;
      }
      const problem = conflict(withFinalRules(a), withFinalRules(b));
      if (problem !== undefined) {
        problems.push(`${a.claimant.node.path}: ${problem}`);
      }
    }
    return problems;
  }

  /** Every pair of ApiObjects of the app with the same API group, kind, namespace and name. */
  private objectClashes(): string[] {
    const objects: ApiObject[] = [];
    for (const c of this.node.root.node.findAll()) {
      if (c instanceof ApiObject) {
        objects.push(c);
      }
    }
    // cdk8s validates the app once per synth and again for each chart: the same objects have the same clashes (an
    // ApiObject's group, kind, namespace and name are fixed, and so is its place in the tree).
    const last = this.lastCheck;
    if (last !== undefined && last.objects.length === objects.length && objects.every((o, i) => o === last.objects[i])) {
      return last.problems;
    }
    const problems = this.clashesOf(objects);
    this.lastCheck = { objects, problems };
    return problems;
  }

  private clashesOf(objects: ApiObject[]): string[] {
    const seen = new Map<string, ApiObject>();
    const problems: string[] = [];
    for (const c of objects) {
      const group = c.apiVersion.includes('/') ? c.apiVersion.split('/')[0] : '';
      // The API server ignores the namespace of a cluster-scoped object (cdk8s writes a chart's namespace on every object).
      const namespace = CLUSTER_SCOPED.has(`${group}/${c.kind}`) ? '' : (c.metadata.namespace ?? '');
      const key = `${group}|${c.kind}|${namespace}|${c.name}`;
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, c);
        continue;
      }
      const what = `${c.kind} "${namespace === '' ? '' : `${namespace}/`}${c.name}"`;
      problems.push(
        `${what} is generated by both "${this.ownerPath(first)}" and "${this.ownerPath(c)}"; one would replace the other at apply time. ` +
          'Give one of them another name (or namespace), or let one construct own the object',
      );
    }
    return problems;
  }
}


function withFinalRules(c: Claim): Claim {
  return c.finalRules === undefined ? c : { ...c, rules: c.finalRules(), finalRules: undefined };
}

/**
 * Why two claims of overlapping hosts cannot both stand, or undefined. Rules not yet final (`finalRules`) are
 * compared at synth, when they are.
 */
function conflict(a: Claim, b: Claim): string | undefined {
  const other = `"${b.claimant.node.path}" (${b.via})`;
  if (a.host.name === b.host.name) {
    // Two objects for the same host clash wherever both are visible, their own namespace included (IST0109 counts it).
    const shared = sharedNamespace(a, b, true);
    if (shared === undefined) {
      return undefined;
    }
    if (a.mode === DataplaneMode.SIDECAR && b.mode === DataplaneMode.SIDECAR) {
      return (
        `host "${a.host.name}" is already routed from sidecars by ${other}; Istio keeps only one mesh VirtualService per host ` +
        '(IST0109) and would drop one of the routes. Route it through one construct only'
      );
    }
    const seenBy = shared === '*' ? 'every namespace' : `namespace "${shared}"`;
    return (
      `host "${a.host.name}" is already claimed by ${other}, and ${seenBy} would see both; Istio would use one ServiceEntry ` +
      'and silently ignore the other. Declare the host in one construct only'
    );
  }
  // One name covers the other. On a common port, two protocols give a namespace that sees both conflicting listeners.
  const ports = new Map(b.ports.map((p) => [p.number, p.protocol]));
  const clash = a.ports.find((p) => ports.has(p.number) && ports.get(p.number) !== p.protocol);
  const shared = sharedNamespace(a, b, false);
  if (clash !== undefined && shared !== undefined) {
    const seenBy = shared === '*' ? 'every namespace' : `namespace "${shared}"`;
    return (
      `host "${a.host.name}" port ${clash.number} is ${clash.protocol}, but ${other} claims the overlapping host "${b.host.name}" on ` +
      `that port as ${ports.get(clash.number)}; ${seenBy} would get conflicting listeners. Use one protocol per port`
    );
  }
  // Whatever the ports and namespaces: the wide host's proxy forwards every name under it (an SNI or Host header of
  // the narrow host on any of its ports, from any client it admits), so narrower rules elsewhere would not hold (H2).
  const [wide, narrow] = a.host.covers(b.host) ? [a.host.name, b.host.name] : [b.host.name, a.host.name];
  const rulesDiffer = a.finalRules === undefined && b.finalRules === undefined && a.rules !== b.rules;
  if (a.mode !== b.mode || rulesDiffer) {
    return (
      `host "${a.host.name}" overlaps "${b.host.name}" of ${other} with other rules${a.mode !== b.mode ? ' and in another mode' : ''}: ` +
      `the clients "${wide}" admits could reach "${narrow}" under its rules, on any port. Route both through one construct, ` +
      `give them the same rules, or drop "${narrow}" (the wildcard already covers it)`
    );
  }
  return undefined;
}

/** A namespace both claims are visible to (`*` when both are visible everywhere), or undefined. */
function sharedNamespace(a: HostClaim, b: HostClaim, withOwn: boolean): string | undefined {
  const va = visibility(a, withOwn);
  const vb = visibility(b, withOwn);
  if (va === '*' && vb === '*') {
    return '*';
  }
  if (va === '*') {
    return [...(vb as Set<string>)].sort()[0];
  }
  if (vb === '*') {
    return [...va].sort()[0];
  }
  return [...va].filter((ns) => vb.has(ns)).sort()[0];
}

/** The namespaces that see a claim, or `*` for all; its own namespace only with `withOwn`. */
function visibility(c: HostClaim, withOwn: boolean): Set<string> | '*' {
  if (c.mode === DataplaneMode.AMBIENT || c.exportTo.length === 0 || c.exportTo.includes('*')) {
    return '*';
  }
  const namespaces = c.exportTo.map((ns) => (ns === '.' ? c.namespace : ns));
  return new Set(withOwn ? namespaces : namespaces.filter((ns) => ns !== c.namespace));
}

/** Whether a construct is still reachable from its root (`node.tryRemoveChild` detaches it, and `findAll()` skips it). */
export function isInTree(c: IConstruct): boolean {
  let node = c;
  let parent = node.node.scope;
  while (parent !== undefined) {
    if (parent.node.tryFindChild(node.node.id) !== node) {
      return false;
    }
    node = parent;
    parent = node.node.scope;
  }
  return true;
}
