/**
 * The layers of src/ (CONTRIBUTING.md, "Layers"): core holds the value types and the registry; the three modes
 * (sidecar, ambient, network-policy) build on core only and never on each other; the front end (allow-list) builds on
 * all of them; index.ts only re-exports.
 * Import cycles are refused anywhere in src/.
 */
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.join(__dirname, '..', 'src');

/** Which layers a file of each layer may import (besides itself and packages / generated imports). */
const ALLOWED: { [layer: string]: string[] } = {
  'core': ['core'],
  'sidecar': ['core', 'sidecar'],
  'ambient': ['core', 'ambient'],
  'network-policy': ['core', 'network-policy'],
  // the declarative front end builds on every mode
  'allow-list': ['core', 'sidecar', 'ambient', 'network-policy', 'allow-list'],
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/**
 * The src/ files a file imports (relative imports only, resolved to their .ts path). With `withTypes: false`,
 * `import type` is left out: TypeScript erases it, so it cannot make a load-order cycle (a waypoint and its hosts
 * name each other's types, as a public API whose classes refer to each other must).
 */
export function localImports(file: string, text: string = fs.readFileSync(file, 'utf-8'), withTypes: boolean = true): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) {
    if (!withTypes && /^import\s+type\s/.test(m[0])) {
      continue;
    }
    const target = path.resolve(path.dirname(file), m[1]);
    if (target.startsWith(SRC + path.sep)) {
      found.push(fs.existsSync(`${target}.ts`) ? `${target}.ts` : path.join(target, 'index.ts'));
    }
  }
  return found;
}

function layerOf(file: string): string {
  const rel = path.relative(SRC, file);
  return rel.includes(path.sep) ? rel.split(path.sep)[0] : '.';
}

/** Every import that crosses a layer boundary, as `from -> to` (relative paths). */
export function layerViolations(graph: Map<string, string[]>): string[] {
  const problems: string[] = [];
  for (const [file, imports] of graph) {
    const layer = layerOf(file);
    if (layer === '.') {
      if (path.basename(file) !== 'index.ts') {
        problems.push(`${path.relative(SRC, file)}: files belong in a layer folder (core, sidecar, ambient, network-policy)`);
      }
      continue;
    }
    const allowed = ALLOWED[layer];
    if (allowed === undefined) {
      problems.push(`${path.relative(SRC, file)}: unknown layer "${layer}"; add it to ALLOWED in test/layers.test.ts and to CONTRIBUTING.md`);
      continue;
    }
    for (const target of imports) {
      const to = layerOf(target);
      if (!allowed.includes(to)) {
        problems.push(`${path.relative(SRC, file)} -> ${path.relative(SRC, target)}: ${layer} may import only ${allowed.join(', ')}`);
      }
    }
  }
  return problems;
}

/** Every import cycle, each as `a -> b -> a`. */
export function importCycles(graph: Map<string, string[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'active');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'active') {
        cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => path.relative(SRC, f)).join(' -> '));
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) {
    if (!state.has(file)) {
      visit(file);
    }
  }
  return cycles;
}

function srcGraph(withTypes: boolean = true): Map<string, string[]> {
  return new Map(sourceFiles(SRC).map((f) => [f, localImports(f, undefined, withTypes)]));
}

describe('layers of src/', () => {
  test('no import crosses a layer: core imports only core; sidecar, ambient and network-policy import core and themselves', () => {
    expect(layerViolations(srcGraph())).toEqual([]);
  });

  test('no import cycles (type-only imports are erased at compile time and cannot make one)', () => {
    expect(importCycles(srcGraph(false))).toEqual([]);
  });

  test('index.ts only re-exports', () => {
    const lines = fs.readFileSync(path.join(SRC, 'index.ts'), 'utf-8').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//'));
    expect(lines.filter((l) => !/^export (\*|\{[^}]*\})( as \w+)? from '\.\/[\w/-]+';$/.test(l))).toEqual([]);
  });

  test('fails for an import from one mode into another, and for a cycle (the guard itself)', () => {
    const f = (p: string) => path.join(SRC, p);
    const graph = new Map<string, string[]>([
      [f('network-policy/policy.ts'), [f('ambient/waypoint.ts'), f('core/host.ts')]],
      [f('core/host.ts'), [f('core/port.ts')]],
      [f('core/port.ts'), [f('core/host.ts'), f('sidecar/gateway.ts')]],
      [f('ambient/waypoint.ts'), []],
      [f('sidecar/gateway.ts'), []],
    ]);
    expect(layerViolations(graph)).toEqual([
      'network-policy/policy.ts -> ambient/waypoint.ts: network-policy may import only core, network-policy',
      'core/port.ts -> sidecar/gateway.ts: core may import only core',
    ]);
    expect(importCycles(graph)).toEqual(['core/host.ts -> core/port.ts -> core/host.ts']);
  });

  test('reads multi-line imports and re-exports', () => {
    const file = path.join(SRC, 'sidecar', 'x.ts');
    const text = "import {\n  A,\n  B,\n} from '../core/host';\nexport { C } from './egress-gateway';\nimport * as k from '../../imports/k8s';\n";
    expect(localImports(file, text)).toEqual([path.join(SRC, 'core', 'host.ts'), path.join(SRC, 'sidecar', 'egress-gateway.ts')]);
    const typed = "import type { A } from '../core/host';\nimport { B } from '../core/port';\n";
    expect(localImports(file, typed)).toEqual([path.join(SRC, 'core', 'host.ts'), path.join(SRC, 'core', 'port.ts')]);
    expect(localImports(file, typed, false)).toEqual([path.join(SRC, 'core', 'port.ts')]);
  });
});
