import { IConstruct } from 'constructs';

/**
 * Runs `fn` and, if it throws, rethrows the error prefixed with the construct path and the field that was being
 * read, so every synth-time error says where (construct), what (field), and, from the building block, the bad value
 * and the fix.
 *
 * @internal
 */
export function inField<T>(scope: IConstruct, field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(`${scope.node.path}: ${field}: ${message}`);
  }
}

/**
 * Throws an error that names the construct path and the field.
 *
 * @internal
 */
export function fieldError(scope: IConstruct, field: string, message: string): never {
  throw new Error(`${scope.node.path}: ${field}: ${message}`);
}

/**
 * Rejects a null/undefined entry in a list given from another language (Istio's own validator once crashed on those).
 *
 * @internal
 */
export function requirePresent<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) {
    throw new Error(`${what} must not be null or undefined; remove the empty entry`);
  }
  return value;
}
