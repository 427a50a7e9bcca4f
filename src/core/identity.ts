import * as plus from 'cdk8s-plus-28';
import { show } from './bounds';
import { validateDnsLabel, validateDnsSubdomain } from './dns';
import { inFactory, problem } from './errors';
import { MeshSettings } from './mesh';

/**
 * Who a workload is, as Istio's mutual TLS proves it: a Kubernetes service account in a namespace (SPIFFE ID
 * `spiffe://<trust-domain>/ns/<namespace>/sa/<name>`), every workload of a namespace, or any workload of the mesh.
 *
 * Identities are only known on mutual-TLS connections; the constructs that use them also enforce mTLS.
 *
 * @see https://istio.io/latest/docs/reference/config/security/authorization-policy/#Source
 */
export class WorkloadIdentity {
  /**
   * The workloads that run as a service account.
   *
   * @param namespace the service account's namespace
   * @param name the service account's name
   */
  public static serviceAccount(namespace: string, name: string): WorkloadIdentity {
    return inFactory(`WorkloadIdentity.serviceAccount(${show(namespace)}, ${show(name)})`, () => {
      return new WorkloadIdentity(validateDnsLabel(namespace, 'namespace'), validateDnsSubdomain(name, 'service account name'));
    });
  }

  /**
   * The workloads that run as a cdk8s-plus service account (one defined in the app, or imported with
   * `ServiceAccount.fromServiceAccountName`).
   *
   * @param serviceAccount the service account
   * @param namespace its namespace, if the object does not say
   * @throws if the namespace is neither on the service account nor given
   */
  public static fromServiceAccount(serviceAccount: plus.IServiceAccount, namespace?: string): WorkloadIdentity {
    return inFactory('WorkloadIdentity.fromServiceAccount', () => {
      if (serviceAccount === null || typeof serviceAccount !== 'object' || typeof (serviceAccount as any).toSubjectConfiguration !== 'function') {
        throw problem(`expected a cdk8s-plus ServiceAccount, got ${show(serviceAccount)}; use WorkloadIdentity.serviceAccount(namespace, name) for a name`);
      }
      const subject = serviceAccount.toSubjectConfiguration();
      const ns = subject.namespace ?? namespace;
      if (ns === undefined) {
        throw problem(
          `service account "${subject.name}" has no namespace; set metadata.namespace on it (or on its chart) or pass the namespace`,
        );
      }
      if (subject.namespace !== undefined && namespace !== undefined && subject.namespace !== namespace) {
        throw problem(`service account "${subject.name}" is in namespace "${subject.namespace}", not "${namespace}"; drop the namespace argument`);
      }
      return WorkloadIdentity.serviceAccount(ns, subject.name);
    });
  }

  /** Every workload in a namespace, whatever its service account. */
  public static allInNamespace(namespace: string): WorkloadIdentity {
    return inFactory(`WorkloadIdentity.allInNamespace(${show(namespace)})`, () => new WorkloadIdentity(validateDnsLabel(namespace, 'namespace'), undefined));
  }

  /**
   * Any workload of the mesh that presents an Istio mTLS certificate (principal `*`); plain-text and out-of-mesh
   * clients are still refused.
   */
  public static anyInMesh(): WorkloadIdentity {
    return new WorkloadIdentity(undefined, undefined);
  }

  /** The namespace, unless this is `anyInMesh()`. */
  public readonly namespace?: string;

  /** The service account name, if this identity is one service account. */
  public readonly serviceAccountName?: string;

  private constructor(namespace: string | undefined, serviceAccountName: string | undefined) {
    this.namespace = namespace;
    this.serviceAccountName = serviceAccountName;
  }

  /** True for `anyInMesh()`. */
  public get isAnyInMesh(): boolean {
    return this.namespace === undefined;
  }

  /**
   * The principal Istio's AuthorizationPolicy matches (`cluster.local/ns/<ns>/sa/<sa>`), `*` for `anyInMesh()`, or
   * undefined for a whole namespace (matched with `namespaces` instead).
   */
  public principal(mesh: MeshSettings = MeshSettings.defaults()): string | undefined {
    if (this.isAnyInMesh) {
      return '*';
    }
    if (this.serviceAccountName === undefined) {
      return undefined;
    }
    return `${mesh.trustDomain}/ns/${this.namespace}/sa/${this.serviceAccountName}`;
  }

  /** The SPIFFE ID of a service account identity (`spiffe://cluster.local/ns/<ns>/sa/<sa>`), else undefined. */
  public spiffeId(mesh: MeshSettings = MeshSettings.defaults()): string | undefined {
    if (this.serviceAccountName === undefined || this.isAnyInMesh) {
      return undefined;
    }
    return `spiffe://${this.principal(mesh)}`;
  }

  /** `serviceAccount ns/name`, `namespace ns` or `any in-mesh identity`, for messages and docs. */
  public toString(): string {
    if (this.isAnyInMesh) {
      return 'any in-mesh identity';
    }
    return this.serviceAccountName !== undefined ? `service account ${this.namespace}/${this.serviceAccountName}` : `namespace ${this.namespace}`;
  }
}

/**
 * The `from` rules of an Istio AuthorizationPolicy that allow exactly the given identities: one source for all
 * service-account principals and one for whole namespaces (a single source would AND them).
 *
 * @internal
 */
export function authorizationSources(
  identities: WorkloadIdentity[],
  mesh: MeshSettings,
): Array<{ source: { principals?: string[]; namespaces?: string[] } }> {
  if (identities.length === 0) {
    throw problem('at least one identity is required; use WorkloadIdentity.anyInMesh to allow every in-mesh workload');
  }
  if (identities.some((i) => i.isAnyInMesh)) {
    return [{ source: { principals: ['*'] } }];
  }
  const principals = unique(identities.map((i) => i.principal(mesh)).filter((p): p is string => p !== undefined));
  const namespaces = unique(identities.filter((i) => i.serviceAccountName === undefined).map((i) => i.namespace!));
  const from: Array<{ source: { principals?: string[]; namespaces?: string[] } }> = [];
  if (principals.length > 0) {
    from.push({ source: { principals } });
  }
  if (namespaces.length > 0) {
    from.push({ source: { namespaces } });
  }
  return from;
}

function unique(values: string[]): string[] {
  return [...new Set(values)].sort();
}

/**
 * Selects workloads (pods) by exact label match, the only form Istio's `selector` / `workloadSelector` supports.
 *
 * @see https://istio.io/latest/docs/reference/config/type/workload-selector/
 */
export class WorkloadSelector {
  /**
   * Pods carrying all the given labels.
   *
   * @throws if no label is given (an empty Istio selector selects every pod of the namespace) or a key or value is
   * not a valid Kubernetes label
   */
  public static fromLabels(labels: { [key: string]: string }): WorkloadSelector {
    return inFactory('WorkloadSelector.fromLabels', () => {
      if (labels !== undefined && labels !== null && (typeof labels !== 'object' || Array.isArray(labels))) {
        throw problem(`labels ${show(labels)} must be an object of label keys and values, e.g. { app: "shop" }`);
      }
      const entries = Object.entries(labels ?? {});
      if (entries.length === 0) {
        throw problem('a workload selector needs at least one label; an empty selector would select every pod of the namespace');
      }
      for (const [key, value] of entries) {
        validateLabelKey(key);
        validateLabelValue(key, value);
      }
      return new WorkloadSelector(Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
    });
  }

  /**
   * The pods a cdk8s-plus workload or pod selector selects (e.g. a `Deployment`, or `Pods.select(...)`).
   *
   * @throws if the selector uses label expressions or namespace selection, which Istio selectors cannot express
   */
  public static fromPodSelector(selector: plus.IPodSelector): WorkloadSelector {
    const config = selector.toPodSelectorConfig();
    if (config.namespaces !== undefined) {
      throw problem(`pod selector "${selector.node.path}" selects namespaces; Istio selectors only match labels in the resource's own namespace`);
    }
    const kube = (config.labelSelector as any)._toKube() as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    if ((kube.matchExpressions ?? []).length > 0) {
      throw problem(`pod selector "${selector.node.path}" uses label expressions; Istio selectors match exact labels only (use WorkloadSelector.fromLabels)`);
    }
    return WorkloadSelector.fromLabels(kube.matchLabels ?? {});
  }

  private constructor(private readonly _labels: { [key: string]: string }) {}

  /** The labels (a copy), sorted by key. */
  public get labels(): { [key: string]: string } {
    return { ...this._labels };
  }
}

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;

function validateLabelKey(key: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    validateDnsSubdomain(prefix, 'label key prefix');
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    throw problem(`invalid label key "${key}": the name part must be 1-63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`);
  }
}

function validateLabelValue(key: string, value: string): void {
  if (typeof value !== 'string' || value.length > 63 || (value.length > 0 && !LABEL_NAME.test(value))) {
    throw problem(`invalid value ${show(value)} for label "${key}": at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric`);
  }
}
