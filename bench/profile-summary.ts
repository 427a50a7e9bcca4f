/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): the functions with the most self time, and the library
 * functions with the most total (inclusive) time.
 *
 *   node -r ts-node/register/transpile-only bench/profile-summary.ts <file.cpuprofile> [--top 25]
 *
 * `bench/bench.ts --profile 10000` records a profile of the library synth and prints this summary.
 */
import * as fs from 'fs';
import * as path from 'path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}

interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface SummaryOptions {
  /** Rows per table. */
  readonly top?: number;
  /** Paths are shown relative to this directory. */
  readonly root?: string;
}

function where(frame: CallFrame, root: string): string {
  let url = frame.url.replace(/^file:\/\//, '');
  if (url === '') return '(native)';
  if (url.startsWith(root)) url = path.relative(root, url);
  if (url.includes('node_modules/')) {
    url = url.replace(/^.*node_modules\//, '');
  } else {
    // A compiled library elsewhere (BENCH_LIB=/tmp/x/lib/src/index.js) is shown as lib/... too.
    url = url.replace(/^.*\/(lib\/(src|imports)\/)/, '$1');
  }
  return `${url}:${frame.lineNumber + 1}`;
}

function label(frame: CallFrame, root: string): string {
  return `${frame.functionName || '(anonymous)'} ${where(frame, root)}`;
}

/** The summary as text. */
export function summarize(file: string, options: SummaryOptions = {}): string {
  const top = options.top ?? 25;
  const root = options.root ?? process.cwd();
  const profile: CpuProfile = JSON.parse(fs.readFileSync(file, 'utf-8'));
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000; // ms
    all += dt;
    const node = byId.get(id)!;
    const key = label(node.callFrame, root);
    self.set(key, (self.get(key) ?? 0) + dt);
    const w = where(node.callFrame, root);
    const pkg = w.startsWith('lib/') ? 'cdk8s-istio-egress (lib/)' : w.startsWith('(') ? node.callFrame.functionName || '(native)' : w.split('/')[0];
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + dt);
    // Inclusive time: each distinct function on the stack once (recursion is not counted twice).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = label(byId.get(cur)!.callFrame, root);
      if (!seen.has(k)) {
        seen.add(k);
        total.set(k, (total.get(k) ?? 0) + dt);
      }
    }
  });

  const pct = (x: number) => `${((100 * x) / all).toFixed(1)}%`;
  const rows = (m: Map<string, number>, filter: (k: string) => boolean = () => true) =>
    [...m.entries()]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `${v.toFixed(0).padStart(8)} ms ${pct(v).padStart(6)}  ${k}`)
      .join('\n');

  return [
    `${all.toFixed(0)} ms sampled in ${path.basename(file)}`,
    '',
    'self time by package / file group:',
    rows(byPackage),
    '',
    `top ${top} functions by self time:`,
    rows(self),
    '',
    `top ${top} library functions (lib/) by total time:`,
    rows(total, (k) => / lib\//.test(k)),
    '',
  ].join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const topAt = args.indexOf('--top');
  if (!file) {
    console.error('usage: profile-summary.ts <file.cpuprofile> [--top N]');
    process.exit(2);
  }
  console.log(summarize(file, { top: topAt >= 0 ? Number(args[topAt + 1]) : 25, root: path.resolve(__dirname, '..') }));
}
