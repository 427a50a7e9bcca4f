/**
 * `npx projen istio-check` (after `synth-examples` and `install-istioctl`): Istio's validator and analyzers judge every
 * example app's manifests, each example alone and all examples together (as one cluster would hold them). The bar is
 * zero errors and zero warnings; a message that is correct and unavoidable is listed, with its reason, in
 * istioctl-allowed-messages.txt. Exits 1 on any other message, and on an allow-list entry that nothing needed.
 *
 * Files only (`--use-kube=false`): istioctl then skips the analyzers that need cluster objects it does not read from
 * files (Pods, Services, Namespaces, Nodes, Secrets); the list is printed so nobody takes it for a full analysis.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { analyze, findIstioctl, judge, loadAllowList, ToolRun, validate, ALLOW_LIST_FILE } from './istioctl';

const repo = path.join(__dirname, '..');
const examplesDir = path.join(repo, 'examples');

function exampleFiles(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const names = fs.readdirSync(examplesDir).filter((d) => fs.existsSync(path.join(examplesDir, d, 'main.ts'))).sort();
  for (const name of names) {
    const dist = path.join(examplesDir, name, 'dist');
    const files = fs.existsSync(dist)
      ? fs.readdirSync(dist).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.relative(repo, path.join(dist, f)))
      : [];
    if (files.length === 0) {
      throw new Error(`examples/${name}/dist has no manifests: run \`npx projen synth-examples\` first`);
    }
    out.set(`examples/${name}`, files);
  }
  if (out.size === 0) {
    throw new Error(`no example apps under ${examplesDir}`);
  }
  return out;
}

/**
 * Objects that two examples define differently: applied to one cluster, the last one silently replaces the other,
 * and istioctl (which also keeps only one of them) then judges a mesh that neither example describes.
 */
function conflictingObjects(examples: Map<string, string[]>): string[] {
  const seen = new Map<string, { example: string; text: string }>();
  const conflicts: string[] = [];
  for (const [example, files] of examples) {
    for (const file of files) {
      for (const doc of parseAllDocuments(fs.readFileSync(path.join(repo, file), 'utf-8'))) {
        const obj = doc.toJS();
        if (!obj?.kind) {
          continue;
        }
        const key = `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
        const text = JSON.stringify(obj);
        const first = seen.get(key);
        if (!first) {
          seen.set(key, { example, text });
        } else if (first.text !== text && first.example !== example) {
          conflicts.push(`${key} is defined differently by ${first.example} and ${example} (one cluster keeps only the last applied)`);
        }
      }
    }
  }
  return conflicts;
}

function main(): number {
  const istioctl = findIstioctl();
  console.log(`Istio's own checks with ${istioctl.description}`);
  const examples = exampleFiles();
  const runs: ToolRun[] = [];
  const subjects: Array<[string, string[]]> = [...examples.entries(), ['all examples together', [...examples.values()].flat()]];
  for (const [subject, files] of subjects) {
    for (const run of [validate(istioctl, subject, files), analyze(istioctl, subject, files)]) {
      runs.push(run);
      console.log(`istioctl ${run.tool} ${subject}: ${run.messages.length === 0 ? 'no messages' : `${run.messages.length} message(s)`}`);
      for (const m of run.messages) {
        console.log(`    ${m}`);
      }
    }
  }

  const skipped = runs.find((r) => r.tool === 'analyze')?.skippedAnalyzers ?? [];
  if (skipped.length > 0) {
    console.log(`not run on files (they need Pods, Services, Namespaces, Nodes or Secrets from a live cluster): ${skipped.join(', ')}`);
  }

  const conflicts = conflictingObjects(examples);
  console.log(`examples applied together: ${conflicts.length === 0 ? 'no object is defined differently by two examples' : `${conflicts.length} conflicting object(s)`}`);
  for (const c of conflicts) {
    console.log(`    ${c}`);
  }

  const entries = loadAllowList();
  const verdict = judge(runs, entries);
  for (const c of conflicts) {
    verdict.failures.push(`all examples together: ${c}`);
  }
  const rel = path.relative(repo, ALLOW_LIST_FILE);
  if (verdict.allowed.length > 0) {
    console.log(`${verdict.allowed.length} message(s) allowed by ${rel}`);
  }
  for (const e of verdict.unusedEntries) {
    console.log(`STALE ${rel}:${e.line}: no run printed "${e.text}": remove the line`);
  }
  for (const f of verdict.failures) {
    console.log(`NOT ALLOWED ${f}`);
  }
  const total = runs.length;
  if (verdict.ok && conflicts.length === 0) {
    console.log(`istio-check: ${examples.size} examples, ${total} istioctl runs: no errors, no warnings beyond ${rel}`);
    return 0;
  }
  console.log(`istio-check: FAILED: ${verdict.failures.length} message(s) not allowed, ${verdict.unusedEntries.length} stale allow-list entr(ies). `
    + `Fix the constructs or the example; list a message in ${rel} only if it is correct and unavoidable, with the reason.`);
  return 1;
}

process.exitCode = main();
