/**
 * What the parts of an `EgressAllowList`'s realisation share (the checks, the sidecar and ambient plans, the
 * per-namespace objects, the fences and the matrix): the construct, its settings, and a few helpers.
 */
import { createHash } from 'crypto';
import { Construct } from 'constructs';
import type { EgressAllowListOptions } from './egress-allow-list';
import { AllowRule, HostRule } from './entry';
import { EgressMatrixRow } from './matrix';
import { DataplaneMode } from '../core/dataplane-mode';
import { WorkloadIdentity } from '../core/identity';
import { MeshSettings } from '../core/mesh';

/** The allow-list being realised. @internal */
export interface AllowListContext {
  /** The `EgressAllowList`: the scope of the constructs it creates, and of its errors. */
  readonly scope: Construct;
  /** Its options, as given. */
  readonly options: EgressAllowListOptions;
  /** Mesh settings in use. */
  readonly mesh: MeshSettings;
  /** The namespace of the egress gateways (the given gateway's, when one is given). */
  readonly gatewayNamespace: string;
  /** The mode of a namespace. */
  readonly modeOf: (namespace: string) => DataplaneMode;
  /** The path of each host (`gateway <ns>/<name>`, `waypoint <ns>/<name>`), by host name, for the matrix. */
  readonly hostPath: Map<string, string>;
  /** The egress matrix, filled as the namespaces are realised. */
  readonly rows: EgressMatrixRow[];
}

/** Runs fn; an error is prefixed with the entries behind a construct or host (their places joined only on error). @internal */
export function atEntries<T>(ctx: AllowListContext, rules: AllowRule[], fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw entryError(ctx, rules.map((r) => r.where).join(', '), e);
  }
}

/** Runs fn; an error is prefixed with the place of the entry it concerns. @internal */
export function atWhere<T>(ctx: AllowListContext, where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw entryError(ctx, where, e);
  }
}

function entryError(ctx: AllowListContext, where: string, e: unknown): Error {
  return new Error(`${ctx.scope.node.path}: ${where}: ${e instanceof Error ? e.message : String(e)}`);
}

/** The identity an entry allows: its namespace, or its service account. @internal */
export function identityOf(r: HostRule): WorkloadIdentity {
  return r.serviceAccount === undefined
    ? WorkloadIdentity.allInNamespace(r.namespace)
    : WorkloadIdentity.serviceAccount(r.namespace, r.serviceAccount);
}

/** @internal */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** Whether `outer` has every label of `inner` (so every pod `outer` selects, `inner` selects too). @internal */
export function contains(outer: { [key: string]: string }, inner: { [key: string]: string }): boolean {
  return Object.entries(inner).every(([k, v]) => outer[k] === v);
}

/** @internal */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
