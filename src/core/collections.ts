/**
 * Small collection helpers shared by the layers.
 *
 * @internal
 */

/** Appends `value` to the list of `key` in `map`, creating the list on first use. */
export function addToList<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) {
    map.set(key, [value]);
  } else {
    list.push(value);
  }
}

/** The distinct numbers of `values`, ascending (ports, mostly). */
export function sortedUnique(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

/** `k1=v1,k2=v2`, keys sorted: a set of labels as one text, for keys and messages. */
export function labelText(labels: { [key: string]: string }): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}
