#!/usr/bin/env node
// Converts `go test -json` output into JUnit XML (one <testsuite> per top-level test, one <testcase> per leaf test)
// and prints every failure. Usage: node scripts/xds-junit.js <go-test.json> <junit.xml>
'use strict';
const fs = require('fs');

const [input, output] = process.argv.slice(2);
const tests = new Map(); // name -> { result, elapsed, output: [] }
let buildFailure = [];
for (const line of fs.readFileSync(input, 'utf8').split('\n')) {
  if (!line.startsWith('{')) {
    if (line.trim()) buildFailure.push(line);
    continue;
  }
  const e = JSON.parse(line);
  if (!e.Test) {
    if (e.Action === 'output' && /^(# |.*\.go:\d+:\d+: )/.test(e.Output || '')) buildFailure.push(e.Output.trimEnd());
    continue;
  }
  const t = tests.get(e.Test) || { output: [] };
  tests.set(e.Test, t);
  if (e.Action === 'output') t.output.push(e.Output);
  if (['pass', 'fail', 'skip'].includes(e.Action)) {
    t.result = e.Action;
    t.elapsed = e.Elapsed || 0;
  }
}
const names = [...tests.keys()];
const leaves = names.filter((n) => !names.some((m) => m.startsWith(n + '/')));
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
// Only the test's own messages (t.Error/t.Log lines), not istiod's log lines.
const messages = (t) => t.output.filter((o) => /^\s+\S+_test\.go:\d+: /.test(o) || /^\s{4,}\S/.test(o)).join('');

const suites = new Map();
for (const n of leaves) {
  const top = n.split('/')[0];
  if (!suites.has(top)) suites.set(top, []);
  suites.get(top).push(n);
}
let total = 0, failures = 0, skipped = 0;
let xml = '';
for (const [suite, cases] of suites) {
  let sf = 0, ss = 0, time = 0;
  let body = '';
  for (const n of cases) {
    const t = tests.get(n);
    time += t.elapsed || 0;
    body += `    <testcase classname="${esc(suite)}" name="${esc(n.slice(suite.length + 1) || n)}" time="${t.elapsed || 0}">`;
    if (t.result === 'fail' || t.result === undefined) {
      sf++;
      body += `<failure message="${t.result === undefined ? 'did not finish' : 'failed'}">${esc(messages(t))}</failure>`;
    } else if (t.result === 'skip') {
      ss++;
      body += '<skipped/>';
    }
    body += '</testcase>\n';
  }
  total += cases.length; failures += sf; skipped += ss;
  xml += `  <testsuite name="${esc(suite)}" tests="${cases.length}" failures="${sf}" errors="0" skipped="${ss}" time="${time.toFixed(2)}">\n${body}  </testsuite>\n`;
}
let errors = 0;
if (leaves.length === 0) {
  // The package did not build or run: one error, with the compiler's output.
  errors = 1;
  xml += `  <testsuite name="xds" tests="1" failures="0" errors="1" skipped="0"><testcase classname="xds" name="build"><error message="go test did not run">${esc(buildFailure.join('\n'))}</error></testcase></testsuite>\n`;
  total = 1;
  console.error(buildFailure.join('\n'));
}
fs.writeFileSync(output, `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="xds" tests="${total}" failures="${failures}" errors="${errors}" skipped="${skipped}">\n${xml}</testsuites>\n`);
for (const n of leaves) {
  const t = tests.get(n);
  if (t.result !== 'pass' && t.result !== 'skip') {
    console.log(`FAIL ${n}\n${messages(t)}`);
  }
}
console.log(`xds: ${total - failures - errors - skipped} passed, ${failures + errors} failed, ${skipped} skipped (${output})`);
process.exit(failures + errors > 0 ? 1 : 0);
