/**
 * The rows of an allow-list's egress matrix (one per entry, and one per skipped entry), their order, and the files
 * written beside the manifests at synth.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'cdk8s';
import { Construct } from 'constructs';
import { cmp } from './context';
import { AllowRule, HostRule } from './entry';
import { EgressMatrixRow } from './matrix';
import { AllowListSkippedEntry } from './model';
import { labelText } from '../core/collections';
import { DataplaneMode } from '../core/dataplane-mode';

/** The row of an entry; `hostPath` is the path of each host. @internal */
export function rowOf(r: AllowRule, mode: DataplaneMode, hostPath: Map<string, string>): EgressMatrixRow {
  const workload = r.selector === undefined ? 'all pods' : labelText(r.selector);
  if (r.kind === 'host') {
    const identity = r.serviceAccount === undefined ? `namespace ${r.namespace}` : `service account ${r.namespace}/${r.serviceAccount}`;
    const l7 = [r.methods?.join(',') ?? '', r.paths?.join(',') ?? ''].filter((x) => x !== '').join(' ');
    return {
      namespace: r.namespace,
      mode: mode.toLowerCase(),
      workload,
      identity,
      remote: r.host.name,
      ports: [...r.ports],
      protocol: r.origination ? 'HTTP' : r.protocol,
      path: hostPath.get(r.host.name) ?? '-',
      tlsOrigination: r.origination === undefined ? '' : `${originationMode(r)} to ${r.tlsPort}`,
      l7,
      entry: r.where,
      description: r.description ?? '',
    };
  }
  const remote = r.generated !== undefined ? `${r.generated}` : r.remoteCidr!;
  return {
    namespace: r.namespace,
    mode: mode.toLowerCase(),
    workload,
    identity: '-',
    remote,
    ports: [...r.ports],
    protocol: r.protocol,
    path: 'direct (NetworkPolicy)',
    tlsOrigination: '',
    l7: '',
    entry: r.where,
    description: r.description ?? '',
  };
}

/** The row of a skipped entry. @internal */
export function skippedRow(s: AllowListSkippedEntry, mode: DataplaneMode): EgressMatrixRow {
  return {
    namespace: s.namespace,
    mode: mode.toLowerCase(),
    workload: '-',
    identity: '-',
    remote: '-',
    ports: [],
    protocol: '-',
    path: `not realised: ${s.reason}`,
    tlsOrigination: '',
    l7: '',
    entry: s.where,
    description: `skipped: ${s.reason}`,
  };
}

/** The matrix's order: namespace, workload, remote, entry. @internal */
export function compareRows(a: EgressMatrixRow, b: EgressMatrixRow): number {
  return cmp(a.namespace, b.namespace) || cmp(a.workload, b.workload) || cmp(a.remote, b.remote) || cmp(a.entry, b.entry);
}

/** Writes `<path>.egress-matrix.json` and `.md` of an allow-list into its app's output directory (none outside an App). @internal */
export function writeMatrixFiles(list: Construct & { matrixJson(): string; matrixMarkdown(): string }): string[] {
  const root = list.node.root;
  if (!(root instanceof App)) {
    return [];
  }
  const base = path.join(root.outdir, `${list.node.path.replace(/\//g, '-')}.egress-matrix`);
  fs.mkdirSync(root.outdir, { recursive: true });
  fs.writeFileSync(`${base}.json`, list.matrixJson());
  fs.writeFileSync(`${base}.md`, list.matrixMarkdown());
  return [];
}

function originationMode(r: HostRule): string {
  const o = r.origination!;
  return o.presentsClientCertificate ? 'mutual TLS' : o.verifiesServer ? 'TLS' : 'TLS (unverified)';
}
