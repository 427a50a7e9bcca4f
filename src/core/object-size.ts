/**
 * etcd refuses a request larger than 1.5 MiB (its default `--max-request-bytes`), so the API server cannot store a
 * bigger object: one home for that bound, used by constructs whose objects grow with their host lists.
 */

/** The largest object the API server can store with etcd's default request limit (1.5 MiB). */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

/**
 * The bytes a list of host names takes in an object's JSON, each written `copies` times (e.g. a VirtualService lists
 * them in `hosts` and in every port's `sniHosts`), with `overhead` bytes around each (quotes, comma, a prefix).
 *
 * @internal
 */
export function hostListBytes(names: string[], copies: number, overhead: number = 3): number {
  let bytes = 0;
  for (const n of names) {
    bytes += n.length + overhead;
  }
  return bytes * copies;
}

/**
 * A synth-time problem when an object would be larger than the API server can store, or undefined.
 *
 * @internal
 */
export function objectSizeProblem(what: string, bytes: number, fix: string): string | undefined {
  if (bytes <= MAX_OBJECT_BYTES * 0.95) {
    return undefined;
  }
  return `${what} would be about ${Math.round(bytes / 1024)} KiB, more than the API server can store (etcd's 1.5 MiB per object); ${fix}`;
}
