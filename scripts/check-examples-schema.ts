/**
 * Last step of `npx projen synth-examples`: every object the examples synthesized (examples/<name>/dist/*.yaml) must
 * be valid for the CRDs of each supported Istio minor (scripts/crds.ts), with the same strict check the tests use
 * (test/schema.ts). Fails with every problem, naming the file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { schemaProblems, schemaSetLabels } from '../test/schema';

const root = path.join(__dirname, '..', 'examples');
const problems: string[] = [];
let checked = 0;
for (const name of fs.readdirSync(root).sort()) {
  const dist = path.join(root, name, 'dist');
  if (!fs.existsSync(dist)) {
    continue;
  }
  let objects = 0;
  for (const file of fs.readdirSync(dist).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(dist, file), 'utf-8'))) {
      const obj = doc.toJS();
      if (!obj) {
        continue;
      }
      objects++;
      problems.push(...schemaProblems(obj).map((p) => `examples/${name}/dist/${file}: ${p}`));
    }
  }
  checked++;
  console.log(`examples/${name}: ${objects} objects checked`);
}
if (checked === 0) {
  throw new Error(`no synthesized examples under ${root} (examples/<name>/dist/*.yaml): run the examples first`);
}
if (problems.length > 0) {
  console.error(`example objects that do not match their CRD schemas:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`every example object is valid for the ${schemaSetLabels().join(', ')}`);
