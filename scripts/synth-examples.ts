/**
 * `npx projen synth-examples`: the main job. Synthesizes every example app (examples/<name>/main.ts) into
 * examples/<name>/dist/ and lists what each produced. Each example is a plain cdk8s app; run one alone with
 * `npx ts-node examples/<name>/main.ts`.
 */
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..', 'examples');
const examples = fs.existsSync(root)
  ? fs.readdirSync(root).filter((d) => fs.existsSync(path.join(root, d, 'main.ts'))).sort()
  : [];
if (examples.length === 0) {
  throw new Error(`no example apps found under ${root} (expected examples/<name>/main.ts)`);
}
for (const name of examples) {
  const dir = path.join(root, name);
  fs.rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(path.join(dir, 'main.ts'));
  const files = fs.readdirSync(path.join(dir, 'dist')).sort();
  let objects = 0;
  for (const f of files) {
    objects += fs.readFileSync(path.join(dir, 'dist', f), 'utf-8').split(/^---$/m).filter((d) => d.trim().length > 0).length;
  }
  console.log(`examples/${name}: ${objects} objects in ${files.map((f) => `dist/${f}`).join(', ')}`);
}
