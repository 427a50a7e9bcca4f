import { show } from './bounds';
import { addToList } from './collections';
import { dnsLabelProblem, MAX_DNS_NAME_LENGTH } from './dns';
import { inFactory, problem } from './errors';

/**
 * Options for parsing an external host.
 */
export interface ExternalHostOptions {
  /**
   * Accept the bare wildcard `*`, which matches every host on the internet.
   *
   * With `*` the allow-list allows everything: any workload allowed to use the egress path can reach any host, and
   * the only control left is who may use the path. Istio itself rejects `*` in ServiceEntry hosts and in mesh-bound
   * VirtualServices, so constructs that cannot express it still refuse it.
   *
   * @default false
   */
  readonly allowAnyHost?: boolean;
}

/**
 * A host an egress construct refuses by default, accepted anyway for a recorded reason.
 *
 * The constructs refuse two kinds of hosts (each message names the risk):
 * - names that lead into the cluster or to cloud metadata: anything under the cluster domain (`*.svc.cluster.local`,
 *   `kubernetes.default.svc.cluster.local`), the gateway's own Service, names under private-use top-level domains
 *   (`.internal`, `.local`, `.localhost`, `.svc`, `.arpa`, ...) or a namespace of the cluster (`istiod.istio-system`),
 *   `localhost.*`, cloud metadata names (`metadata.google.internal`, `metadata.goog`), and names under DNS services
 *   that answer with the address written in the name (`169.254.169.254.nip.io`, `*.sslip.io`);
 * - wildcards anyone can register a name under: a wildcard with one label after `*` (`*.com`), at a public suffix
 *   (`*.co.uk`), or covering a multi-tenant provider domain (`*.amazonaws.com`, `*.s3.amazonaws.com`,
 *   `*.blob.core.windows.net`, `*.cloudfront.net`, `*.github.io`, `*.herokuapp.com`, `*.ngrok.io`, ...).
 *
 * An exemption names the host exactly as listed; the reason is written to the ServiceEntry's
 * `cdk8s-istio-egress/host-exemptions` annotation for reviewers. An exemption for a host that is not listed, or that
 * is not refused, fails synthesis.
 */
export interface HostExemption {
  /** The host exactly as it is listed, e.g. `*.s3.amazonaws.com` or `metadata.google.internal`. */
  readonly host: string;

  /**
   * Why the host must be reachable although the library refuses it (who decided, a ticket). Required, not empty.
   */
  readonly reason: string;
}

/**
 * An external (outside the mesh) host name as Istio understands it: an exact fully qualified name such as
 * `api.github.com`, or a wildcard `*.wikipedia.org` that matches every name ending in `.wikipedia.org` (any depth,
 * but not `wikipedia.org` itself).
 *
 * Parsing follows Istio's validation (`pkg/config/validation/agent/validation.go`: `ValidateWildcardDomain`,
 * `ValidateFQDN`, `ValidatePartialWildCard`) and is a little stricter where Istio's leniency only hides mistakes:
 * names must be lower case (Envoy compares SNI names as given), fully qualified (external names have at least two
 * labels), and without a trailing dot (a TLS SNI never carries one).
 *
 * @see https://istio.io/latest/docs/reference/config/networking/service-entry/#ServiceEntry
 */
export class ExternalHost {
  /**
   * Parses and validates a host name.
   *
   * @param name an exact name (`api.example.com`) or a wildcard whose whole leftmost label is `*` (`*.example.com`)
   * @throws if the name is not valid; the message quotes the name and says how to fix it
   */
  public static of(name: string, options: ExternalHostOptions = {}): ExternalHost {
    const known = VALID_HOSTS.get(name);
    if (known !== undefined) {
      return known;
    }
    const why = hostProblem(name, options?.allowAnyHost ?? false);
    if (why) {
      inFactory(`ExternalHost.of(${show(name)})`, () => {
        throw problem(`invalid host ${JSON.stringify(name) ?? String(name)}: ${why}`);
      });
    }
    const host = new ExternalHost(name);
    if (name !== '*') {
      // `*` is valid only with allowAnyHost, so it is checked every time
      if (VALID_HOSTS.size >= MAX_VALID_HOSTS) {
        VALID_HOSTS.clear();
      }
      VALID_HOSTS.set(name, host);
    }
    return host;
  }

  /** The host as written: `api.example.com`, `*.example.com` or `*`. */
  public readonly name: string;

  /** True for `*.example.com` and `*`. */
  public readonly isWildcard: boolean;

  /** True only for the bare wildcard `*`. */
  public readonly isAnyHost: boolean;

  /**
   * The domain a wildcard applies to (`example.com` for `*.example.com`, empty for `*`); the name itself for an exact
   * host.
   */
  public readonly domain: string;

  private constructor(name: string) {
    this.name = name;
    this.isAnyHost = name === '*';
    this.isWildcard = name.startsWith('*');
    this.domain = this.isAnyHost ? '' : this.isWildcard ? name.slice(2) : name;
    // Immutable in JavaScript too: one object serves every use of a name (`of` keeps them), so an assignment to a
    // field must fail, not change the host for the whole process. (Not frozen: the jsii runtime tags the object.)
    for (const field of ['name', 'isAnyHost', 'isWildcard', 'domain']) {
      Object.defineProperty(this, field, { writable: false, configurable: false });
    }
  }

  /**
   * Whether a concrete DNS name (as sent in a TLS SNI or HTTP Host header) is allowed by this host.
   *
   * `*.a.com` matches `b.a.com` and `c.b.a.com` but not `a.com`, as Istio and Envoy `server_names` do.
   */
  public matches(dnsName: string): boolean {
    if (this.isAnyHost) {
      return true;
    }
    if (this.isWildcard) {
      return dnsName.endsWith(`.${this.domain}`);
    }
    return dnsName === this.name;
  }

  /**
   * Whether every name this host matches is also matched by `this` (`*.a.com` covers `b.a.com`, `*.b.a.com` and
   * itself).
   */
  public covers(other: ExternalHost): boolean {
    if (this.isAnyHost || this.name === other.name) {
      return true;
    }
    if (!this.isWildcard) {
      return false;
    }
    if (other.isAnyHost) {
      return false;
    }
    // *.a.com covers x.a.com and *.x.a.com: the other's domain (its name, if exact) ends in .a.com
    return other.domain.endsWith(`.${this.domain}`);
  }

  /** Whether some DNS name is matched by both hosts (one covers the other). */
  public overlaps(other: ExternalHost): boolean {
    return this.covers(other) || other.covers(this);
  }

  /** The host as written. */
  public toString(): string {
    return this.name;
  }
}

/**
 * Values keyed by external hosts, found by overlap in time proportional to a host's labels (not to the number of
 * hosts): the one domain-suffix index of the library (HostSet, the app-wide registry and the waypoint's hosts).
 *
 * @internal
 */
export class HostIndex<T> {
  private readonly byName = new Map<string, T[]>();
  /** Values of wildcard hosts by the domain they cover (`a.com` for `*.a.com`; `` for `*`). */
  private readonly wildcardsByDomain = new Map<string, T[]>();
  /** Values by every proper suffix of their host's domain (`a.com` and `com` for `x.a.com`). */
  private readonly underSuffix = new Map<string, T[]>();
  private readonly all: T[] = [];

  /** Adds a value under a host (several values may share a host). */
  public add(host: ExternalHost, value: T): void {
    this.all.push(value);
    addToList(this.byName, host.name, value);
    if (host.isWildcard) {
      addToList(this.wildcardsByDomain, host.domain, value);
    }
    for (const suffix of domainSuffixes(host)) {
      addToList(this.underSuffix, suffix, value);
    }
  }

  /** The values under exactly this host name. */
  public named(name: string): T[] {
    return [...(this.byName.get(name) ?? [])];
  }

  /**
   * The values whose host overlaps `host`, each once: the same name first, then the hosts covering it (`*`, then
   * `*.d` for each proper suffix `d` of its domain, longest first), then, for a wildcard, the hosts it covers.
   */
  public overlapping(host: ExternalHost): T[] {
    if (host.isAnyHost) {
      return [...this.all];
    }
    // Most hosts overlap nothing: collect only when a list is found (this runs for every host every construct adds).
    const lists: T[][] = [];
    const named = this.byName.get(host.name);
    if (named !== undefined) {
      lists.push(named);
    }
    const any = this.wildcardsByDomain.get('');
    if (any !== undefined) {
      lists.push(any);
    }
    for (const d of domainSuffixes(host)) {
      const covering = this.wildcardsByDomain.get(d);
      if (covering !== undefined) {
        lists.push(covering);
      }
    }
    if (host.isWildcard) {
      const covered = this.underSuffix.get(host.domain);
      if (covered !== undefined) {
        lists.push(covered);
      }
    }
    if (lists.length === 0) {
      return [];
    }
    return lists.length === 1 ? [...new Set(lists[0])] : [...new Set(lists.flat())];
  }

  /** The values whose host a wildcard `host` strictly covers (`x.a.com`, `*.x.a.com` under `*.a.com`); none for an exact host. */
  public coveredBy(host: ExternalHost): T[] {
    if (!host.isWildcard) {
      return [];
    }
    return host.isAnyHost ? [...this.all] : [...(this.underSuffix.get(host.domain) ?? [])];
  }

  /** Number of values. */
  public get size(): number {
    return this.all.length;
  }
}

/**
 * An ordered, de-duplicated set of external hosts: the one allow-list that every resource of a construct lists.
 *
 * Hosts are kept sorted, so each resource lists the same names in the same order whatever order they were added in.
 * Exact duplicates are merged (the same name twice means the same thing). Overlapping entries (`*.a.com` and
 * `b.a.com`) are refused: Istio rejects them in one VirtualService ("duplicate hosts in virtual service") and the
 * narrower one would grant nothing, so the user must choose.
 */
export class HostSet {
  private readonly byName = new Map<string, ExternalHost>();
  private readonly index = new HostIndex<ExternalHost>();
  private sorted?: ExternalHost[];

  /**
   * @param hosts hosts to start with
   */
  public constructor(hosts: ExternalHost[] = []) {
    for (const host of hosts) {
      this.add(host);
    }
  }

  /**
   * Adds a host. A host already present is ignored.
   *
   * Checking a host against the set takes time proportional to its number of labels, not to the size of the set.
   *
   * @throws if the host overlaps another host of the set (one covers the other)
   */
  public add(host: ExternalHost): void {
    if (this.byName.has(host.name)) {
      return;
    }
    const existing = this.index.overlapping(host)[0];
    if (existing) {
      const [wide, narrow] = existing.covers(host) ? [existing, host] : [host, existing];
      throw problem(
        `invalid host "${host.name}": it overlaps "${existing.name}" ("${wide.name}" already matches "${narrow.name}"); ` +
          `Istio rejects overlapping hosts in one VirtualService, so keep only "${wide.name}" or replace it with exact names`,
      );
    }
    this.byName.set(host.name, host);
    this.index.add(host, host);
    this.sorted = undefined;
  }

  /** Whether a concrete DNS name is allowed by one of the hosts. */
  public matches(dnsName: string): boolean {
    if (this.byName.has(dnsName) && !this.byName.get(dnsName)!.isWildcard) {
      return true;
    }
    return this.byName.has('*') || properSuffixes(dnsName).some((d) => this.byName.has(`*.${d}`));
  }

  /** The hosts, sorted by name. */
  public get hosts(): ExternalHost[] {
    this.sorted = this.sorted ?? [...this.byName.values()].sort((a, b) => compareNames(a.name, b.name));
    return [...this.sorted];
  }

  /** The host names, sorted: the list every generated resource uses. */
  public get names(): string[] {
    return this.hosts.map((h) => h.name);
  }

  /** Number of hosts. */
  public get size(): number {
    return this.byName.size;
  }
}

/**
 * Hosts already parsed, by name: an `ExternalHost` is immutable, and a platform's hosts are parsed several times (the
 * allow-list entry, then each construct it feeds). Bounded; emptied when full.
 */
const VALID_HOSTS = new Map<string, ExternalHost>();
const MAX_VALID_HOSTS = 20_000;

/** `properSuffixes` of a host's domain, computed once per host (an `ExternalHost` is immutable). */
const SUFFIXES = new WeakMap<ExternalHost, readonly string[]>();
function domainSuffixes(host: ExternalHost): readonly string[] {
  let suffixes = SUFFIXES.get(host);
  if (suffixes === undefined) {
    suffixes = properSuffixes(host.domain);
    SUFFIXES.set(host, suffixes);
  }
  return suffixes;
}

/**
 * `b.c` and `c` for `a.b.c`: the domains a wildcard would need to cover a name under this one. A host `h` is covered
 * by the wildcard `*.d` exactly when `d` is one of `properSuffixes(h.domain)`: the key of a domain-suffix index.
 *
 * @internal
 */
export function properSuffixes(domain: string): string[] {
  const suffixes: string[] = [];
  for (let i = domain.indexOf('.'); i >= 0; i = domain.indexOf('.', i + 1)) {
    suffixes.push(domain.slice(i + 1));
  }
  return suffixes;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Why `name` is not a valid external host, or undefined. */
function hostProblem(name: string, allowAnyHost: boolean): string | undefined {
  if (typeof name !== 'string') {
    return 'a host must be a string such as "api.example.com"';
  }
  if (name.length === 0) {
    return 'a host must not be empty; give a DNS name such as "api.example.com" or "*.example.com"';
  }
  if (name.trim() !== name) {
    return `remove the surrounding white space ("${name.trim()}")`;
  }
  if (name.length > MAX_DNS_NAME_LENGTH) {
    return `domain name is ${name.length} characters long; the maximum is ${MAX_DNS_NAME_LENGTH}`;
  }
  if (name === '*') {
    return allowAnyHost
      ? undefined
      : 'the bare wildcard allows every host on the internet; list the domains you need (e.g. "*.example.com"), ' +
          'or opt in explicitly with allowAnyHost and read its risks (ExternalHostOptions.allowAnyHost in API.md)';
  }
  if (name.includes('://') || name.includes('/')) {
    return 'a host is a DNS name, not a URL; remove the scheme and path (e.g. "api.example.com")';
  }
  if (name.includes(':')) {
    return 'a host must not carry a port or be an IPv6 address; give the DNS name alone and declare ports separately';
  }
  if (name.endsWith('.')) {
    return `remove the trailing dot ("${name.replace(/\.+$/, '')}"): a TLS SNI never carries it, so it would never match`;
  }
  const labels = name.split('.');
  const first = labels[0];
  if (first.startsWith('*') && first !== '*') {
    return `a wildcard must be the whole leftmost label, as in "*.${labels.slice(1).join('.') || 'example.com'}" (partial wildcards are not allowed)`;
  }
  if (labels.slice(1).some((l) => l.includes('*')) || (first !== '*' && first.includes('*'))) {
    return 'a wildcard is only allowed as the whole leftmost label, as in "*.example.com"';
  }
  const rest = first === '*' ? labels.slice(1) : labels;
  if (rest.length < (first === '*' ? 1 : 2)) {
    return `short names are not allowed; an external host must be a fully qualified name such as "${name}.com"`;
  }
  for (const label of rest) {
    if (label.length === 0) {
      return 'empty label (two dots in a row, or a leading dot)';
    }
    const labelWhy = dnsLabelProblem(label);
    if (labelWhy) {
      return `label "${label}" ${labelWhy}`;
    }
  }
  const tld = rest[rest.length - 1];
  if (/^[0-9]+$/.test(tld)) {
    return `top level domain "${tld}" cannot be all-numeric (IP addresses are not host names; use a DNS name)`;
  }
  return undefined;
}
