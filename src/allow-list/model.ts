/**
 * The allow-list as data: namespaces (teams), their mode and their entries, from the API (`allow`), from a YAML/JSON
 * document of namespaces and entries, or from UDS Core `Package` CRs. One model for all three; `EgressAllowList`
 * realises it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { IConstruct } from 'constructs';
import { AllowRule, EgressAllowEntry, ENTRY_FIELDS, HostRule, SkippedEntry, UnsupportedEntry, validateEntry } from './entry';
import { show } from '../core/bounds';
import { DataplaneMode } from '../core/dataplane-mode';
import { validateDnsLabel } from '../core/dns';
import { OriginationTls, TrustedCa } from '../core/origination-tls';
import { isInTree } from '../core/registry';

/** Options of an allow-list. */
export interface EgressAllowListSpecOptions {
  /**
   * Skip entries the library does not realise (Ingress, `remoteNamespace`/`remoteSelector`, `remoteGenerated`
   * KubeNodes/IntraNamespace, non-egress sections of a UDS Package) instead of failing; each one is listed in
   * `skipped` and in the egress matrix.
   *
   * @default false: such an entry is an error
   */
  readonly skipUnsupported?: boolean;
}

/** An entry that was not realised (`skipUnsupported`). */
export interface AllowListSkippedEntry {
  /** The namespace of the entry. */
  readonly namespace: string;
  /** Where it came from (file, document, entry index). */
  readonly where: string;
  /** Why it is not realised. */
  readonly reason: string;
}

/** UDS namespaces its admission refuses (`invalid namespace`), with the Kubernetes ones. */
const INVALID_NAMESPACES = ['kube-system', 'kube-public', 'pepr-system'];
const DOCUMENT_FIELDS = ['namespaces'];
const NAMESPACE_FIELDS = ['mode', 'allow'];

/**
 * A declarative egress allow-list: for each namespace (team), its mode and what its workloads may reach. Fill it
 * with `allow()`, a YAML/JSON document (`fromFile`, `fromYaml`, `addDocument`) or UDS Core `Package` CRs
 * (`addUdsPackage`, or `fromFile` with Package documents), then realise it with `EgressAllowList`.
 *
 * Entries are checked as they are added: UDS's admission rules (our wording), duplicates, and protocol conflicts on a
 * host and port (within and across namespaces); each error names the entry (file, document, index, field) and the
 * other entry involved.
 */
export class EgressAllowListSpec {
  /**
   * Reads a YAML or JSON file: documents of namespaces and entries (`namespaces: { team-a: { mode: sidecar, allow:
   * [...] } }`), UDS Core `Package` CRs (`apiVersion: uds.dev/v1alpha1`, `kind: Package`), or both.
   */
  public static fromFile(file: string, options: EgressAllowListSpecOptions = {}): EgressAllowListSpec {
    const spec = new EgressAllowListSpec(options);
    spec.addFile(file);
    return spec;
  }

  /** Reads YAML or JSON text, as `fromFile`; `source` names it in messages. */
  public static fromYaml(text: string, source: string = 'inline document', options: EgressAllowListSpecOptions = {}): EgressAllowListSpec {
    const spec = new EgressAllowListSpec(options);
    spec.addYaml(text, source);
    return spec;
  }

  private readonly skipUnsupported: boolean;
  private readonly ruleList: AllowRule[] = [];
  private readonly skippedList: SkippedEntry[] = [];
  private readonly modes = new Map<string, { mode: DataplaneMode; where: string }>();
  private readonly namespaceSet = new Set<string>();
  private readonly apiCount = new Map<string, number>();
  private readonly packages = new Map<string, string>();
  private readonly byKey = new Map<string, AllowRule>();
  private readonly byHostPort = new Map<string, HostRule>();

  /** The `EgressAllowList`s that realised this spec; while one is in its app, the spec takes no more entries. */
  private readonly realisedBy: IConstruct[] = [];

  public constructor(options: EgressAllowListSpecOptions = {}) {
    this.skipUnsupported = options?.skipUnsupported ?? false;
  }

  /**
   * Allows the workloads of a namespace what `entry` says.
   *
   * @throws if the entry breaks an admission rule, duplicates another, or conflicts with another on a host and port
   */
  public allow(namespace: string, entry: EgressAllowEntry): void {
    this.checkOpen(() => `allow(${quoted(namespace)})`);
    const n = this.apiCount.get(namespace) ?? 0;
    this.apiCount.set(namespace, n + 1);
    this.addEntry(namespace, entry, `allow ${quoted(namespace)} #${n}`, n);
  }

  /**
   * Sets the mode of a namespace (UDS `serviceMesh.mode`), overriding the allow-list's default.
   *
   * @throws if the namespace already has another mode
   */
  public setNamespaceMode(namespace: string, mode: DataplaneMode): void {
    this.checkOpen(() => `setNamespaceMode(${quoted(namespace)})`);
    this.setMode(namespace, mode, `setNamespaceMode(${quoted(namespace)})`);
  }

  /** Adds the documents of a YAML or JSON file (see `fromFile`). */
  public addFile(file: string): void {
    this.checkOpen(() => `addFile(${quoted(file)})`);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf-8');
    } catch (e) {
      throw new Error(`${file}: cannot read the file (${(e as Error).message}); give the path of a YAML or JSON allow-list`);
    }
    this.addYaml(text, file);
  }

  /** Adds the documents of YAML or JSON text; `source` names it in messages. */
  public addYaml(text: string, source: string = 'inline document'): void {
    this.checkOpen(() => `addYaml(${quoted(source)})`);
    parseDocuments(text, source).forEach(({ doc, index }) => this.addDocumentAt(doc, `${source}: document ${index + 1}`));
  }

  /**
   * Adds one parsed document: namespaces and entries, or a UDS Core `Package`.
   *
   * @param source names the document in messages
   */
  public addDocument(document: any, source: string = 'document'): void {
    this.checkOpen(() => `addDocument(${quoted(source)})`);
    this.addDocumentAt(document, source);
  }

  /**
   * Adds a UDS Core `Package` CR (`uds.dev/v1alpha1`), as parsed from YAML: its namespace, `serviceMesh.mode`
   * (default ambient, as in UDS) and `network.allow` entries.
   *
   * @param source names the Package in messages
   * @throws for another Package in the same namespace, a malformed Package, or an entry that fails (see `allow`)
   */
  public addUdsPackage(pkg: any, source: string = 'Package'): void {
    this.checkOpen(() => `addUdsPackage(${quoted(source)})`);
    const fail = (field: string, message: string): never => {
      throw new Error(`${source}: ${field}: ${message}`);
    };
    if (pkg === null || typeof pkg !== 'object' || Array.isArray(pkg)) {
      fail('document', 'expected a UDS Package object');
    }
    if (pkg.apiVersion !== 'uds.dev/v1alpha1' || pkg.kind !== 'Package') {
      fail('apiVersion', `expected apiVersion uds.dev/v1alpha1 and kind Package, got ${JSON.stringify(pkg.apiVersion)} / ${JSON.stringify(pkg.kind)}`);
    }
    const name = pkg.metadata?.name;
    const namespace = pkg.metadata?.namespace;
    if (typeof name !== 'string' || name.length === 0) {
      fail('metadata.name', 'the Package has no name');
    }
    if (typeof namespace !== 'string' || namespace.length === 0) {
      fail('metadata.namespace', `Package "${name}" has no namespace; UDS uses the Package's namespace as the team's namespace, so give metadata.namespace`);
    }
    const where = `${source} (Package ${namespace}/${name})`;
    const existing = this.packages.get(namespace);
    if (existing !== undefined) {
      throw new Error(
        `${where}: metadata.namespace: a package (${existing}) already exists in the namespace "${namespace}"; only one package can exist in a namespace (as in UDS): merge their allow lists`,
      );
    }
    this.checkNamespace(namespace, `${where}: metadata.namespace`);
    this.packages.set(namespace, where);
    const spec = pkg.spec ?? {};
    for (const key of Object.keys(spec)) {
      if (key !== 'network') {
        this.unsupported(namespace, `${where}: spec.${key}`, `spec.${key} is not egress; this library realises spec.network.allow (Egress) only`);
      }
    }
    const network = spec.network ?? {};
    for (const key of Object.keys(network)) {
      if (key !== 'allow' && key !== 'serviceMesh') {
        this.unsupported(namespace, `${where}: spec.network.${key}`, `spec.network.${key} is not egress; this library realises spec.network.allow (Egress) only`);
      }
    }
    const modeText = network.serviceMesh?.mode ?? 'ambient';
    const mode = parseMode(modeText, `${where}: spec.network.serviceMesh.mode`);
    this.namespaceSet.add(namespace);
    this.setMode(namespace, mode, `${where}: spec.network.serviceMesh.mode`);
    const allow = network.allow ?? [];
    if (!Array.isArray(allow)) {
      fail('spec.network.allow', 'must be a list of allow entries');
    }
    allow.forEach((raw: any, i: number) => {
      const field = `${where}: spec.network.allow[${i}]`;
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new Error(`${field}: expected an entry (a map of fields)`);
      }
      // UDS migrate(): deprecated podLabels/remotePodLabels become selector/remoteSelector
      const migrated: any = { ...raw };
      if (migrated.podLabels !== undefined) {
        migrated.selector = migrated.selector ?? migrated.podLabels;
        delete migrated.podLabels;
      }
      if (migrated.remotePodLabels !== undefined) {
        migrated.remoteSelector = migrated.remoteSelector ?? migrated.remotePodLabels;
        delete migrated.remotePodLabels;
      }
      if (migrated.direction === undefined) {
        throw new Error(`${field}: direction: required in a UDS Package (Egress or Ingress)`);
      }
      if (migrated.remoteServiceAccount !== undefined && migrated.direction === 'Egress') {
        throw new Error(`${field}: remoteServiceAccount: only valid for Ingress rules; for Egress use serviceAccount (the caller's)`);
      }
      if (migrated.direction === 'Ingress') {
        delete migrated.remoteServiceAccount;
      }
      this.addEntry(namespace, fromDocumentEntry(migrated, field), field, i);
    });
  }

  /** The namespaces with entries or a mode, sorted. */
  public get namespaces(): string[] {
    return [...this.namespaceSet].sort();
  }

  /** The entries that were skipped (`skipUnsupported`), in the order added. */
  public get skipped(): AllowListSkippedEntry[] {
    return this.skippedList.map((s) => ({ ...s }));
  }

  /** The mode set for a namespace, or undefined for the allow-list's default. */
  public modeOf(namespace: string): DataplaneMode | undefined {
    return this.modes.get(namespace)?.mode;
  }

  /** @internal */
  public get _rules(): AllowRule[] {
    return [...this.ruleList];
  }

  /**
   * Marks the spec as realised by `list` (an `EgressAllowList`): it reads the entries once, so an entry added later
   * would be silently left out; such an addition is refused while `list` is in its app.
   *
   * @internal
   */
  public _realise(list: IConstruct): void {
    this.realisedBy.push(list);
  }

  private checkOpen(call: () => string): void {
    const list = this.realisedBy.find(isInTree);
    if (list !== undefined) {
      throw new Error(
        `EgressAllowListSpec.${call()}: the spec is already realised by ${list.node.path}, which would not see this change; ` +
          'add every entry and mode before creating the EgressAllowList',
      );
    }
  }

  private addDocumentAt(doc: any, source: string): void {
    if (doc === null || doc === undefined) {
      return;
    }
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      throw new Error(`${source}: expected a map with "namespaces" (or a UDS Package), got ${JSON.stringify(doc)}`);
    }
    if (doc.kind === 'Package' || (typeof doc.apiVersion === 'string' && doc.apiVersion.startsWith('uds.dev/'))) {
      this.addUdsPackage(doc, source);
      return;
    }
    for (const key of Object.keys(doc)) {
      if (!DOCUMENT_FIELDS.includes(key)) {
        throw new Error(`${source}: ${key}: unknown field; a document has "namespaces" (a map of namespace to { mode, allow })`);
      }
    }
    const namespaces = doc.namespaces;
    if (namespaces === null || typeof namespaces !== 'object' || Array.isArray(namespaces)) {
      throw new Error(`${source}: namespaces: expected a map of namespace name to { mode, allow: [...] }`);
    }
    for (const [namespace, body] of Object.entries<any>(namespaces)) {
      const at = `${source}: namespaces.${namespace}`;
      this.checkNamespace(namespace, at);
      this.namespaceSet.add(namespace);
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new Error(`${at}: expected { mode: sidecar | ambient, allow: [...] }`);
      }
      for (const key of Object.keys(body)) {
        if (!NAMESPACE_FIELDS.includes(key)) {
          throw new Error(`${at}.${key}: unknown field; a namespace has "mode" (sidecar or ambient) and "allow" (a list of entries)`);
        }
      }
      if (body.mode !== undefined) {
        this.setMode(namespace, parseMode(body.mode, `${at}.mode`), `${at}.mode`);
      }
      const allow = body.allow ?? [];
      if (!Array.isArray(allow)) {
        throw new Error(`${at}.allow: expected a list of entries`);
      }
      allow.forEach((raw: any, i: number) => {
        const field = `${at}.allow[${i}]`;
        if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
          throw new Error(`${field}: expected an entry (a map of fields)`);
        }
        this.addEntry(namespace, fromDocumentEntry(raw, field), field, i);
      });
    }
  }

  private checkNamespace(namespace: string, where: string): void {
    try {
      validateDnsLabel(namespace, 'namespace');
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    if (INVALID_NAMESPACES.includes(namespace)) {
      throw new Error(`${where}: invalid namespace "${namespace}": it belongs to the cluster (${INVALID_NAMESPACES.join(', ')}); declare egress for team namespaces only`);
    }
  }

  private setMode(namespace: string, mode: DataplaneMode, where: string): void {
    if (!Object.values(DataplaneMode).includes(mode)) {
      throw new Error(`${where}: ${JSON.stringify(mode)} is not a mode; use DataplaneMode.SIDECAR or DataplaneMode.AMBIENT`);
    }
    this.checkNamespace(namespace, where);
    const existing = this.modes.get(namespace);
    if (existing !== undefined && existing.mode !== mode) {
      throw new Error(`${where}: namespace "${namespace}" is already ${existing.mode.toLowerCase()} (${existing.where}); a namespace has one mode`);
    }
    this.namespaceSet.add(namespace);
    this.modes.set(namespace, { mode, where });
  }

  private unsupported(namespace: string, where: string, reason: string): void {
    if (!this.skipUnsupported) {
      throw new Error(`${where}: ${reason}. Remove it, or pass skipUnsupported: true to skip it (it is then listed in the report)`);
    }
    this.skippedList.push({ namespace, where, reason });
  }

  private addEntry(namespace: string, entry: EgressAllowEntry, where: string, index: number): void {
    this.checkNamespace(namespace, where);
    let rule: AllowRule;
    try {
      rule = validateEntry(namespace, entry, where, index);
    } catch (e) {
      if (e instanceof UnsupportedEntry) {
        this.unsupported(namespace, where, e.reason);
        return;
      }
      throw e;
    }
    this.namespaceSet.add(namespace);
    const key = ruleKey(rule);
    const twin = this.byKey.get(key);
    if (twin !== undefined) {
      throw new Error(`${where}: duplicate entry: it allows exactly what ${twin.where} allows; remove one of them`);
    }
    if (rule.kind === 'host') {
      for (const port of rule.ports) {
        const hp = `${rule.host.name}:${port}`;
        const other = this.byHostPort.get(hp);
        if (other !== undefined) {
          const mine = protocolText(rule);
          const theirs = protocolText(other);
          if (mine === theirs && rule.origination !== undefined && JSON.stringify(rule.origination) !== JSON.stringify(other.origination)) {
            throw new Error(
              `${where}: tlsOrigination: ${hp} is originated with other TLS settings by ${other.where}; one host has one origination (one DestinationRule): use the same tlsOrigination`,
            );
          }
          if (mine !== theirs) {
            const who = other.namespace === namespace ? `another entry of namespace "${namespace}"` : `namespace "${other.namespace}"`;
            throw new Error(
              `${where}: protocol conflict for ${hp}: this entry of namespace "${namespace}" wants ${mine} but ${who} (${other.where}) uses ${theirs}; ` +
                'one host port carries one protocol (Istio rejects the ServiceEntry otherwise): use the same protocol and origination, or another port',
            );
          }
        } else {
          this.byHostPort.set(hp, rule);
        }
      }
    }
    this.byKey.set(key, rule);
    this.ruleList.push(rule);
  }
}

/** The protocol of a host port as a text to compare and show: TLS, HTTP, or HTTP with TLS origination. */
export function protocolText(rule: HostRule): string {
  return rule.origination === undefined ? rule.protocol : `HTTP with TLS origination to port ${rule.tlsPort}`;
}

function ruleKey(rule: AllowRule): string {
  if (rule.kind === 'host') {
    return JSON.stringify(['host', rule.namespace, rule.host.name, rule.ports, rule.protocol, rule.origination ?? null, rule.tlsPort, rule.methods ?? null, rule.paths ?? null, rule.serviceAccount ?? null, sortedLabels(rule.selector)]);
  }
  return JSON.stringify(['network', rule.namespace, rule.remoteCidr ?? null, rule.generated ?? null, rule.ports, rule.protocol, sortedLabels(rule.selector)]);
}

function sortedLabels(labels: { [key: string]: string } | undefined): Array<[string, string]> | null {
  return labels === undefined ? null : Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function parseMode(text: unknown, where: string): DataplaneMode {
  switch (typeof text === 'string' ? text.toLowerCase() : text) {
    case 'sidecar':
      return DataplaneMode.SIDECAR;
    case 'ambient':
      return DataplaneMode.AMBIENT;
    default:
      throw new Error(`${where}: ${JSON.stringify(text)} is not a mode; use sidecar or ambient`);
  }
}

/** A document's entry as an `EgressAllowEntry`: unknown fields refused, `tlsOrigination` built. */
function fromDocumentEntry(raw: any, where: string): EgressAllowEntry {
  for (const key of Object.keys(raw)) {
    if (!ENTRY_FIELDS.includes(key)) {
      throw new Error(`${where}: ${key}: unknown field; an entry has ${ENTRY_FIELDS.join(', ')}`);
    }
  }
  if (raw.tlsOrigination === undefined) {
    return raw;
  }
  return { ...raw, tlsOrigination: originationFromDocument(raw.tlsOrigination, `${where}: tlsOrigination`) };
}

const ORIGINATION_FIELDS: { [mode: string]: string[] } = {
  SIMPLE: ['mode', 'caFile', 'caSecret', 'subjectAltNames'],
  MUTUAL: ['mode', 'credentialName', 'credentialNamespace', 'subjectAltNames'],
  INSECURE: ['mode', 'reason'],
};

/** `tlsOrigination` in a document: `SIMPLE`, or `{ mode: SIMPLE | MUTUAL | INSECURE, ... }`. */
function originationFromDocument(value: any, where: string): OriginationTls {
  const body = typeof value === 'string' ? { mode: value } : value;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new Error(`${where}: expected SIMPLE or { mode: SIMPLE | MUTUAL | INSECURE, ... }`);
  }
  const mode = String(body.mode ?? 'SIMPLE').toUpperCase();
  const fields = ORIGINATION_FIELDS[mode];
  if (fields === undefined) {
    throw new Error(`${where}.mode: ${JSON.stringify(body.mode)} is not an origination mode; use SIMPLE, MUTUAL or INSECURE`);
  }
  for (const key of Object.keys(body)) {
    if (!fields.includes(key)) {
      throw new Error(`${where}.${key}: not a field of ${mode} origination (its fields: ${fields.join(', ')})`);
    }
  }
  if (mode === 'SIMPLE') {
    if (body.caFile !== undefined && body.caSecret !== undefined) {
      throw new Error(`${where}.caSecret: give caFile or caSecret, not both`);
    }
    const ca = body.caFile !== undefined
      ? TrustedCa.fromFile(body.caFile)
      : body.caSecret !== undefined ? TrustedCa.fromSecret(body.caSecret) : undefined;
    return OriginationTls.simple({ ca, subjectAltNames: body.subjectAltNames });
  }
  if (mode === 'MUTUAL') {
    if (typeof body.credentialName !== 'string') {
      throw new Error(`${where}.credentialName: MUTUAL origination needs the Secret with the client certificate, e.g. credentialName: partner-client`);
    }
    return OriginationTls.mutual({
      credentialName: body.credentialName,
      credentialNamespace: body.credentialNamespace,
      subjectAltNames: body.subjectAltNames,
    });
  }
  if (typeof body.reason !== 'string' || body.reason.trim().length === 0) {
    throw new Error(`${where}.reason: INSECURE origination (no certificate check) needs the reason, recorded on the DestinationRule`);
  }
  return OriginationTls.insecureWithoutVerification({ reason: body.reason });
}

/**
 * The YAML parser cdk8s bundles (a peer dependency of this library, so always installed): YAML 1.1 as cdk8s reads
 * manifests, with the errors and their line numbers that `Yaml.load` drops.
 */
function yamlParser(): typeof import('yaml') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve('yaml', { paths: [path.dirname(require.resolve('cdk8s'))] }));
}

/** The non-empty documents of a YAML stream, with their index; a syntax error names the document and line. */
function parseDocuments(text: string, source: string): Array<{ doc: any; index: number }> {
  if (typeof text !== 'string') {
    throw new Error(`${source}: expected YAML or JSON text`);
  }
  const docs = yamlParser().parseAllDocuments(text, { version: '1.1' } as any);
  const list = Array.isArray(docs) ? docs : [docs];
  const out: Array<{ doc: any; index: number }> = [];
  list.forEach((d: any, index: number) => {
    if (d.errors?.length > 0) {
      throw new Error(`${source}: document ${index + 1}: not valid YAML: ${d.errors[0].message.split('\n')[0]}`);
    }
    const doc = d.toJSON();
    if (doc !== null && doc !== undefined) {
      out.push({ doc, index });
    }
  });
  return out;
}

/** A string argument as JSON (`"team-a"`), anything else as `show` gives it (BigInts and cycles included). */
function quoted(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : show(value);
}
