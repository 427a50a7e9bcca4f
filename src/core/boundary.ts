/**
 * Type checks at the JavaScript boundary. TypeScript and jsii's Python/Java/Go bindings check types before a call
 * reaches the library; plain JavaScript (and `any` in TypeScript) does not, so `hosts: "a.com"` or `allowFrom: [{}]`
 * would otherwise end in a `TypeError` deep inside a construct. Constructs call these where props enter, inside
 * `inField`, so the error names the construct path and field.
 *
 * Each check throws a `problem` (no construct path); `subField` locates a bad element (`[2]`).
 */
import { show } from './bounds';
import { atSubField, problem } from './errors';

/** Options for `requireArray`. @internal */
export interface ArrayCheck<T> {
  /** What one element is, for messages: `a host such as "api.example.com"`. */
  readonly element: string;
  /** Checks and converts one element; its errors are located at `[i]`. */
  readonly each?: (item: unknown, index: number) => T;
}

/**
 * Checks that `value` is an array (not a single value, a string, or an object) and that no element is null or
 * undefined, then checks each element. Returns a copy.
 *
 * @internal
 */
export function requireArray<T>(value: unknown, check: ArrayCheck<T>): T[] {
  if (!Array.isArray(value)) {
    const hint = typeof value === 'string' ? `; wrap it in a list: [${JSON.stringify(value)}]` : `; give a list, each ${check.element}`;
    throw problem(`expected a list, got ${describe(value)}${hint}`);
  }
  return value.map((item, i) => {
    if (item === undefined || item === null) {
      throw problem(`${check.element} must not be ${item === null ? 'null' : 'undefined'}; remove the empty entry`, `[${i}]`);
    }
    if (!check.each) {
      return item as T;
    }
    try {
      return check.each(item, i);
    } catch (e) {
      throw atSubField(e, `[${i}]`);
    }
  });
}

/**
 * Checks that `value` was made by the library class `type` (e.g. `EgressPort.tls(443)`), not a plain object with the
 * same fields: the library relies on what the factories checked.
 *
 * @param how how to make one, for the message: `EgressPort.tls(443)`
 * @internal
 */
export function requireInstance<T>(value: unknown, type: { prototype: T; name: string }, how: string): T {
  if (value instanceof (type as any)) {
    return value as T;
  }
  const got =
    value !== null && typeof value === 'object' && !Array.isArray(value) && value.constructor && value.constructor !== Object
      ? `${article(value.constructor.name)} ${value.constructor.name}`
      : describe(value);
  throw problem(`expected ${article(type.name)} ${type.name}, got ${got}; make one with ${callFree(how)}`);
}

/**
 * Checks that `value` is an object with the given methods (an implementation of a library interface, possibly from
 * another language), e.g. an `IEgressGateway`.
 *
 * @internal
 */
export function requireImplements<T>(value: unknown, interfaceName: string, methods: string[], how: string): T {
  const missing = value === null || typeof value !== 'object' ? methods : methods.filter((m) => typeof (value as any)[m] !== 'function');
  if (missing.length > 0) {
    throw problem(`expected ${article(interfaceName)} ${interfaceName}, got ${describe(value)} (no ${missing.join(', ')}); use ${callFree(how)}`);
  }
  return value as T;
}

/** Checks a string. @internal */
export function requireString(value: unknown, example: string): string {
  if (typeof value !== 'string') {
    throw problem(`expected a string such as ${JSON.stringify(example)}, got ${describe(value)}`);
  }
  return value;
}

/** Checks a boolean. @internal */
export function requireBoolean(value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw problem(`expected true or false, got ${describe(value)}`);
  }
  return value;
}

/** Checks a props object (a struct): an object, not an array, string or class instance of another kind. @internal */
export function requireStruct<T>(value: unknown, structName: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw problem(`expected ${structName} (an object of options), got ${describe(value)}`);
  }
  return value as T;
}

/** `a string "a.com"`, `the number 443`, `an object {"namespace":"x"}`, `null`. @internal */
export function describe(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return `a list ${show(value)}`;
  }
  const path = typeof value === 'object' ? (value as any).node?.path : undefined;
  if (typeof path === 'string') {
    return `the construct "${path}" (${(value as any).constructor?.name ?? 'object'})`;
  }
  switch (typeof value) {
    case 'string':
      return `the string ${show(value)}`;
    case 'number':
      return `the number ${show(value)}`;
    case 'boolean':
      return `${value}`;
    case 'undefined':
      return 'undefined';
    case 'object':
      return `an object ${show(value)}`;
    default:
      return show(value);
  }
}

/** `a` or `an` before a name (`an EgressPort`, `an IEgressGateway`, `a MeshSettings`). */
function article(name: string): string {
  return /^[AEIOU]/.test(name) ? 'an' : 'a';
}

/**
 * A hint without TypeScript call syntax, so it reads the same from Python, Java and Go: `new MeshSettings({ ... })`
 * becomes `new MeshSettings`, `WorkloadIdentity.serviceAccount("shop", "checkout")` `WorkloadIdentity.serviceAccount`.
 */
function callFree(how: string): string {
  let out = how;
  for (let previous = ''; previous !== out;) {
    previous = out;
    out = out.replace(/\([^()]*\)/g, '');
  }
  return out;
}
