/**
 * The code blocks a document marks for copying: `<!-- <prefix>:<name> -->` on the line before a fenced block. The
 * README's quick start (prefix `quick-start`) and docs/python.md (`python-quick-start`, `python-three-teams`) mark
 * theirs, so that the tests run exactly what a reader copies.
 *
 * `ts-node scripts/doc-blocks.ts FILE PREFIX OUTDIR` writes each block of FILE with that prefix to OUTDIR/<name>.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The blocks of `markdown` marked `<!-- prefix:name -->`, by name, each with its final newline. */
export function markedBlocks(markdown: string, prefix: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const marker = new RegExp(`^<!-- ${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:([\\w.-]+) -->\\n(\`{3,})[^\\n]*\\n([\\s\\S]*?)^\\2\\s*$`, 'gm');
  for (const m of markdown.matchAll(marker)) {
    if (blocks.has(m[1])) {
      throw new Error(`two blocks are marked "${prefix}:${m[1]}"`);
    }
    blocks.set(m[1], m[3]);
  }
  return blocks;
}

if (require.main === module) {
  const [file, prefix, outdir] = process.argv.slice(2);
  if (!file || !prefix || !outdir) {
    throw new Error('usage: doc-blocks.ts FILE PREFIX OUTDIR');
  }
  const blocks = markedBlocks(fs.readFileSync(file, 'utf-8'), prefix);
  if (blocks.size === 0) {
    throw new Error(`${file} has no block marked "<!-- ${prefix}:<name> -->"`);
  }
  fs.mkdirSync(outdir, { recursive: true });
  for (const [name, text] of blocks) {
    fs.writeFileSync(path.join(outdir, name), text);
  }
  console.log(`${file}: ${[...blocks.keys()].map((n) => `${prefix}:${n}`).join(', ')}`);
}
