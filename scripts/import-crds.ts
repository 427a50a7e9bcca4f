/**
 * `npx projen import`: regenerates imports/ with `cdk8s import` from the pinned CRDs (scripts/crds.ts: the oldest
 * supported Istio minor's, fetched with Go), keeping only the kinds and versions listed there. Generated code is committed and never edited by hand; running this twice gives
 * byte-identical files.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { importsSource, loadUsedCrds } from './crds';

const root = path.join(__dirname, '..');
const outDir = path.join(root, 'imports');
const crds = loadUsedCrds();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-egress-crds-'));
const subset = path.join(tmp, 'crds.yaml');
fs.writeFileSync(subset, crds.map((c) => stringify(c)).join('---\n'));

fs.rmSync(outDir, { recursive: true, force: true });
const cli = path.join(root, 'node_modules', '.bin', 'cdk8s');
execFileSync(cli, ['import', subset, '--language', 'typescript', '--output', outDir, '--no-save', '--no-check-upgrade'], {
  cwd: root,
  stdio: 'inherit',
});
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`imports/ regenerated from ${importsSource()}: ${crds.map((c) => `${c.spec.names.kind}.${c.spec.group}/${c.spec.versions[0].name}`).join(', ')}`);
