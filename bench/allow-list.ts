/**
 * The allow-list scenario (issue #14): N namespaces x 25 entries, both modes, some wildcards, some TLS origination,
 * some service accounts, one host shared by every sidecar team. Measures, on the COMPILED library (lib/), the synth
 * time of `EgressAllowList` (build + `synthYaml()`) against the same objects written as plain `ApiObject`s, at 1/10
 * of the size and at full size (linearity), and the memory; checks every object against the CRD schemas (appliable).
 *
 *   npx jsii --silence-warnings=reserved-word
 *   node --expose-gc -r ts-node/register/transpile-only bench/allow-list.ts                 # 20 and 200 namespaces
 *   node --expose-gc -r ts-node/register/transpile-only bench/allow-list.ts --namespaces 200 --rounds 7 --pairs 6
 *
 * How, two ways, both shown:
 * - separate processes (like `cdk8s synth`, one fresh Node process per measurement): a worker synthesizes one
 *   variant, a warm-up synth (module loading, JIT) then `--runs` timed synths, each after a full GC, and reports their
 *   median. The library and the ApiObject workers alternate for `--rounds` rounds; a round's ratio is its library
 *   median over its ApiObject median; the table shows the median of the rounds' ratios, with their range.
 * - paired (as `bench/bench.ts` judges the sidecar scenario): one process warms up both variants, then alternates
 *   library and ApiObject synths (`--pairs` pairs, a full GC before each, the order within a pair alternating too;
 *   the library's host cache is warm then, about 10 ms of a cold synth); each pair gives a ratio, and the figure is
 *   the median over all pairs of `--paired-workers` such processes. Both variants meet the same machine state within
 *   seconds, so load on this shared machine skews it least; the 1.5x target is judged on it.
 * The ApiObject variant gets the library's final objects from a JSON file an untimed worker writes first.
 *
 * Writes bench/results/allow-list.{json,md}.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { App, Chart } from 'cdk8s';
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

function newChart(): Chart {
  const app = new cdk8s.App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-allow-')) });
  return new cdk8s.Chart(app, 'platform');
}

/** The app and its YAML (the app is returned so the live-heap figure can keep it referenced). */
function synthLib(namespaces: number): { app: App; yaml: string } {
  const chart = newChart();
  new lib.EgressAllowList(chart, 'egress', { spec: spec(namespaces), writeMatrix: false });
  const app = chart.node.root as App;
  return { app, yaml: app.synthYaml() };
}

function synthApiObjects(objects: any[]): { app: App; yaml: string } {
  const chart = newChart();
  objects.forEach((o, i) => new cdk8s.ApiObject(chart, `o${i}`, o));
  const app = chart.node.root as App;
  return { app, yaml: app.synthYaml() };
}

function gc(): void {
  (global as any).gc?.();
}

/** The median; of an even number of values, the mean of the middle two. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Writes the library's final objects (the ApiObject variant's input) to `--objects`; untimed. */
function writeObjects(namespaces: number, objectsFile: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const YAML = require(require.resolve('yaml', { paths: [path.dirname(require.resolve('cdk8s'))] })) as typeof import('yaml');
  const docs = YAML.parseAllDocuments(synthLib(namespaces).yaml, { version: '1.1' } as any).map((d: any) => d.toJSON());
  fs.writeFileSync(objectsFile, JSON.stringify(docs));
  process.stdout.write('{}\n');
}

/** One timed synth after a full GC: its milliseconds and YAML. */
function timed(fn: () => { app: App; yaml: string }): { ms: number; yaml: string } {
  gc();
  const t0 = process.hrtime.bigint();
  const yaml = fn().yaml;
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, yaml };
}

/** `--worker lib|apiobject|paired|objects`: one measurement in this process; prints one JSON line. */
function worker(variant: string): void {
  const namespaces = arg('--namespaces', 200);
  const runs = arg('--runs', 3);
  const objectsFile = argText('--objects')!;
  if (variant === 'objects') {
    writeObjects(namespaces, objectsFile);
    return;
  }
  const objects = variant === 'lib' ? [] : JSON.parse(fs.readFileSync(objectsFile, 'utf-8'));
  const libFn = () => synthLib(namespaces);
  const apiFn = () => synthApiObjects(objects);
  if (variant === 'paired') {
    const pairs = arg('--pairs', 6);
    const libYaml = libFn().yaml; // warm-up of both
    const apiYaml = apiFn().yaml;
    const ratios: number[] = [];
    let same = libYaml === apiYaml;
    for (let i = 0; i < pairs; i++) {
      // the order alternates, so neither variant always runs right after the other's garbage
      let l: ReturnType<typeof timed>;
      let a: ReturnType<typeof timed>;
      if (i % 2 === 0) {
        l = timed(libFn);
        a = timed(apiFn);
      } else {
        a = timed(apiFn);
        l = timed(libFn);
      }
      ratios.push(l.ms / a.ms);
      same = same && l.yaml === libYaml && a.yaml === apiYaml;
    }
    process.stdout.write(JSON.stringify({ ratios, same }) + '\n');
    return;
  }
  const fn = variant === 'lib' ? libFn : apiFn;
  const yaml = fn().yaml; // warm-up
  const samples: number[] = [];
  let same = true;
  for (let i = 0; i < runs; i++) {
    const t = timed(fn);
    samples.push(t.ms);
    same = same && t.yaml === yaml;
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

function runWorker(variant: string, namespaces: number, runs: number, objectsFile: string, pairs = 0): any {
  const out = execFileSync(
    process.execPath,
    [
      '--expose-gc', '-r', 'ts-node/register/transpile-only', __filename, '--worker', variant,
      '--namespaces', String(namespaces), '--runs', String(runs), '--objects', objectsFile, '--pairs', String(pairs),
    ],
    { cwd: path.join(__dirname, '..'), encoding: 'utf-8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

function measure(namespaces: number, rounds: number, runs: number, pairedWorkers: number, pairs: number) {
  const objectsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-allow-objects-')), 'objects.json');
  runWorker('objects', namespaces, runs, objectsFile);
  const libRuns: any[] = [];
  const apiRuns: any[] = [];
  const pairedRuns: any[] = [];
  for (let r = 0; r < Math.max(rounds, pairedWorkers); r++) {
    if (r < rounds) {
      libRuns.push(runWorker('lib', namespaces, runs, objectsFile));
      apiRuns.push(runWorker('apiobject', namespaces, runs, objectsFile));
    }
    if (r < pairedWorkers) {
      pairedRuns.push(runWorker('paired', namespaces, runs, objectsFile, pairs));
    }
  }
  const pairRatios: number[] = pairedRuns.flatMap((p) => p.ratios);
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
    pairedRatio: median(pairRatios),
    pairedRange: [Math.min(...pairRatios), Math.max(...pairRatios)],
    pairs: pairRatios.length,
    sameYaml:
      libRuns.every((x) => x.same) && apiRuns.every((x) => x.same) && pairedRuns.every((p) => p.same) &&
      libRuns[0].yamlBytes === apiRuns[0].yamlBytes,
    liveHeapMb: median(libRuns.map((x) => x.liveHeapMb)),
    peakRssMb: Math.max(...libRuns.map((x) => x.peakRssMb)),
    apiObjectPeakRssMb: Math.max(...apiRuns.map((x) => x.peakRssMb)),
    docs,
  };
}

function main(): void {
  const full = arg('--namespaces', 200);
  const rounds = arg('--rounds', 5);
  const runs = arg('--runs', 3);
  const pairedWorkers = arg('--paired-workers', 3);
  const pairs = arg('--pairs', 6);
  const small = measure(Math.max(1, Math.round(full / 10)), rounds, runs, pairedWorkers, pairs);
  const big = measure(full, rounds, runs, pairedWorkers, pairs);
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
    pairedWorkers,
    pairs,
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
    `${result.date}, git ${commit}, ${result.cpus} CPUs, load ${result.load.map((l) => l.toFixed(1)).join(' ')}. ` +
      `Separate processes: ${rounds} alternating rounds, each variant the median of ${runs} synths after a warm-up; ratio = median of the rounds' ratios. ` +
      `Paired: ${pairedWorkers} processes of ${pairs} alternating library / ApiObject synths after a warm-up of both; ratio = median of the pairs' ratios ` +
      '(the 1.5x target is judged on it, as in bench/bench.ts). Ranges in brackets.',
    '',
    '| namespaces | entries | objects | EgressAllowList (ms) | same objects as ApiObjects (ms) | ratio, separate processes | ratio, paired | live heap (MB) | peak RSS (MB) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...[small, big].map(
      (r) =>
        `| ${r.namespaces} | ${r.entries} | ${r.objects} | ${r.libMs.toFixed(0)} | ${r.apiObjectMs.toFixed(0)} | ` +
        `${r.ratio.toFixed(2)} (${r.ratioRange.map((x: number) => x.toFixed(2)).join('-')}) | ` +
        `${r.pairedRatio.toFixed(2)} (${r.pairedRange.map((x: number) => x.toFixed(2)).join('-')}, ${r.pairs} pairs) | ` +
        `${r.liveHeapMb.toFixed(0)} | ${r.peakRssMb.toFixed(0)} (ApiObjects ${r.apiObjectPeakRssMb.toFixed(0)}) |`,
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
