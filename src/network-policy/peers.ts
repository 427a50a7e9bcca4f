import * as plus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { requireArray } from '../core/boundary';
import { labelText } from '../core/collections';
import { problem } from '../core/errors';
import { WorkloadSelector } from '../core/identity';
import { MeshSettings } from '../core/mesh';

/**
 * What the NetworkPolicies of this folder share: pod peers, the istiod rule, labels, and small list helpers.
 * Internal: nothing here is part of the public API.
 */

/** istiod's port for sidecars and gateways: xDS configuration and certificate signing, over TLS. */
export const ISTIOD_XDS_PORT = 15012;
/** The labels every istiod Deployment (any revision) gives its pods. */
const ISTIOD_POD_LABELS = { app: 'istiod' };
/** Labels of every NetworkPolicy defined here. */
const POLICY_LABELS: { readonly [key: string]: string } = { 'app.kubernetes.io/managed-by': 'cdk8s-istio-egress' };

/** The metadata of a policy of this folder: its name and namespace, the library's labels, annotations when any. */
export function policyMetadata(name: string, namespace: string, annotations: { [key: string]: string }) {
  return {
    name,
    namespace,
    labels: { ...POLICY_LABELS },
    annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
  };
}

/**
 * A scope outside the app's construct tree, for cdk8s-plus peers and selectors (`Pods`, `Namespaces`,
 * `NetworkPolicyIpBlock`). cdk8s-plus needs a construct scope for each, but turns them into plain entries as soon as a
 * rule is added (or the policy is created, for its pod selector): the peer constructs render nothing. Kept in the
 * app's tree they would be a third of its nodes at platform scale, and every tree walk of synth (validation,
 * dependency graph, the registry's object check) would visit them.
 */
export function peerScope(): Construct {
  return new Construct(undefined as unknown as Construct, '');
}

/**
 * The pods peers of one policy construct, by namespace and labels.
 *
 * Pods of one namespace as one NetworkPolicy peer: `namespaceSelector` on the immutable `kubernetes.io/metadata.name`
 * label AND `podSelector` (all pods of the namespace when no labels are given).
 *
 * One peer per policy construct and (namespace, labels): the first rule that needs it creates it, with the ids
 * `<id>Namespace` and `<id>` in the policy's own `peerScope`; later rules of the same policy reuse it. Sharing is
 * safe because cdk8s-plus turns the peer into plain `to`/`from` entries when the rule is added: the peer construct
 * itself renders nothing.
 */
export class PodPeers {
  /** Where the policy's peers and selectors are made: outside the app's tree (`peerScope`). */
  public readonly scope: Construct = peerScope();
  private readonly peers = new Map<string, plus.Pods>();

  /** The peer for the pods with `podLabels` (every pod when undefined) in `namespace`, created with `id` if new. */
  public get(id: string, namespace: string, podLabels: { [key: string]: string } | undefined): plus.Pods {
    // Exactly the arguments (label order and "no labels" vs. labels included), so a shared peer renders the same entries.
    const key = JSON.stringify([namespace, podLabels ?? null]);
    let peer = this.peers.get(key);
    if (peer === undefined) {
      const namespaces = plus.Namespaces.select(this.scope, `${id}Namespace`, { names: [namespace] });
      peer =
        podLabels === undefined
          ? plus.Pods.all(this.scope, id, { namespaces })
          : plus.Pods.select(this.scope, id, { labels: podLabels, namespaces });
      this.peers.set(key, peer);
    }
    return peer;
  }
}

/** Lets the policy's pods reach istiod on TCP 15012 (every proxy with its own Envoy: sidecars, gateways, waypoints). */
export function addIstiodRule(peers: PodPeers, policy: plus.NetworkPolicy, mesh: MeshSettings): void {
  policy.addEgressRule(peers.get('Istiod', mesh.istiodNamespace, ISTIOD_POD_LABELS), [plus.NetworkPolicyPort.tcp(ISTIOD_XDS_PORT)]);
}

/**
 * Validated, sorted selector labels, refusing an empty set with `ifEmpty` (an empty podSelector selects every pod of
 * the namespace, the one mistake every selector of this folder must not make).
 */
export function selectorLabels(labels: { [key: string]: string } | undefined | null, ifEmpty: string): { [key: string]: string } {
  if (hasNoLabels(labels)) {
    throw problem(ifEmpty);
  }
  return WorkloadSelector.fromLabels(labels!).labels;
}

/** Whether a label set is missing or empty (as a selector: every pod of the namespace). */
export function hasNoLabels(labels: { [key: string]: string } | undefined | null): boolean {
  return labels === undefined || labels === null || typeof labels !== 'object' || Object.keys(labels).length === 0;
}

/** A key for (namespace, labels) that does not depend on label order; every pod of the namespace when undefined. */
export function peerKey(namespace: string, podLabels: { [key: string]: string } | undefined): string {
  return `${namespace}/${podLabels === undefined ? '*' : bracedLabelText(podLabels)}`;
}

/** `{k1=v1,k2=v2}`, keys sorted: labels in messages and keys. */
export function bracedLabelText(labels: { [key: string]: string }): string {
  return `{${labelText(labels)}}`;
}

/**
 * `value` as a list, or `[]` when undefined; anything else (a single value from JavaScript, say) or an empty entry is
 * refused (a `problem` for `inField`), rather than failing later with a TypeError.
 *
 * @param element what one element is, for messages: `a CIDR such as "10.0.0.0/8"`
 */
export function listProp<T>(value: T[] | undefined, element: string): T[] {
  if (value === undefined || value === null) {
    return [];
  }
  return requireArray<T>(value, { element });
}
