/**
 * One entry of the declarative egress allow-list: UDS Core's `Package` `spec.network.allow[]` item for
 * `direction: Egress` (same field names and meaning), extended with wildcard hosts, TLS origination, HTTP rules and
 * `serviceAccount` in both modes. This file holds the entry type and its validation (UDS's admission rules, in UDS's
 * order, with our wording); realisation is in `egress-allow-list.ts` and the steps it calls.
 *
 * UDS sources: defenseunicorns/uds-core `src/pepr/operator/crd/sources/package/v1alpha1.ts` (schema),
 * `src/pepr/operator/crd/validators/package-validator.ts` (admission), see ../shared/docs/uds-package-allow.md.
 */
import { Cidr } from '../core/cidr';
import { ExternalHost } from '../core/host';
import { OriginationTls } from '../core/origination-tls';
import { validatePortNumber } from '../core/port';

/** The protocol of an allow-list entry (UDS `remoteProtocol`). */
export enum RemoteProtocol {
  /** TLS from the application, passed through by SNI (the default with `remoteHost`). */
  TLS = 'TLS',
  /** Plain HTTP from the application: with `tlsOrigination` the gateway or waypoint encrypts it. */
  HTTP = 'HTTP',
  /** Opaque TCP (`remoteCidr` / `remoteGenerated` only; the default there). */
  TCP = 'TCP',
  /** UDP (`remoteCidr` / `remoteGenerated: Anywhere` only). */
  UDP = 'UDP',
}

/** A generated remote (UDS `remoteGenerated`). */
export enum RemoteGenerated {
  /** Any address outside the cluster, except the cloud metadata endpoint (NetworkPolicy only). */
  ANYWHERE = 'Anywhere',
  /** The Kubernetes API server (its CIDRs must be given in `EgressAllowListProps.kubeApiCidrs`). */
  KUBE_API = 'KubeAPI',
  /** The cloud metadata endpoint 169.254.169.254. */
  CLOUD_METADATA = 'CloudMetadata',
  /** The cluster's nodes (UDS only: not realised here). */
  KUBE_NODES = 'KubeNodes',
  /** The pods of the same namespace (UDS only: not realised here). */
  INTRA_NAMESPACE = 'IntraNamespace',
}

/** The direction of an entry (UDS `direction`). */
export enum AllowDirection {
  /** Traffic leaving the namespace: the only direction this library realises. */
  EGRESS = 'Egress',
  /** Traffic entering the namespace (UDS only: refused, or skipped with `skipUnsupported`). */
  INGRESS = 'Ingress',
}

/**
 * One allow-list entry: what the selected workloads of a namespace may reach. The fields are UDS Core's
 * `spec.network.allow[]` fields (same names, same defaults), plus `tlsOrigination`, `tlsPort`, `methods` and `paths`.
 */
export interface EgressAllowEntry {
  /**
   * The direction. Only `Egress` is realised; `Ingress` is refused (or skipped with `skipUnsupported`).
   *
   * @default AllowDirection.EGRESS
   */
  readonly direction?: AllowDirection;

  /**
   * What the entry is for; shown in the egress matrix and in messages.
   *
   * @default - none
   */
  readonly description?: string;

  /**
   * Labels added to the NetworkPolicy that realises the entry (the policy of its `selector`).
   *
   * @default - none
   */
  readonly labels?: { [key: string]: string };

  /**
   * Labels of the pods of the namespace the entry applies to: their Sidecar, their NetworkPolicy. The gateway and the
   * waypoint see identities, not labels: give `serviceAccount` too to narrow the entry there.
   *
   * @default - every pod of the namespace
   */
  readonly selector?: { [key: string]: string };

  /**
   * The service account (of the namespace) the entry is restricted to at the gateway or waypoint (its mTLS identity).
   * Both modes (UDS: ambient only).
   *
   * @default - every identity of the namespace
   */
  readonly serviceAccount?: string;

  /**
   * The external host: exact (`api.example.com`) or wildcard (`*.example.com`). UDS allows exact names only.
   *
   * @default - none: then `remoteCidr` or `remoteGenerated` is required
   */
  readonly remoteHost?: string;

  /**
   * The protocol.
   *
   * @default - TLS with `remoteHost` (HTTP with `tlsOrigination`), else TCP
   */
  readonly remoteProtocol?: RemoteProtocol;

  /**
   * The port. `ports` wins when both are given.
   *
   * @default - with `remoteHost`: 80 for HTTP, 443 for TLS; else every port
   */
  readonly port?: number;

  /**
   * The ports; wins over `port`.
   *
   * @default - `port`
   */
  readonly ports?: number[];

  /**
   * An IP range outside the cluster (NetworkPolicy `ipBlock`), e.g. `203.0.113.0/24`.
   *
   * @default - none
   */
  readonly remoteCidr?: string;

  /**
   * A generated remote: `Anywhere`, `KubeAPI`, `CloudMetadata` (realised as NetworkPolicy, plus what a
   * `REGISTRY_ONLY` sidecar needs).
   *
   * @default - none
   */
  readonly remoteGenerated?: RemoteGenerated;

  /**
   * UDS's in-cluster remote namespace. Not realised here: refused, or skipped with `skipUnsupported`.
   *
   * @default - none
   */
  readonly remoteNamespace?: string;

  /**
   * UDS's in-cluster remote pod selector. Not realised here: refused, or skipped with `skipUnsupported`.
   *
   * @default - none
   */
  readonly remoteSelector?: { [key: string]: string };

  /**
   * Originate TLS to the host: the application speaks plain HTTP on `port`/`ports`, the gateway (sidecar mode) or the
   * waypoint (ambient mode) connects with TLS to `tlsPort`. Exact hosts only.
   *
   * @default - none: the application's bytes leave unchanged
   */
  readonly tlsOrigination?: OriginationTls;

  /**
   * The port the host serves TLS on, with `tlsOrigination`.
   *
   * @default 443
   */
  readonly tlsPort?: number;

  /**
   * HTTP methods allowed (upper case). Needs HTTP (plain in ambient mode, or `tlsOrigination`).
   *
   * @default - any method
   */
  readonly methods?: string[];

  /**
   * HTTP paths allowed (`/exact`, `/prefix/*`, `*.suffix`). Needs HTTP, like `methods`.
   *
   * @default - any path
   */
  readonly paths?: string[];
}

/** The fields of an entry, for refusing unknown fields in documents. */
export const ENTRY_FIELDS = [
  'direction', 'description', 'labels', 'selector', 'serviceAccount', 'remoteHost', 'remoteProtocol', 'port', 'ports',
  'remoteCidr', 'remoteGenerated', 'remoteNamespace', 'remoteSelector', 'tlsOrigination', 'tlsPort', 'methods', 'paths',
];

/** An entry that asks for an external host. @internal */
export interface HostRule {
  readonly kind: 'host';
  readonly namespace: string;
  readonly where: string;
  readonly index: number;
  readonly description?: string;
  readonly labels?: { [key: string]: string };
  readonly host: ExternalHost;
  readonly ports: number[];
  readonly protocol: RemoteProtocol.TLS | RemoteProtocol.HTTP;
  readonly origination?: OriginationTls;
  readonly tlsPort: number;
  readonly methods?: string[];
  readonly paths?: string[];
  readonly serviceAccount?: string;
  readonly selector?: { [key: string]: string };
}

/** An entry realised as NetworkPolicy (`remoteCidr`, `remoteGenerated`). @internal */
export interface NetworkRule {
  readonly kind: 'network';
  readonly namespace: string;
  readonly where: string;
  readonly index: number;
  readonly description?: string;
  readonly labels?: { [key: string]: string };
  readonly remoteCidr?: string;
  readonly generated?: RemoteGenerated;
  /** Empty: every port. */
  readonly ports: number[];
  readonly protocol: RemoteProtocol.TCP | RemoteProtocol.UDP;
  readonly selector?: { [key: string]: string };
}

/** @internal */
export type AllowRule = HostRule | NetworkRule;

/** An entry that was skipped (`skipUnsupported`), for the report. @internal */
export interface SkippedEntry {
  readonly namespace: string;
  readonly where: string;
  readonly reason: string;
}

/** Thrown for an entry the library does not realise (skippable with `skipUnsupported`). @internal */
export class UnsupportedEntry extends Error {
  public constructor(public readonly reason: string) {
    super(reason);
  }
}

const METHOD = /^[A-Z]+$/;
const PATH = /^(\*|\/[^\s?#*]*\*?|\*[^\s?#*/]*)$/;

/**
 * Checks one entry as UDS's admission webhook would (rules 1-9, in UDS's order, with wildcards and the extensions
 * allowed), then what this library realises. Returns the normalised rule.
 *
 * @throws `<where>: <field>: <problem and fix>`; an `UnsupportedEntry` for what is not realised here
 * @internal
 */
export function validateEntry(namespace: string, entry: EgressAllowEntry, where: string, index: number): AllowRule {
  const fail = (field: string, message: string): never => {
    throw new Error(`${where}: ${field}: ${message}`);
  };
  if (entry === undefined || entry === null || typeof entry !== 'object') {
    fail('entry', `${JSON.stringify(entry)} is not an entry; give an object such as { remoteHost: "api.example.com" }`);
  }
  const direction = entry.direction ?? AllowDirection.EGRESS;
  if (!Object.values(AllowDirection).includes(direction)) {
    fail('direction', `${JSON.stringify(direction)} is not a direction; use Egress (or Ingress, which is not realised here)`);
  }
  const protocol = entry.remoteProtocol;
  if (protocol !== undefined && !Object.values(RemoteProtocol).includes(protocol)) {
    fail('remoteProtocol', `${JSON.stringify(protocol)} is not a protocol; use TLS, HTTP, TCP or UDP`);
  }
  const generated = entry.remoteGenerated;
  if (generated !== undefined && !Object.values(RemoteGenerated).includes(generated)) {
    fail('remoteGenerated', `${JSON.stringify(generated)} is not a generated remote; use Anywhere, KubeAPI, CloudMetadata, KubeNodes or IntraNamespace`);
  }
  const l7 = protocol === RemoteProtocol.TLS || protocol === RemoteProtocol.HTTP;
  const hasNamespace = entry.remoteNamespace !== undefined;
  const hasSelector = entry.remoteSelector !== undefined;
  const host = entry.remoteHost;
  const cidr = entry.remoteCidr;
  // UDS rule 1
  if (generated === undefined && !hasNamespace && !hasSelector && cidr === undefined && host === undefined) {
    fail('remoteHost', 'the entry names no remote, so it would allow nothing; give one of remoteHost, remoteCidr or remoteGenerated (UDS: remoteNamespace, remoteSelector)');
  }
  // UDS rules 2-4: one kind of remote per entry
  if (generated !== undefined && (hasNamespace || hasSelector || cidr !== undefined || host !== undefined || l7)) {
    fail('remoteGenerated', 'remoteGenerated cannot be combined with remoteNamespace, remoteSelector, remoteCidr, remoteHost, or TLS/HTTP remoteProtocol; split it into one entry per remote');
  }
  if ((hasNamespace || hasSelector) && (cidr !== undefined || host !== undefined || l7)) {
    fail(hasNamespace ? 'remoteNamespace' : 'remoteSelector', 'remoteNamespace and remoteSelector cannot be combined with remoteGenerated, remoteCidr, remoteHost, or TLS/HTTP remoteProtocol; split it into one entry per remote');
  }
  if (cidr !== undefined && (host !== undefined || l7)) {
    fail('remoteCidr', 'remoteCidr cannot be combined with remoteGenerated, remoteNamespace, remoteSelector, remoteHost, or TLS/HTTP remoteProtocol; split it into one entry per remote');
  }
  // UDS rule 5
  const tcpOnly = [RemoteGenerated.KUBE_API, RemoteGenerated.KUBE_NODES, RemoteGenerated.CLOUD_METADATA];
  if (protocol === RemoteProtocol.UDP && generated !== undefined && tcpOnly.includes(generated)) {
    fail('remoteProtocol', `UDP cannot be combined with remoteGenerated ${generated}: that endpoint is TCP-only; use TCP`);
  }
  // UDS rules 6-7
  if (host !== undefined && (protocol === RemoteProtocol.TCP || protocol === RemoteProtocol.UDP)) {
    fail('remoteProtocol', `${protocol} cannot be combined with remoteHost: external hosts are reached by name over TLS or HTTP; use TLS (or HTTP), or remoteCidr for raw ${protocol}`);
  }
  // UDS rule 8
  if (direction === AllowDirection.INGRESS && (host !== undefined || l7)) {
    fail('direction', 'remoteHost and TLS/HTTP remoteProtocol cannot be combined with Ingress direction; use direction Egress');
  }
  // What this library realises (the rest of UDS's remotes are refused, or skipped when asked)
  if (direction === AllowDirection.INGRESS) {
    throw new UnsupportedEntry('direction Ingress is not realised (this library handles egress only)');
  }
  if (hasNamespace || hasSelector) {
    throw new UnsupportedEntry('remoteNamespace/remoteSelector (in-cluster egress) is not realised; allow in-cluster traffic with a NetworkPolicy of your own');
  }
  if (generated === RemoteGenerated.KUBE_NODES || generated === RemoteGenerated.INTRA_NAMESPACE) {
    throw new UnsupportedEntry(`remoteGenerated ${generated} is not realised; allow it with a NetworkPolicy of your own`);
  }
  const selector = entry.selector === undefined ? undefined : checkLabels(entry.selector, 'selector', fail);
  const labels = entry.labels === undefined ? undefined : checkLabels(entry.labels, 'labels', fail);
  if (selector !== undefined && Object.keys(selector).length === 0) {
    fail('selector', 'an empty selector selects every pod; omit it to mean every pod of the namespace');
  }
  if (entry.description !== undefined && typeof entry.description !== 'string') {
    fail('description', `${JSON.stringify(entry.description)} must be a string`);
  }
  const explicitPorts = entryPorts(entry, fail);

  if (host === undefined) {
    // remoteCidr / remoteGenerated
    for (const f of ['tlsOrigination', 'tlsPort', 'methods', 'paths'] as const) {
      if (entry[f] !== undefined) {
        fail(f, `${f} needs remoteHost: a NetworkPolicy sees addresses and ports, not hosts or requests`);
      }
    }
    if (entry.serviceAccount !== undefined) {
      fail('serviceAccount', 'a NetworkPolicy cannot select pods by service account; use selector with the pods\' labels (serviceAccount applies to remoteHost entries)');
    }
    if (cidr !== undefined) {
      try {
        Cidr.parse(cidr);
      } catch (e) {
        fail('remoteCidr', (e as Error).message);
      }
    }
    return {
      kind: 'network',
      namespace,
      where,
      index,
      description: entry.description,
      labels,
      remoteCidr: cidr,
      generated,
      ports: explicitPorts ?? [],
      protocol: protocol === RemoteProtocol.UDP ? RemoteProtocol.UDP : RemoteProtocol.TCP,
      selector,
    };
  }

  // remoteHost (UDS rule 9 refuses every wildcard; a leading `*.` label is supported here)
  let parsed: ExternalHost;
  try {
    if (typeof host !== 'string') {
      throw new Error(`${JSON.stringify(host)} must be a host name`);
    }
    if (host === '*') {
      throw new Error('"*" would allow every host; list the domains you need, e.g. "*.example.com" (or use remoteGenerated: Anywhere)');
    }
    parsed = ExternalHost.of(host);
  } catch (e) {
    return fail('remoteHost', (e as Error).message);
  }
  const origination = entry.tlsOrigination;
  if (origination !== undefined && !(origination instanceof OriginationTls)) {
    fail('tlsOrigination', 'expected an OriginationTls, e.g. from OriginationTls.simple');
  }
  if (origination !== undefined && protocol === RemoteProtocol.TLS) {
    fail('tlsOrigination', 'with TLS origination the application speaks plain HTTP; set remoteProtocol HTTP (or omit it)');
  }
  if (origination !== undefined && parsed.isWildcard) {
    fail('tlsOrigination', `TLS origination needs one concrete host (the proxy verifies the certificate for that name), not "${parsed.name}"; list each name, e.g. "www.${parsed.domain}"`);
  }
  if (origination === undefined && entry.tlsPort !== undefined) {
    fail('tlsPort', 'tlsPort is the port TLS is originated to; it needs tlsOrigination');
  }
  const effective = (origination !== undefined ? RemoteProtocol.HTTP : (protocol ?? RemoteProtocol.TLS)) as RemoteProtocol.TLS | RemoteProtocol.HTTP;
  // UDS's Istio-side port defaults: ports, else port, else 80 for HTTP, else 443
  const ports = explicitPorts ?? [effective === RemoteProtocol.HTTP ? 80 : 443];
  const tlsPort = entry.tlsPort ?? 443;
  try {
    validatePortNumber(tlsPort);
  } catch (e) {
    fail('tlsPort', (e as Error).message);
  }
  if (origination !== undefined && ports.includes(tlsPort)) {
    fail('tlsPort', `${tlsPort} is also a port the application calls in plain HTTP; the originated TLS port must differ (e.g. port 80, tlsPort 443)`);
  }
  const methods = entry.methods === undefined ? undefined : checkList(entry.methods, 'methods', METHOD, 'an upper-case HTTP method such as GET', fail);
  const paths = entry.paths === undefined ? undefined : checkList(entry.paths, 'paths', PATH, 'an exact path (/get), a prefix (/api/*), a suffix (*.json) or *', fail);
  if ((methods !== undefined || paths !== undefined) && effective !== RemoteProtocol.HTTP) {
    fail(methods !== undefined ? 'methods' : 'paths', 'HTTP methods and paths need HTTP: with TLS passthrough no proxy sees the request; use remoteProtocol HTTP with tlsOrigination');
  }
  if (entry.serviceAccount !== undefined) {
    const sa = entry.serviceAccount;
    if (typeof sa !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(sa) || sa.length > 253) {
      fail('serviceAccount', `${JSON.stringify(sa)} is not a service account name (lower-case DNS subdomain, e.g. "curl")`);
    }
  }
  return {
    kind: 'host',
    namespace,
    where,
    index,
    description: entry.description,
    labels,
    host: parsed,
    ports,
    protocol: effective,
    origination,
    tlsPort,
    methods,
    paths,
    serviceAccount: entry.serviceAccount,
    selector,
  };
}

/** `ports` if non-empty, else `[port]`, else undefined (UDS: `ports` wins over `port`). */
function entryPorts(entry: EgressAllowEntry, fail: (field: string, message: string) => never): number[] | undefined {
  const check = (p: unknown, field: string) => {
    try {
      validatePortNumber(p as number);
    } catch (e) {
      fail(field, (e as Error).message);
    }
    return p as number;
  };
  if (entry.ports !== undefined) {
    if (!Array.isArray(entry.ports)) {
      fail('ports', `${JSON.stringify(entry.ports)} must be a list of port numbers, e.g. [443]`);
    }
    const seen = new Set<number>();
    entry.ports.forEach((p, i) => {
      check(p, `ports[${i}]`);
      if (seen.has(p)) {
        fail(`ports[${i}]`, `port ${p} is listed twice; list each port once`);
      }
      seen.add(p);
    });
    if (entry.ports.length > 0) {
      if (entry.port !== undefined) {
        check(entry.port, 'port');
      }
      return [...entry.ports].sort((a, b) => a - b);
    }
  }
  return entry.port === undefined ? undefined : [check(entry.port, 'port')];
}

function checkLabels(labels: unknown, field: string, fail: (field: string, message: string) => never): { [key: string]: string } {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    fail(field, `${JSON.stringify(labels)} must be a map of label keys to values, e.g. { app: "curl" }`);
  }
  const out: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(labels as object)) {
    if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(k)) {
      fail(`${field}.${k}`, `"${k}" is not a label key`);
    }
    if (typeof v !== 'string' || !/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(v)) {
      fail(`${field}.${k}`, `${JSON.stringify(v)} is not a label value (a string of at most 63 letters, digits, "-", "_", ".")`);
    }
    out[k] = v;
  }
  return out;
}

function checkList(values: unknown, field: string, pattern: RegExp, what: string, fail: (field: string, message: string) => never): string[] {
  if (!Array.isArray(values) || values.length === 0) {
    fail(field, `${JSON.stringify(values)} must be a non-empty list; omit ${field} to allow any`);
  }
  const list = values as unknown[];
  list.forEach((v, i) => {
    if (typeof v !== 'string' || !pattern.test(v)) {
      fail(`${field}[${i}]`, `${JSON.stringify(v)} is not ${what}`);
    }
  });
  return [...new Set(list as string[])].sort();
}
