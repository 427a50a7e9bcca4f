/**
 * Runs Istio's own validator (`istioctl validate`) and analyzers (`istioctl analyze`) on manifest files and judges
 * what they say against the checked-in allow-list (istioctl-allowed-messages.txt). Used by `npx projen istio-check`
 * (scripts/istio-check.ts) and by test/istio-validate.test.ts.
 *
 * Both tools exit 0 on warnings (and `analyze -o json` even on errors), so their output is read, not their exit code
 * alone: every line either tool prints, apart from the lines that only say "valid", is a message, and a message that
 * the allow-list does not name fails the check.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CRD_SETS } from './crds';

/**
 * The Istio source commit istioctl is built from: scripts/istio-source.env, its one home (also read by
 * scripts/install-istioctl.sh and the xDS suite).
 */
export interface IstioSource {
  /** Go pseudo-version of istio.io/istio, e.g. `v0.0.0-20260827124520-eed52ebb66ad`. */
  readonly pseudoVersion: string;
  /** Short commit hash. */
  readonly commit: string;
  /** `<VERSION file>-dev`, e.g. `1.31-dev`. */
  readonly devVersion: string;
  /** Which branch and date, in words. */
  readonly note: string;
  /** The `go` line of istio.io/istio's go.mod at that commit. */
  readonly goMin: string;
}

/** Reads scripts/istio-source.env (KEY=VALUE lines, values optionally double-quoted). */
export function readIstioSource(file: string = path.join(__dirname, 'istio-source.env')): IstioSource {
  const vars = new Map<string, string>();
  for (const line of fs.readFileSync(file, 'utf-8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) {
      vars.set(m[1], m[2].replace(/^"(.*)"$/, '$1'));
    }
  }
  const get = (key: string): string => {
    const value = vars.get(key);
    if (!value) {
      throw new Error(`${file} has no ${key}=...`);
    }
    return value;
  };
  return {
    pseudoVersion: get('ISTIO_PSEUDO_VERSION'),
    commit: get('ISTIO_COMMIT'),
    devVersion: get('ISTIO_DEV_VERSION'),
    note: get('ISTIO_SOURCE_NOTE'),
    goMin: get('GO_MIN'),
  };
}

const SOURCE = readIstioSource();

/** The version `scripts/install-istioctl.sh` builds (`<dev version>+<commit>`), from scripts/istio-source.env. */
export const PINNED_ISTIOCTL_VERSION = `${SOURCE.devVersion}+${SOURCE.commit}`;

/** What the pinned build is, said plainly in every report. */
export const PINNED_ISTIOCTL_DESCRIPTION =
  `Istio ${SOURCE.note} (commit ${SOURCE.commit}, ${SOURCE.pseudoVersion}); the CRD schema tests use the CRDs of Istio ${CRD_SETS.map((s) => s.name).join(', ')}`;

/** The allow-list at the repository root. */
export const ALLOW_LIST_FILE = path.join(__dirname, '..', 'istioctl-allowed-messages.txt');

export interface Istioctl {
  /** Path of the binary. */
  readonly bin: string;
  /** `client version` it reports, e.g. `1.31-dev+eed52ebb66ad`. */
  readonly version: string;
  /** One line for reports: version and what it is. */
  readonly description: string;
}

/** Where `scripts/install-istioctl.sh` puts the binary ($ISTIOCTL_CACHE_DIR/bin/istioctl). */
export function defaultIstioctlPath(): string {
  const cache = process.env.ISTIOCTL_CACHE_DIR || path.join(os.homedir(), '.cache', 'cdk8s-istio-egress', 'istioctl');
  return path.join(cache, 'bin', 'istioctl');
}

/**
 * Finds istioctl: $ISTIOCTL if set (any version, reported as such), else the pinned build in the cache directory.
 * Throws, saying how to install it, when there is none.
 */
export function findIstioctl(): Istioctl {
  const fromEnv = process.env.ISTIOCTL;
  const bin = fromEnv || defaultIstioctlPath();
  const howTo = `Build it with \`npx projen install-istioctl\` (needs Go ${SOURCE.goMin} or later; several minutes the first time), `
    + 'or set ISTIOCTL to an istioctl binary.';
  if (!fs.existsSync(bin)) {
    throw new Error(`istioctl not found at ${bin}${fromEnv ? ' ($ISTIOCTL)' : ''}. ${howTo}`);
  }
  const run = spawnSync(bin, ['version', '--remote=false'], { encoding: 'utf-8' });
  const version = /^client version: (\S+)/m.exec(`${run.stdout}`)?.[1];
  if (run.status !== 0 || !version) {
    throw new Error(`${bin} does not run or report its version (${run.error ?? run.stderr.trim()}). ${howTo}`);
  }
  if (!fromEnv && version !== PINNED_ISTIOCTL_VERSION) {
    throw new Error(`${bin} is istioctl ${version}, expected ${PINNED_ISTIOCTL_VERSION}. ${howTo}`);
  }
  const description = version === PINNED_ISTIOCTL_VERSION
    ? `istioctl ${version}: ${PINNED_ISTIOCTL_DESCRIPTION}`
    : `istioctl ${version} from $ISTIOCTL (not the pinned ${PINNED_ISTIOCTL_VERSION}); the CRD schema tests use the CRDs of Istio ${CRD_SETS.map((s) => s.name).join(', ')}`;
  return { bin, version, description };
}

/** One run of one tool on a set of files. */
export interface ToolRun {
  readonly tool: 'validate' | 'analyze';
  /** What was checked, e.g. `examples/wildcard-egress` or `all examples`. */
  readonly subject: string;
  readonly files: string[];
  readonly exitCode: number | null;
  /**
   * Every message, one line each. validate: the text as printed (`deployment "..." may not ...`,
   * `EnvoyFilter/ns/name: ...`, `Error: ...`). analyze: `Level [CODE] (Kind ns/name file:line) message`.
   */
  readonly messages: string[];
  /** analyze only: analyzers istioctl skipped because files cannot provide their inputs (Pods, Services, ...). */
  readonly skippedAnalyzers: string[];
}

/** `istioctl validate -f <file>...`. */
export function validate(istioctl: Istioctl, subject: string, files: string[]): ToolRun {
  const run = spawnSync(istioctl.bin, ['validate', ...files.flatMap((f) => ['-f', f])], { encoding: 'utf-8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) {
    throw run.error;
  }
  const messages = `${run.stdout}\n${run.stderr}`
    .split('\n')
    .map((l) => l.trim().replace(/^\* /, ''))
    .filter((l) => l.length > 0)
    .filter((l) => !/^".*" is valid$/.test(l) && !/^".*" has warnings:$/.test(l));
  if (run.status !== 0 && messages.length === 0) {
    messages.push(`istioctl validate exited with ${run.status} and printed nothing`);
  }
  return { tool: 'validate', subject, files, exitCode: run.status, messages, skippedAnalyzers: [] };
}

interface AnalyzeJsonMessage {
  code: string;
  level: string;
  message: string;
  origin?: string;
  reference?: string;
}

/** The line of an analyzer message that allow-list entries match (no resource or file, so one entry fits all). */
export function analyzeMatchText(m: { level: string; code: string; message: string }): string {
  return `${m.level} [${m.code}] ${m.message}`;
}

/**
 * `istioctl analyze --use-kube=false --all-namespaces -o json <file>...`. `--all-namespaces` matters: without it
 * istioctl reports only the messages of objects in namespace `default` and says "No validation issues found".
 */
export function analyze(istioctl: Istioctl, subject: string, files: string[]): ToolRun {
  const run = spawnSync(istioctl.bin, ['analyze', '--use-kube=false', '--all-namespaces', '--verbose', '-o', 'json', ...files], {
    encoding: 'utf-8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) {
    throw run.error;
  }
  const messages: string[] = [];
  let parsed: AnalyzeJsonMessage[] = [];
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    messages.push(`istioctl analyze printed no JSON (exit ${run.status}): ${run.stdout.trim()}`);
  }
  for (const m of parsed) {
    const where = [m.origin, m.reference].filter((x) => x).join(' ');
    messages.push(`${m.level} [${m.code}]${where ? ` (${where})` : ''} ${m.message}`);
  }
  // --verbose lists the skipped and executed analyzers on stderr; anything else there (a file that could not be
  // parsed, a warning of the file reader) is a message too.
  const skippedAnalyzers: string[] = [];
  let section = '';
  for (const raw of run.stderr.split('\n')) {
    const line = raw.trim();
    if (line === '' || /^Analyzed resources in /.test(line) || /^✔ No validation issues found when analyzing/.test(line)) {
      continue;
    }
    if (line === 'Skipped analyzers:' || line === 'Executed analyzers:') {
      section = line;
      continue;
    }
    if (section !== '' && /^\t /.test(raw)) {
      if (section === 'Skipped analyzers:') {
        skippedAnalyzers.push(line);
      }
      continue;
    }
    section = '';
    messages.push(line);
  }
  if (run.status !== 0 && messages.length === 0) {
    messages.push(`istioctl analyze exited with ${run.status}`);
  }
  return { tool: 'analyze', subject, files, exitCode: run.status, messages, skippedAnalyzers };
}

/** One line of istioctl-allowed-messages.txt. */
export interface AllowEntry {
  readonly tool: 'validate' | 'analyze';
  /** Text the message must contain (analyze: matched against `Level [CODE] message`). */
  readonly text: string;
  readonly reason: string;
  /** Line number in the file, for reports. */
  readonly line: number;
}

/** Reads the allow-list: `TOOL | TEXT | REASON` per line, `#` comments and blank lines ignored. */
export function loadAllowList(file: string = ALLOW_LIST_FILE): AllowEntry[] {
  const entries: AllowEntry[] = [];
  fs.readFileSync(file, 'utf-8').split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) {
      return;
    }
    const [tool, text, reason, ...rest] = line.split(' | ').map((s) => s.trim());
    if ((tool !== 'validate' && tool !== 'analyze') || !text || !reason || rest.length > 0) {
      throw new Error(`${file}:${i + 1}: expected "validate | TEXT | REASON" or "analyze | TEXT | REASON", got: ${raw}`);
    }
    if (tool === 'analyze' && !/\[IST\d{4}\]/.test(text)) {
      throw new Error(`${file}:${i + 1}: an analyze entry must name the message code, as in "Warning [IST0133] ...": ${raw}`);
    }
    entries.push({ tool, text, reason, line: i + 1 });
  });
  return entries;
}

export interface Verdict {
  /** Messages no entry allows, as `tool subject: message`. */
  readonly failures: string[];
  /** Messages an entry allows, as `tool subject: message`. */
  readonly allowed: string[];
  /** Entries no message used: stale, so they fail too. */
  readonly unusedEntries: AllowEntry[];
  readonly ok: boolean;
}

function allowedBy(run: ToolRun, message: string, entries: AllowEntry[]): AllowEntry | undefined {
  // A failed run (validate's exit 1: an invalid object) is never allowed, whatever it printed.
  if (run.tool === 'validate' && run.exitCode !== 0) {
    return undefined;
  }
  const text = run.tool === 'analyze' ? message.replace(/^(\w+ \[IST\d+\]) \([^)]*\)/, '$1') : message;
  return entries.find((e) => e.tool === run.tool && text.includes(e.text));
}

/** Zero errors and zero warnings, except the allow-listed ones; an allow-list entry nothing needed fails as well. */
export function judge(runs: ToolRun[], entries: AllowEntry[], opts: { requireAllEntriesUsed?: boolean } = {}): Verdict {
  const failures: string[] = [];
  const allowed: string[] = [];
  const used = new Set<AllowEntry>();
  for (const run of runs) {
    for (const m of run.messages) {
      const entry = allowedBy(run, m, entries);
      if (entry) {
        used.add(entry);
        allowed.push(`${run.tool} ${run.subject}: ${m}`);
      } else {
        failures.push(`${run.tool} ${run.subject}: ${m}`);
      }
    }
    if (run.tool === 'validate' && run.exitCode !== 0 && run.messages.length === 0) {
      failures.push(`${run.tool} ${run.subject}: exit code ${run.exitCode}`);
    }
  }
  const unusedEntries = opts.requireAllEntriesUsed === false ? [] : entries.filter((e) => !used.has(e));
  return { failures, allowed, unusedEntries, ok: failures.length === 0 && unusedEntries.length === 0 };
}
