/**
 * The allow-list scenario (issue #14): N namespaces x 25 entries, both modes, some wildcards, some TLS origination,
 * some service accounts, one host shared by every sidecar team. Measures, on the COMPILED library (lib/), the synth
 * time of `EgressAllowList` (build + `synthYaml()`) against the same objects written as plain `ApiObject`s, at 1/10
 * of the size and at full size (linearity), and the memory; checks every object against the CRD schemas (appliable).
 *
 *   npx jsii --silence-warnings=reserved-word
 *   node --expose-gc -r ts-node/register/transpile-only bench/allow-list.ts            # 20 and 200 namespaces
 *   node --expose-gc -r ts-node/register/transpile-only bench/allow-list.ts --namespaces 200 --runs 3
 *
 * Writes bench/results/allow-list.{json,md}.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cdk8s, lib } from './scenario';

const ENTRIES_PER_NAMESPACE = 25;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
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

function buildLib(namespaces: number): { app: any; yaml: string } {
  const app = new cdk8s.App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-allow-')) });
  const chart = new cdk8s.Chart(app, 'platform');
  new lib.EgressAllowList(chart, 'egress', { spec: spec(namespaces), writeMatrix: false });
  return { app, yaml: app.synthYaml() };
}

function buildApiObjects(objects: any[]): string {
  const app = new cdk8s.App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-allow-')) });
  const chart = new cdk8s.Chart(app, 'platform');
  objects.forEach((o, i) => new cdk8s.ApiObject(chart, `o${i}`, o));
  return app.synthYaml();
}

function gc(): void {
  (global as any).gc?.();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void, runs: number): number {
  fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    gc();
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(samples);
}

function measure(namespaces: number, runs: number) {
  const { yaml } = buildLib(namespaces);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const YAML = require(require.resolve('yaml', { paths: [path.dirname(require.resolve('cdk8s'))] })) as typeof import('yaml');
  const docs = YAML.parseAllDocuments(yaml, { version: '1.1' } as any).map((d: any) => d.toJSON());
  const libMs = time(() => buildLib(namespaces), runs);
  const apiMs = time(() => buildApiObjects(docs), runs);
  gc();
  const heap = process.memoryUsage().heapUsed;
  const kept = buildLib(namespaces);
  gc();
  const heapAfter = process.memoryUsage().heapUsed;
  void kept;
  return {
    namespaces,
    entries: namespaces * ENTRIES_PER_NAMESPACE,
    objects: docs.length,
    libMs,
    apiObjectMs: apiMs,
    ratio: libMs / apiMs,
    liveHeapMb: (heapAfter - heap) / 1e6,
    docs,
  };
}

function main(): void {
  const full = arg('--namespaces', 200);
  const runs = arg('--runs', 3);
  const small = measure(Math.max(1, Math.round(full / 10)), runs);
  const big = measure(full, runs);
  // appliable: every object against its CRD schema (test/schema.ts, the check every test uses)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { schemaProblems } = require('../test/schema') as typeof import('../test/schema');
  const problems = big.docs.flatMap((d: any) => schemaProblems(d));
  const maxRss = process.resourceUsage().maxRSS / 1024;
  const strip = ({ docs, ...rest }: any) => rest;
  const result = {
    date: new Date().toISOString(),
    load: os.loadavg(),
    cpus: os.cpus().length,
    runs,
    small: strip(small),
    full: strip(big),
    linearity: big.libMs / small.libMs,
    entriesFactor: big.entries / small.entries,
    schemaProblems: problems.length,
    firstProblems: problems.slice(0, 5),
    peakRssMb: maxRss,
  };
  const md = [
    '# Allow-list benchmark (bench/allow-list.ts)',
    '',
    `${result.date}, ${result.cpus} CPUs, load ${result.load.map((l) => l.toFixed(1)).join(' ')}; median of ${runs} runs after a warm-up.`,
    '',
    '| namespaces | entries | objects | EgressAllowList (ms) | same objects as ApiObjects (ms) | ratio | live heap (MB) |',
    '|---|---|---|---|---|---|---|',
    ...[small, big].map((r) => `| ${r.namespaces} | ${r.entries} | ${r.objects} | ${r.libMs.toFixed(0)} | ${r.apiObjectMs.toFixed(0)} | ${r.ratio.toFixed(2)} | ${r.liveHeapMb.toFixed(0)} |`),
    '',
    `Time at ${result.entriesFactor}x the entries: ${result.linearity.toFixed(2)}x (target <= 11x). Peak RSS ${maxRss.toFixed(0)} MB. ` +
      `Objects failing their CRD schema: ${result.schemaProblems}.`,
    '',
  ].join('\n');
  const out = path.join(__dirname, 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'allow-list.json'), JSON.stringify(result, undefined, 2) + '\n');
  fs.writeFileSync(path.join(out, 'allow-list.md'), md);
  console.log(md);
}

main();
