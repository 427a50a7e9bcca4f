import { IConstruct } from 'constructs';
import { fieldError } from './errors';
import { MeshSettings } from './mesh';

/**
 * Namespaces a proxy workload of this library (egress gateway or waypoint) must never run in, each with the reason.
 * One home for the rule, used by every mode.
 *
 * - the mesh root namespace: Istio applies selector-scoped EnvoyFilters, AuthorizationPolicies, PeerAuthentications
 *   and Telemetry placed there to matching pods of every namespace, so the proxy's configuration could reach others;
 * - the istiod namespace: a Role or label there reaches the control plane's own Secrets (CA keys) and pods;
 * - `kube-system`, `kube-public`: cluster components live there, and a Role for SDS would read their Secrets;
 * - `default`: holds unrelated workloads and Services that labels on the namespace would enrol or rebind.
 *
 * @internal
 */
export function reservedNamespaceReason(namespace: string, mesh: MeshSettings): string | undefined {
  if (namespace === mesh.rootNamespace) {
    return 'it is Istio\'s root namespace, where selector-scoped Istio policy applies to matching pods of every namespace';
  }
  if (namespace === mesh.istiodNamespace) {
    return "it is istiod's namespace, whose Secrets hold the mesh CA";
  }
  switch (namespace) {
    case 'kube-system':
    case 'kube-public':
      return 'it belongs to Kubernetes itself, and the proxy\'s RBAC there would reach cluster components\' Secrets';
    case 'default':
      return 'it holds unrelated workloads and Services, which the proxy\'s namespace labels and RBAC would reach';
    default:
      return undefined;
  }
}

/**
 * Refuses a reserved namespace (see `reservedNamespaceReason`) as the namespace of a proxy workload.
 *
 * @internal
 */
export function rejectReservedNamespace(scope: IConstruct, field: string, namespace: string, mesh: MeshSettings, what: string): void {
  const reason = reservedNamespaceReason(namespace, mesh);
  if (reason !== undefined) {
    fieldError(scope, field, `${what} cannot run in namespace "${namespace}": ${reason}. Use a namespace of its own, e.g. "istio-egress"`);
  }
}
