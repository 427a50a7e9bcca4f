/**
 * A config-level model of how Istio evaluates ALLOW AuthorizationPolicies for one request, covering the fields the
 * library generates (`from.source.principals/namespaces`, `to.operation.ports/hosts`, `when` with
 * `connection.sni`). Any other field makes it throw, so a test never silently ignores a condition.
 *
 * Semantics as in Istio 1.30 (`pilot/pkg/security/authz/model`): a policy allows a request when one rule matches; a
 * rule matches when every one of its parts matches (`from`: any entry; `to`: any entry; `when`: every condition);
 * within an entry every field given must match one of its values. Strings are exact, `*` (present), `prefix*` or
 * `*suffix` (`matcher.StringMatcher`); `hosts` ignore case (`matcher.HostMatcher`).
 */

/** What the gateway's RBAC filter knows about one request. */
export interface AuthzRequest {
  /** The client's mTLS principal (`<trustDomain>/ns/<ns>/sa/<sa>`). */
  readonly principal: string;
  /** The pod port the connection arrived on. */
  readonly port: number;
  /** The SNI of the (mesh mTLS) connection. */
  readonly sni: string;
  /** The HTTP Host of the request. */
  readonly host: string;
}

function stringMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  if (p === '*') {
    return v.length > 0;
  }
  if (p.startsWith('*')) {
    return v.endsWith(p.slice(1));
  }
  if (p.endsWith('*')) {
    return v.startsWith(p.slice(0, -1));
  }
  return p === v;
}

function checkKeys(obj: any, allowed: string[], where: string): void {
  for (const key of Object.keys(obj ?? {})) {
    if (!allowed.includes(key)) {
      throw new Error(`authz model: ${where}.${key} is not modelled`);
    }
  }
}

function sourceMatches(source: any, req: AuthzRequest): boolean {
  checkKeys(source, ['principals', 'namespaces'], 'source');
  const namespace = /\/ns\/([^/]+)\//.exec(req.principal)?.[1] ?? '';
  if (source.principals && !source.principals.some((p: string) => stringMatches(p, req.principal))) {
    return false;
  }
  if (source.namespaces && !source.namespaces.some((n: string) => stringMatches(n, namespace))) {
    return false;
  }
  return true;
}

function operationMatches(operation: any, req: AuthzRequest): boolean {
  checkKeys(operation, ['ports', 'hosts'], 'operation');
  if (operation.ports && !operation.ports.includes(String(req.port))) {
    return false;
  }
  if (operation.hosts && !operation.hosts.some((h: string) => stringMatches(h, req.host, true))) {
    return false;
  }
  return true;
}

function conditionMatches(condition: any, req: AuthzRequest): boolean {
  checkKeys(condition, ['key', 'values', 'notValues'], 'when');
  if (condition.key !== 'connection.sni') {
    throw new Error(`authz model: when key ${condition.key} is not modelled`);
  }
  if (condition.values && !condition.values.some((v: string) => stringMatches(v, req.sni))) {
    return false;
  }
  if (condition.notValues && condition.notValues.some((v: string) => stringMatches(v, req.sni))) {
    return false;
  }
  return true;
}

/** Whether the ALLOW policy `policy` (a synthesized object) allows the request. */
export function policyAllows(policy: any, req: AuthzRequest): boolean {
  if (policy.kind !== 'AuthorizationPolicy' || policy.spec.action !== 'ALLOW') {
    throw new Error('authz model: only ALLOW AuthorizationPolicies are modelled');
  }
  return (policy.spec.rules ?? []).some((rule: any) => {
    checkKeys(rule, ['from', 'to', 'when'], 'rule');
    const from = rule.from === undefined || rule.from.some((f: any) => sourceMatches(f.source, req));
    const to = rule.to === undefined || rule.to.some((t: any) => operationMatches(t.operation, req));
    const when = (rule.when ?? []).every((c: any) => conditionMatches(c, req));
    return from && to && when;
  });
}
