/**
 * `npx projen synth-examples`: the main job. Runs `cdk8s synth` in every example app (examples/<name>/, an app with its
 * own cdk8s.yaml, as a pipeline would run it), which writes examples/<name>/dist/, and lists what each produced.
 *
 * The examples import the library by its package name, `cdk8s-istio-egress`, so that each folder can be copied out
 * as it stands. Here, in the repository, that name resolves to the sources in src/ through NODE_PATH: a one-line
 * module in .cache/examples-node-path/ (ignored by git). No compile step is needed; `cdk8s synth` in an example folder
 * by hand works the same with `NODE_PATH=$PWD/../../.cache/examples-node-path` after one run of this task.
 *
 * examples/quick-start is the README's quick start: it must write the same bytes as examples/wildcard-egress (the
 * same scenario, written as one file).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const repo = path.join(__dirname, '..');
const root = path.join(repo, 'examples');
const cdk8s = path.join(repo, 'node_modules', '.bin', 'cdk8s');

const examples = fs.existsSync(root)
  ? fs.readdirSync(root).filter((d) => fs.existsSync(path.join(root, d, 'main.ts'))).sort()
  : [];
if (examples.length === 0) {
  throw new Error(`no example apps found under ${root} (expected examples/<name>/main.ts)`);
}

// `require('cdk8s-istio-egress')` from an example -> src/index.ts (compiled by the app's ts-node, like main.ts).
const nodePath = path.join(repo, '.cache', 'examples-node-path');
fs.mkdirSync(path.join(nodePath, 'cdk8s-istio-egress'), { recursive: true });
fs.writeFileSync(
  path.join(nodePath, 'cdk8s-istio-egress', 'index.js'),
  "// Written by scripts/synth-examples.ts: the examples' `cdk8s-istio-egress` is this repository's src/.\n"
  + `module.exports = require(${JSON.stringify(path.join(repo, 'src'))});\n`,
);

for (const name of examples) {
  const dir = path.join(root, name);
  if (!fs.existsSync(path.join(dir, 'cdk8s.yaml'))) {
    throw new Error(`examples/${name} has no cdk8s.yaml: every example is a cdk8s app that \`cdk8s synth\` runs`);
  }
  fs.rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
  try {
    execFileSync(cdk8s, ['synth', '--no-check-upgrade'], {
      cwd: dir,
      env: { ...process.env, NODE_PATH: nodePath },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  } catch (e) {
    throw new Error(`examples/${name}: \`cdk8s synth\` failed (its output is above): ${(e as Error).message}`);
  }
  const files = fs.readdirSync(path.join(dir, 'dist')).sort();
  let objects = 0;
  for (const f of files.filter((file) => /\.ya?ml$/.test(file))) {
    objects += fs.readFileSync(path.join(dir, 'dist', f), 'utf-8').split(/^---$/m).filter((d) => d.trim().length > 0).length;
  }
  console.log(`examples/${name}: ${objects} objects in ${files.map((f) => `dist/${f}`).join(', ')}`);
}

// The README's quick start is the wildcard example in one file: both must write the same manifests.
const quickStart = path.join(root, 'quick-start', 'dist', 'wildcard-egress.k8s.yaml');
const wildcard = path.join(root, 'wildcard-egress', 'dist', 'wildcard-egress.k8s.yaml');
if (fs.existsSync(path.join(root, 'quick-start')) && fs.readFileSync(quickStart, 'utf-8') !== fs.readFileSync(wildcard, 'utf-8')) {
  throw new Error(`${path.relative(repo, quickStart)} differs from ${path.relative(repo, wildcard)}: the README's quick start `
    + 'must define the same objects as examples/wildcard-egress (change both, or neither)');
}
