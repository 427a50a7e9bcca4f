/**
 * The documents' code: the README's quick start is examples/quick-start byte for byte, and every TypeScript block of
 * docs/*.md compiles against src/ with the README's rosetta fixture (the README's own blocks compile in
 * `npx projen rosetta:extract`, which only reads the README).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as ts from 'typescript';
import { PlatformExample } from '../examples/platform/chart';
import { markedBlocks } from '../scripts/doc-blocks';

const repo = path.join(__dirname, '..');
const read = (f: string) => fs.readFileSync(path.join(repo, f), 'utf-8');

describe("the README's quick start", () => {
  const blocks = markedBlocks(read('README.md'), 'quick-start');

  test('has the install commands, three files and the synth command', () => {
    expect([...blocks.keys()].sort()).toEqual(['cdk8s.yaml', 'install', 'main.ts', 'synth', 'tsconfig.json']);
  });

  test.each(['cdk8s.yaml', 'tsconfig.json', 'main.ts'])('%s is the same file in examples/quick-start, byte for byte', (file) => {
    expect(blocks.get(file)).toEqual(read(`examples/quick-start/${file}`));
  });

  test('runs the cdk8s.yaml app with cdk8s synth, without the version check', () => {
    expect(blocks.get('synth')).toEqual('npx cdk8s synth --no-check-upgrade\n');
  });
});

describe("the README's egress matrix", () => {
  test('is the platform example\'s matrix, row for row, without its entry column', () => {
    const readme = read('README.md');
    const start = readme.indexOf('<!-- platform-matrix -->');
    const end = readme.indexOf('<!-- /platform-matrix -->');
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    const shown = readme.slice(start, end).split('\n').slice(1).filter((l) => l.startsWith('|'));
    const app = Testing.app();
    const written = new PlatformExample(app, 'platform').allowList.matrixMarkdown().split('\n').filter((l) => l.startsWith('|'));
    const withoutEntry = written.map((l) => {
      const cells = l.split(' | ');
      return cells[0].startsWith('|---') ? l.split('|').slice(0, -2).join('|') + '|' : `${cells.slice(0, -1).join(' | ')} |`;
    });
    expect(written.length).toBeGreaterThan(5);
    expect(shown).toEqual(withoutEntry);
  });
});

describe("docs/python.md's apps", () => {
  test('the quick start has the install commands, cdk8s.yaml, main.py and the synth command', () => {
    expect([...markedBlocks(read('docs/python.md'), 'python-quick-start').keys()].sort())
      .toEqual(['cdk8s.yaml', 'install', 'main.py', 'synth']);
  });

  test('the three-team app has main.py', () => {
    expect([...markedBlocks(read('docs/python.md'), 'python-three-teams').keys()]).toEqual(['main.py']);
  });
});

/** The ```ts blocks of a Markdown text, with the line each starts on. */
function typescriptBlocks(markdown: string): Array<{ line: number; code: string; nofixture: boolean }> {
  const out: Array<{ line: number; code: string; nofixture: boolean }> = [];
  for (const m of markdown.matchAll(/^```(ts|typescript)([^\n]*)\n([\s\S]*?)^```\s*$/gm)) {
    out.push({ line: markdown.slice(0, m.index).split('\n').length + 1, code: m[3], nofixture: /\bnofixture\b/.test(m[2]) });
  }
  return out;
}

describe('docs/*.md', () => {
  const fixture = read('rosetta/default.ts-fixture');
  const docs = fs.readdirSync(path.join(repo, 'docs')).filter((f) => f.endsWith('.md')).sort();
  const snippets = new Map<string, { doc: string; line: number }>();
  const sources = new Map<string, string>();
  for (const doc of docs) {
    for (const block of typescriptBlocks(read(`docs/${doc}`))) {
      const file = path.join(repo, 'docs', `__${doc.replace(/\W/g, '_')}_${block.line}.ts`);
      snippets.set(file, { doc: `docs/${doc}`, line: block.line });
      sources.set(file, block.nofixture ? block.code : fixture.replace(/^[ \t]*\/\/\/ here[ \t]*$/m, () => block.code));
    }
  }

  test('have TypeScript examples', () => {
    expect(snippets.size).toBeGreaterThan(5);
  });

  test('every TypeScript example compiles (with the rosetta fixture)', () => {
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
      baseUrl: repo,
      paths: { 'cdk8s-istio-egress': ['src/index.ts'] },
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.readFile = (f) => sources.get(path.resolve(f)) ?? readFile(f);
    host.fileExists = (f) => sources.has(path.resolve(f)) || fileExists(f);
    const program = ts.createProgram([...sources.keys()], options, host);
    const errors = ts.getPreEmitDiagnostics(program)
      .filter((d) => d.file && snippets.has(path.resolve(d.file.fileName)))
      .map((d) => {
        const where = snippets.get(path.resolve(d.file!.fileName))!;
        return `${where.doc} (block at line ${where.line}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    expect(errors).toEqual([]);
  });
});

/** GitHub's anchor of a Markdown heading. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}

describe('links', () => {
  const files = ['README.md', 'CONTRIBUTING.md', ...fs.readdirSync(path.join(repo, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

  test.each(files)('every relative link of %s points to an existing file and heading', (file) => {
    const text = read(file).replace(/^```[\s\S]*?^```/gm, '');
    const broken: string[] = [];
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) {
        continue;
      }
      const [rel, hash] = target.split('#');
      const resolved = rel ? path.join(path.dirname(path.join(repo, file)), rel) : path.join(repo, file);
      if (!fs.existsSync(resolved)) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (hash && resolved.endsWith('.md')) {
        const headings = fs.readFileSync(resolved, 'utf-8').replace(/^```[\s\S]*?^```/gm, '').match(/^#+ .*$/gm) ?? [];
        if (!headings.map((h) => anchor(h.replace(/^#+ /, ''))).includes(hash)) {
          broken.push(`${target}: no heading #${hash}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
