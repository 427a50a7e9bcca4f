/**
 * Range checks for what the Kubernetes API server, Istio or Envoy would refuse after synthesis: protobuf integer
 * widths, protobuf Duration range, enum values, container port names (IANA service names), Service names
 * (DNS-1035 labels), the Istio proxy's own ports and RE2 regular expressions.
 *
 * Each check throws a `problem` (no construct path): call it inside `inField(scope, field, ...)`.
 */
import { Duration } from 'cdk8s';
import { problem } from './errors';
import { re2Problem } from './re2';

/** @internal Largest int32 (protobuf `int32`, e.g. EnvoyFilter `priority`). */
export const INT32_MAX = 2147483647;
/** @internal Smallest int32. */
export const INT32_MIN = -2147483648;
/** @internal Largest uint32 (protobuf `uint32` / `UInt32Value`, e.g. Envoy `max_hosts`). */
export const UINT32_MAX = 4294967295;
/**
 * @internal
 * Largest protobuf Duration in seconds (10,000 years: `google/protobuf/duration.proto`, "approximately +-10,000
 * years"); Envoy refuses larger values when it loads the config.
 */
export const MAX_DURATION_SECONDS = 315576000000;

/**
 * Checks a whole number in `min..max`. `what` names it in the message (e.g. `priority`), `width` names the protobuf
 * type (`int32`) when the bound comes from one.
 *
 * @internal
 */
export function checkInteger(value: unknown, what: string, min: number, max: number, width?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw problem(`${what} ${show(value)} must be a whole number in the range ${min}..${max}`);
  }
  if (value < min || value > max) {
    const why = width ? ` (${width})` : '';
    throw problem(`${what} ${value} is out of range${why}; use a whole number in ${min}..${max}`);
  }
  return value;
}

/** A protobuf `int32`. @internal */
export function checkInt32(value: unknown, what: string): number {
  return checkInteger(value, what, INT32_MIN, INT32_MAX, 'a protobuf int32');
}

/** A protobuf `uint32` of at least `min` (default 1). @internal */
export function checkUint32(value: unknown, what: string, min: number = 1): number {
  return checkInteger(value, what, min, UINT32_MAX, 'a protobuf uint32');
}

/**
 * Checks a cdk8s `Duration` for a protobuf Duration field: a `Duration` instance (not a number or string), whole
 * milliseconds, at least `minSeconds`, at most protobuf's maximum (315576000000 s), and renders it as protobuf JSON
 * (`300s`, `1.5s`).
 *
 * @internal
 */
export function checkDuration(value: unknown, what: string, minSeconds: number = 0): string {
  if (!(value instanceof Duration)) {
    throw problem(`${what} ${show(value)} must be a Duration, e.g. Duration.minutes(5)`);
  }
  let ms: number;
  try {
    ms = value.toMilliseconds();
  } catch (e) {
    // cdk8s refuses fractions of a millisecond and non-finite amounts
    throw problem(`${what} ${value.toHumanString()} must be a whole, finite number of milliseconds, e.g. Duration.seconds(30)`, '', e);
  }
  if (!Number.isFinite(ms) || !Number.isInteger(ms) || ms < 0) {
    throw problem(`${what} of ${ms} ms must be a whole, finite number of milliseconds, e.g. Duration.seconds(30)`);
  }
  if (ms < minSeconds * 1000) {
    throw problem(`${what} of ${ms} ms is too short; use at least ${minSeconds} ${minSeconds === 1 ? 'second' : 'seconds'}`);
  }
  if (ms > MAX_DURATION_SECONDS * 1000) {
    throw problem(`${what} of ${ms / 1000} s is longer than a protobuf Duration allows (${MAX_DURATION_SECONDS} s, about 10,000 years); use a shorter one, e.g. Duration.days(1)`);
  }
  return `${ms / 1000}s`;
}

/**
 * Checks that `value` is one of an enum's values (from JavaScript any string gets through the type).
 *
 * @param enumName the enum as the user writes it, e.g. `DnsLookupFamily`
 * @internal
 */
export function checkEnum<T extends string>(value: unknown, values: { [key: string]: T }, enumName: string, what: string): T {
  const allowed = Object.values(values);
  if (!allowed.includes(value as T)) {
    throw problem(`${what} ${show(value)} is not a ${enumName}; use one of ${allowed.map((v) => `${enumName}.${keyOf(values, v)}`).join(', ')}`);
  }
  return value as T;
}

/**
 * Why `name` is not a valid container port name (Kubernetes `IsValidPortName`, an IANA service name: at most 15
 * characters, lower-case letters, digits and `-`, at least one letter, no `-` at either end and no `--`), or
 * undefined. Service port names only need a DNS-1123 label, but a Deployment refuses a container port named otherwise.
 *
 * @internal
 */
export function containerPortNameProblem(name: string): string | undefined {
  if (name.length > 15) {
    return `is ${name.length} characters long; a container port name has at most 15 (Kubernetes IANA_SVC_NAME)`;
  }
  if (!/^[a-z0-9-]+$/.test(name)) {
    return 'may contain only lower-case letters, digits and \'-\' (Kubernetes IANA_SVC_NAME)';
  }
  if (!/[a-z]/.test(name)) {
    return 'needs at least one letter (Kubernetes IANA_SVC_NAME)';
  }
  if (name.startsWith('-') || name.endsWith('-') || name.includes('--')) {
    return 'may not start or end with \'-\' or contain \'--\' (Kubernetes IANA_SVC_NAME)';
  }
  return undefined;
}

/**
 * Why `name` is not a DNS-1035 label (what Kubernetes requires of Service names: a DNS-1123 label that starts with a
 * letter), or undefined.
 *
 * @internal
 */
export function dns1035LabelProblem(name: string): string | undefined {
  if (!/^[a-z]/.test(name)) {
    return 'must start with a lower-case letter (Kubernetes Service names are DNS-1035 labels)';
  }
  return undefined;
}

/**
 * The ports the Istio proxy of a pod uses itself ("Ports used by Istio",
 * https://istio.io/latest/docs/ops/deployment/requirements/#ports-used-by-istio): a gateway listener on one of them
 * would collide with the proxy's own. Istio's reserved-port check (`CanBindToPort`, `pilot/pkg/model/context.go`)
 * runs for sidecar listeners only, not for gateways, so the library checks gateway ports itself.
 *
 * @internal
 */
export const PROXY_RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [15000, 'the Envoy admin port'],
  [15001, 'the outbound capture port'],
  [15004, 'the debug port'],
  [15006, 'the inbound capture port'],
  [15008, 'the HBONE port'],
  [15009, 'the HBONE port for secure networks'],
  [15020, 'the merged Prometheus telemetry port'],
  [15021, 'the health check port'],
  [15053, 'the DNS proxy port'],
  [15090, 'the Envoy Prometheus port'],
]);

/**
 * Checks that a gateway Service or pod port is not one the Istio proxy binds itself.
 *
 * @internal
 */
export function checkNotProxyPort(port: number, what: string): number {
  const use = PROXY_RESERVED_PORTS.get(port);
  if (use !== undefined) {
    throw problem(`${what} ${port} is ${use} of the Istio proxy, which binds it itself; choose another port (e.g. 8443)`);
  }
  return port;
}

/**
 * Checks a regular expression that Istio compiles with Go's RE2 (`regexp.Compile`), e.g. EnvoyFilter
 * `proxyVersion`.
 *
 * @internal
 */
export function checkRe2(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw problem(`${what} ${show(value)} must be a string (a Go RE2 regular expression such as "^1\\.30\\..*")`);
  }
  const why = re2Problem(value);
  if (why !== undefined) {
    throw problem(`${what} ${JSON.stringify(value)} is not valid RE2 (Go regexp, which Istio compiles it with): ${why}`);
  }
  return value;
}

/**
 * A value for messages: strings quoted, objects as JSON (short), functions and symbols by type.
 *
 * @internal
 */
export function show(value: unknown): string {
  if (value === undefined) {
    return 'undefined';
  }
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    return `(a ${typeof value})`;
  }
  try {
    const json = JSON.stringify(value);
    if (json === undefined) {
      return String(value);
    }
    if (typeof value === 'number' && !Number.isFinite(value)) {
      return String(value);
    }
    return json.length > 60 ? `${json.slice(0, 57)}...` : json;
  } catch {
    return `(a ${typeof value})`;
  }
}

function keyOf<T>(values: { [key: string]: T }, v: T): string {
  return Object.keys(values).find((k) => values[k] === v) ?? String(v);
}
