import { IConstruct } from 'constructs';

/**
 * The one error mechanism of the library. Every message reads `<where>: <field>: <reason>`:
 *
 * - `<where>` is the construct path (`app/chart/gateway`) or, for an error thrown by a static factory before any
 *   construct has seen the value, the factory call (`EgressPort.tls(0)`, `new MeshSettings`);
 * - `<field>` is the prop or argument being read (`ports[1]`, `dnsCache.maxHosts`);
 * - `<reason>` is one or two sentences, starting lower case: what is wrong, the bad value, and the fix.
 *
 * Building blocks (value checks, factories) throw `problem(...)` without a construct path; the construct that reads
 * the value wraps the call in `inField`, which prefixes path and field and keeps the building block's error as
 * `cause`. An error that already names a construct passes through unchanged, so nesting never doubles a prefix.
 *
 * Factories throw eagerly (an invalid `EgressPort` or `WorkloadIdentity` never exists, in TypeScript or Python, and
 * the stack trace points at the line that made it) with a self-contained message naming the factory; every construct
 * re-checks what it consumes (type, instance, contextual bounds) with its path and field.
 */

/**
 * An input error. `reason` is the message without any prefix.
 *
 * @internal
 */
export class InputError extends Error {
  /** The message without the `<where>: <field>:` prefix. */
  public readonly reason: string;
  /** The field relative to the field being read by the caller (`[2]`, `.maxHosts`), or empty. */
  public readonly subField: string;
  /** True once the message names a construct path. */
  public readonly located: boolean;

  public constructor(message: string, reason: string, subField: string, located: boolean, cause?: unknown) {
    super(message);
    this.name = 'Error';
    this.reason = reason;
    this.subField = subField;
    this.located = located;
    if (cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
    }
  }
}

/**
 * A problem with a value, found by a building block that does not know the construct. `subField` locates the bad part
 * relative to the value (`[2]`, `.maxHosts`, `maxHosts`), so `inField(scope, 'dnsCache', ...)` reports
 * `dnsCache.maxHosts`. `standalone` is the message while no construct has located the error (default: the sub-field
 * and the reason).
 *
 * @internal
 */
export function problem(reason: string, subField: string = '', cause?: unknown, standalone?: string): InputError {
  const message = standalone ?? (subField ? `${joinField('', subField)}: ${reason}` : reason);
  return new InputError(message, reason, normalizeSub(subField), false, cause);
}

/**
 * Runs `fn` and, if it throws, rethrows the error prefixed with the construct path and the field that was being
 * read (the original error is kept as `cause`). Errors that already name a construct pass through unchanged.
 *
 * @internal
 */
export function inField<T>(scope: IConstruct, field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw locate(scope, field, e);
  }
}

/**
 * Throws an error that names the construct path and the field.
 *
 * @internal
 */
export function fieldError(scope: IConstruct, field: string, reason: string): never {
  throw locatedError(scope.node.path, field, reason);
}

/**
 * Runs a static factory's checks: errors get the factory call as their prefix (`EgressPort.tls(0): ...`), so the
 * message is self-contained even though no construct has seen the value yet. When a construct later wraps the same
 * error with `inField`, the factory prefix is replaced by the construct path and field.
 *
 * @internal
 */
export function inFactory<T>(origin: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof InputError) {
      if (e.located) {
        throw e;
      }
      const field = e.subField ? joinField('', e.subField) : '';
      // not `located`: a construct that wraps this call still adds its path and field
      throw new InputError(`${origin}: ${field ? `${field}: ` : ''}${e.reason}`, e.reason, e.subField, false, e);
    }
    const reason = lowerFirst(e instanceof Error ? e.message : String(e));
    throw new InputError(`${origin}: ${reason}`, reason, '', false, e);
  }
}

/**
 * The error `e` relocated under a sub-field (`[2]`, `podLabels`), for building blocks that check the parts of a value
 * themselves; the construct's `inField` later adds path and field. Factory prefixes are dropped, `e` is the cause.
 *
 * @internal
 */
export function atSubField(e: unknown, sub: string): Error {
  if (e instanceof InputError) {
    return e.located ? e : problem(e.reason, `${normalizeSub(sub)}${e.subField}`, e);
  }
  return problem(lowerFirst(e instanceof Error ? e.message : String(e)), sub, e);
}

/**
 * The error `inField` throws for `e`.
 *
 * @internal
 */
export function locate(scope: IConstruct, field: string, e: unknown): Error {
  if (e instanceof InputError) {
    if (e.located) {
      return e;
    }
    return locatedError(scope.node.path, joinField(field, e.subField), e.reason, e);
  }
  const message = e instanceof Error ? e.message : String(e);
  return locatedError(scope.node.path, field, lowerFirst(message), e);
}

function locatedError(path: string, field: string, reason: string, cause?: unknown): InputError {
  return new InputError(`${path}: ${field}: ${reason}`, reason, field, true, cause);
}

/** `ports` + `[1]` = `ports[1]`; `dnsCache` + `maxHosts` = `dnsCache.maxHosts`; `allow("a")` + `x` = `allow("a"): x`. */
function joinField(field: string, sub: string): string {
  const s = normalizeSub(sub);
  if (!s) {
    return field;
  }
  if (!field) {
    return s.startsWith('.') ? s.slice(1) : s;
  }
  if ((field.endsWith(')') || field.includes(' ')) && s.startsWith('.')) {
    // a method call is not an object: `rule "admin": identities[0]`, `allowEgressPath #0: podLabels`
    return `${field}: ${s.slice(1)}`;
  }
  return `${field}${s}`;
}

function normalizeSub(sub: string): string {
  if (!sub || sub.startsWith('[') || sub.startsWith('.')) {
    return sub;
  }
  return `.${sub}`;
}

/** Proper names a reason may start with. */
const PROPER_NAMES = /^(Istio|Istio's|Envoy|Envoy's|Kubernetes|Go|JavaScript|TypeScript|Python|Java|RE2|DNS|TLS|HTTP)\b/;

/** One casing: a reason starts lower case, unless it starts with an identifier, a proper name or a quoted value. */
function lowerFirst(message: string): string {
  if (PROPER_NAMES.test(message) || !/^[A-Z][a-z]+\b(?![.(])/.test(message) || /^[A-Z][a-z]+[A-Z]/.test(message)) {
    return message;
  }
  return message[0].toLowerCase() + message.slice(1);
}
