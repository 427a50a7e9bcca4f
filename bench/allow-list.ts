/**
 * The allow-list scenario (issue #14): N namespaces x 25 entries, both modes, some wildcards, some TLS origination,
 * some service accounts, one host shared by every sidecar team. Measures, on the COMPILED library (lib/), the synth
 * time of `EgressAllowList` (build + `synthYaml()`) against the same objects written as plain `ApiObject`s, at 1/10
 * of the size and at full size (linearity), and the memory; checks every object against the CRD schemas (appliable).
 *
 *   npx jsii --silence-warnings=reserved-word
 *   node --expose-gc -r ts-node/register/transpile-only bench/allow-list.ts                 # 20 and 200 namespaces
 *   node --expose-gc -r ts-node/register/transpile-only bench/allow-list.ts --namespaces 200 --rounds 7
 *
 * How: like `cdk8s synth`, each measurement is one fresh Node process (a worker) that synthesizes one variant: a
 * warm-up synth (module loading, JIT), then `--runs` timed synths, each after a full GC. The library and the
 * ApiObject workers alternate, `--rounds` rounds; a round's ratio is its library median over its ApiObject median,
 * and the table shows the median of the rounds (steadier than the times themselves on a busy machine). The ApiObject
 * worker reads the library's final objects from a JSON file the first library worker wrote (not timed).
 *
 * Writes bench/results/allow-list.{json,md}.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cdk8s, lib } from './scenario';

const ENTRIES_PER_NAMESPACE = 25;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function argText(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The allow-list at `namespaces` namespaces; even namespaces are sidecar, odd ambient. */
function spec(namespaces: number): any {
  const s = new lib.EgressAllowListSpec();
  for (let t = 0; t < namespaces; t++) {
    const ns = `team-${t}`;
    const sidecar = t % 2 === 0;
    s.setNamespaceMode(ns, sidecar ? lib.DataplaneMode.SIDECAR : lib.DataplaneMode.AMBIENT);
    for (let j = 0; j < ENTRIES_PER_NAMESPACE; j++) {
      if (j === 0 && sidecar) {
        s.allow(ns, { remoteHost: 'shared.example.com' });
      } else if (j % 10 === 3) {
        s.allow(ns, { remoteHost: `o${j}.t${t}.example.com`, tlsOrigination: lib.OriginationTls.simple() });
      } else if (j % 5 === 1) {
        s.allow(ns, { remoteHost: `*.w${j}.t${t}.example.com`, ...(sidecar ? {} : { remoteProtocol: lib.RemoteProtocol.HTTP }) });
      } else if (j % 7 === 2) {
        s.allow(ns, { remoteHost: `api${j}.t${t}.example.com`, serviceAccount: 'worker' });
      } else if (j === 24) {
        s.allow(ns, { remoteCidr: `10.${t % 250}.0.0/16`, port: 5432, selector: { app: 'db-client' } });
      } else {
        s.allow(ns, { remoteHost: `api${j}.t${t}.example.com` });
      }
    }
  }
  return s;
}

function newChart(): cdk8s.Chart {
  const app = new cdk8s.App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-allow-')) });
  return new cdk8s.Chart(app, 'platform');
}

/** The app and its YAML (the app is returned so the live-heap figure can keep it referenced). */
function synthLib(namespaces: number): { app: cdk8s.App; yaml: string } {
  const chart = newChart();
  new lib.EgressAllowList(chart, 'egress', { spec: spec(namespaces), writeMatrix: false });
  const app = chart.node.root as cdk8s.App;
  return { app, yaml: app.synthYaml() };
}

function synthApiObjects(objects: any[]): { app: cdk8s.App; yaml: string } {
  const chart = newChart();
  objects.forEach((o, i) => new cdk8s.ApiObject(chart, `o${i}`, o));
  const app = chart.node.root as cdk8s.App;
  return { app, yaml: app.synthYaml() };
}

function gc(): void {
  (global as any).gc?.();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** `--worker lib|apiobject`: one variant in this process; prints one JSON line. */
function worker(variant: string): void {
  const namespaces = arg('--namespaces', 200);
  const runs = arg('--runs', 2);
  const objectsFile = argText('--objects')!;
  let fn: () => { app: cdk8s.App; yaml: string };
  if (variant === 'lib') {
    fn = () => synthLib(namespaces);
  } else {
    const objects = JSON.parse(fs.readFileSync(objectsFile, 'utf-8'));
    fn = () => synthApiObjects(objects);
  }
  const yaml = fn().yaml; // warm-up
  if (variant === 'lib' && !fs.existsSync(objectsFile)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const YAML = require(require.resolve('yaml', { paths: [path.dirname(require.resolve('cdk8s'))] })) as typeof import('yaml');
    const docs = YAML.parseAllDocuments(yaml, { version: '1.1' } as any).map((d: any) => d.toJSON());
    fs.writeFileSync(objectsFile, JSON.stringify(docs));
  }
  const samples: number[] = [];
  let same = true;
  for (let i = 0; i < runs; i++) {
    gc();
    const t0 = process.hrtime.bigint();
    const out = fn().yaml;
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    same = same && out === yaml;
  }
  gc();
  const heap = process.memoryUsage().heapUsed;
  const kept = fn();
  gc();
  const liveHeapMb = (process.memoryUsage().heapUsed - heap) / 1e6;
  void kept;
  process.stdout.write(
    JSON.stringify({ ms: median(samples), samples, liveHeapMb, peakRssMb: process.resourceUsage().maxRSS / 1024, yamlBytes: yaml.length, same }) + '\n',
  );
}

function runWorker(variant: string, namespaces: number, runs: number, objectsFile: string): any {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '-r', 'ts-node/register/transpile-only', __filename, '--worker', variant, '--namespaces', String(namespaces), '--runs', String(runs), '--objects', objectsFile],
    { cwd: path.join(__dirname, '..'), encoding: 'utf-8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

function measure(namespaces: number, rounds: number, runs: number) {
  const objectsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-allow-objects-')), 'objects.json');
  const libRuns: any[] = [];
  const apiRuns: any[] = [];
  for (let r = 0; r < rounds; r++) {
    libRuns.push(runWorker('lib', namespaces, runs, objectsFile));
    apiRuns.push(runWorker('apiobject', namespaces, runs, objectsFile));
  }
  const docs = JSON.parse(fs.readFileSync(objectsFile, 'utf-8'));
  const ratios = libRuns.map((l, i) => l.ms / apiRuns[i].ms);
  return {
    namespaces,
    entries: namespaces * ENTRIES_PER_NAMESPACE,
    objects: docs.length,
    libMs: median(libRuns.map((x) => x.ms)),
    apiObjectMs: median(apiRuns.map((x) => x.ms)),
    ratio: median(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    sameYaml: libRuns.every((x) => x.same) && apiRuns.every((x) => x.same) && libRuns[0].yamlBytes === apiRuns[0].yamlBytes,
    liveHeapMb: median(libRuns.map((x) => x.liveHeapMb)),
    peakRssMb: Math.max(...libRuns.map((x) => x.peakRssMb)),
    apiObjectPeakRssMb: Math.max(...apiRuns.map((x) => x.peakRssMb)),
    docs,
  };
}

function main(): void {
  const full = arg('--namespaces', 200);
  const rounds = arg('--rounds', 5);
  const runs = arg('--runs', 2);
  const small = measure(Math.max(1, Math.round(full / 10)), rounds, runs);
  const big = measure(full, rounds, runs);
  // appliable: every object against its CRD schema (test/schema.ts, the check every test uses)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { schemaProblems } = require('../test/schema') as typeof import('../test/schema');
  const problems = big.docs.flatMap((d: any) => schemaProblems(d));
  const strip = ({ docs, ...rest }: any) => rest;
  const git = (args: string[]) => execFileSync('git', args, { cwd: path.join(__dirname, '..'), encoding: 'utf-8' }).trim();
  const commit = `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'src']) === '' ? '' : ' + uncommitted src changes'}`;
  const result = {
    date: new Date().toISOString(),
    commit,
    load: os.loadavg(),
    cpus: os.cpus().length,
    rounds,
    runs,
    small: strip(small),
    full: strip(big),
    linearity: big.libMs / small.libMs,
    entriesFactor: big.entries / small.entries,
    schemaProblems: problems.length,
    firstProblems: problems.slice(0, 5),
  };
  const md = [
    '# Allow-list benchmark (bench/allow-list.ts)',
    '',
    `${result.date}, git ${commit}, ${result.cpus} CPUs, load ${result.load.map((l) => l.toFixed(1)).join(' ')}. Each variant in fresh processes, ` +
      `${rounds} alternating rounds, each the median of ${runs} synths after a warm-up; ratio = median of the rounds' ratios (range in brackets).`,
    '',
    '| namespaces | entries | objects | EgressAllowList (ms) | same objects as ApiObjects (ms) | ratio | live heap (MB) | peak RSS (MB) |',
    '|---|---|---|---|---|---|---|---|',
    ...[small, big].map(
      (r) =>
        `| ${r.namespaces} | ${r.entries} | ${r.objects} | ${r.libMs.toFixed(0)} | ${r.apiObjectMs.toFixed(0)} | ` +
        `${r.ratio.toFixed(2)} (${r.ratioRange.map((x: number) => x.toFixed(2)).join('-')}) | ${r.liveHeapMb.toFixed(0)} | ${r.peakRssMb.toFixed(0)} (ApiObjects ${r.apiObjectPeakRssMb.toFixed(0)}) |`,
    ),
    '',
    `Time at ${result.entriesFactor}x the entries: ${result.linearity.toFixed(2)}x (target <= 11x). Same YAML bytes from both variants: ${big.sameYaml && small.sameYaml}. ` +
      `Objects failing their CRD schema: ${result.schemaProblems}.`,
    '',
  ].join('\n');
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'allow-list.json'), JSON.stringify(result, undefined, 2) + '\n');
  fs.writeFileSync(path.join(out, 'allow-list.md'), md);
  console.log(md);
}

const workerVariant = argText('--worker');
if (workerVariant !== undefined) {
  worker(workerVariant);
} else {
  main();
}
