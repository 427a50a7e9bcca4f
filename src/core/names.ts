/**
 * Names of generated Kubernetes / Istio objects: DNS-1123 labels built from a base name and host names.
 *
 * Generated names are API (renaming one replaces a live object), so these functions are pure: the same parts always
 * give the same name, and a name only changes when one of its parts does.
 */
import { createHash } from 'crypto';
import { dnsLabelProblem, MAX_LABEL_LENGTH } from './dns';

/** Characters of the hash suffix that keeps shortened names distinct. */
const HASH_LENGTH = 8;

/**
 * The DNS-label form of an external host name: dots become dashes and a leading wildcard label becomes `wildcard`
 * (`edition.cnn.com` -> `edition-cnn-com`, `*.wikipedia.org` -> `wildcard-wikipedia-org`). The result may be longer
 * than one label allows; pass it through `dnsLabelName` to bound it.
 *
 * Not injective in rare cases (`a-b.com` and `a.b-com` both give `a-b-com`): callers that name one object per host
 * must check their names are distinct.
 *
 * @internal
 */
export function hostToDnsLabel(host: string): string {
  const named = host.startsWith('*') && (host.length === 1 || host[1] === '.') ? `wildcard${host.slice(1)}` : host;
  return named.replace(/\./g, '-');
}

/**
 * Joins parts with `-` into one DNS-1123 label of at most `maxLength` characters (`["tls-origination",
 * "edition-cnn-com"]` -> `tls-origination-edition-cnn-com`). A longer result is cut and ends in `-` plus the first 8
 * hex characters of the SHA-256 of the full joined name, so two long names that share a prefix stay distinct.
 *
 * @param parts non-empty parts, each already made of lower-case letters, digits and `-`
 * @param maxLength at most 63 (a DNS label)
 * @throws if the parts do not form a DNS label (e.g. upper case or dots), which is a bug in the caller
 * @internal
 */
export function dnsLabelName(parts: string[], maxLength: number = MAX_LABEL_LENGTH): string {
  const full = parts.filter((p) => p.length > 0).join('-');
  let name = full;
  if (full.length > maxLength) {
    const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_LENGTH);
    const head = full.slice(0, maxLength - HASH_LENGTH - 1).replace(/-+$/, '');
    name = `${head}-${hash}`;
  }
  const problem = dnsLabelProblem(name);
  if (problem) {
    throw new Error(`generated name "${name}" ${problem}`);
  }
  return name;
}
