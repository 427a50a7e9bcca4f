#!/usr/bin/env bash
# `npx projen test:quick-start`: runs the quick starts exactly as a reader copies them, from the packed library.
#
# TypeScript: `npm pack` of this checkout; a new temporary directory; the README's blocks marked
# `<!-- quick-start:NAME -->` (install commands, cdk8s.yaml, tsconfig.json, main.ts, synth command) taken from the
# README itself; the install commands run as written with current npm defaults, except that the package name
# `cdk8s-istio-egress` is replaced by the packed tarball (the package is not on npm yet); `npx tsc --noEmit`; the
# synth command; the manifests must be byte-identical to examples/quick-start/dist.
#
# Python: the same with docs/python.md's `python-quick-start` blocks and the wheel in dist/python (in a fresh venv,
# dependencies from PyPI as pip resolves them today), then its `python-three-teams` app, which must write the same
# bytes as examples/three-teams.
#
# Needs: lib/ compiled (`npx projen compile`), examples synthesized (`npx projen synth-examples`), the wheel
# (`npx projen package:python`), python3 with venv, and the npm registry and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
# jsii prints an 11-line end-of-life banner on Node 20 (docs/python.md#nodejs); these checks run on Node 20.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:-20}"
REPO="$PWD"

fail() { echo "test:quick-start: FAILED: $*" >&2; exit 1; }
blocks() { node -r ts-node/register/transpile-only scripts/doc-blocks.ts "$@"; }
# install FILE PACKAGE_FILE: runs the install commands of FILE, with the package name replaced by PACKAGE_FILE
install() {
  sed -E "/^(npm|pip) install/ s#(^| )cdk8s-istio-egress( |\$)#\\1$2\\2#" "$1" > "$1.run"
  echo "\$ $(tr '\n' ';' < "$1.run")"
  bash -euo pipefail "$1.run"
}
same() { # same ACTUAL EXPECTED WHAT
  [ -f "$1" ] || fail "$3 wrote no $(basename "$1") (it wrote: $(ls "$(dirname "$1")" 2>/dev/null))"
  diff -u "$2" "$1" >/dev/null || { diff -u "$2" "$1" | head -40; fail "$3: $1 differs from $2 (diff above)"; }
  echo "test:quick-start: $3 wrote $(grep -c '^kind:' "$1") objects, byte-identical to ${2#"$REPO"/}"
}

TS_EXPECTED="$REPO/examples/quick-start/dist/wildcard-egress.k8s.yaml"
TEAMS_EXPECTED="$REPO/examples/three-teams/dist/three-teams.k8s.yaml"
[ -f lib/src/index.js ] || fail "lib/ is not compiled: run 'npx projen compile' first"
[ -f "${TS_EXPECTED}" ] && [ -f "${TEAMS_EXPECTED}" ] || fail "the examples are not synthesized: run 'npx projen synth-examples' first"
shopt -s nullglob
wheels=("$REPO"/dist/python/*.whl)
[ ${#wheels[@]} -eq 1 ] || fail "expected one wheel in dist/python, found ${#wheels[@]}: run 'npx projen package:python' first"
command -v python3 >/dev/null || fail "python3 not found: install Python 3.9 or later (with its venv module)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cdk8s-istio-egress-quick-start.XXXXXX")"
trap 'rm -rf "${WORK}"' EXIT
tarball="${WORK}/$(npm pack --silent --pack-destination "${WORK}" | tail -1)"
[ -f "${tarball}" ] || fail "npm pack wrote no tarball"
echo "test:quick-start: packed ${tarball#"${WORK}"/} ($(du -k "${tarball}" | cut -f1) kB), working in ${WORK}"

# --- TypeScript: README.md -----------------------------------------------------------------------------------------
mkdir -p "${WORK}/ts" "${WORK}/blocks/ts"
blocks README.md quick-start "${WORK}/blocks/ts"
for f in cdk8s.yaml tsconfig.json main.ts install synth; do
  [ -f "${WORK}/blocks/ts/$f" ] || fail "README.md has no block marked <!-- quick-start:$f -->"
done
cp "${WORK}/blocks/ts/"{cdk8s.yaml,tsconfig.json,main.ts} "${WORK}/ts/"
(cd "${WORK}/ts" && install "${WORK}/blocks/ts/install" "${tarball}") > "${WORK}/ts-install.log" 2>&1 \
  || { cat "${WORK}/ts-install.log"; fail "the README's install commands failed (log above)"; }
echo "test:quick-start: TypeScript: installed $(cd "${WORK}/ts" && node -p "const d = require('./package-lock.json').packages; ['cdk8s', 'cdk8s-plus-28', 'constructs', 'cdk8s-cli', 'typescript', 'ts-node'].map((p) => p + ' ' + d['node_modules/' + p].version).join(', ')")"
(cd "${WORK}/ts" && npx tsc --noEmit) || fail "main.ts does not type-check with the README's tsconfig.json (npx tsc --noEmit)"
start=$(date +%s%N)
(cd "${WORK}/ts" && bash -euo pipefail "${WORK}/blocks/ts/synth") || fail "the README's synth command failed"
echo "test:quick-start: TypeScript: '$(cat "${WORK}/blocks/ts/synth")' took $(( ($(date +%s%N) - start) / 1000000 )) ms"
same "${WORK}/ts/dist/wildcard-egress.k8s.yaml" "${TS_EXPECTED}" "the README's quick start"

# --- Python: docs/python.md ----------------------------------------------------------------------------------------
mkdir -p "${WORK}/py" "${WORK}/py-teams" "${WORK}/blocks/py"
blocks docs/python.md python-quick-start "${WORK}/blocks/py"
blocks docs/python.md python-three-teams "${WORK}/blocks/py/teams"
cp "${WORK}/blocks/py/"{cdk8s.yaml,main.py} "${WORK}/py/"
(cd "${WORK}/py" && install "${WORK}/blocks/py/install" "${wheels[0]}") > "${WORK}/py-install.log" 2>&1 \
  || { cat "${WORK}/py-install.log"; fail "docs/python.md's install commands failed (log above)"; }
echo "test:quick-start: Python: installed $("${WORK}/py/.venv/bin/python" -m pip list --disable-pip-version-check --format=freeze | grep -Ei '^(cdk8s|constructs|jsii)' | tr '\n' ' ')"
# The synth command, in the shell the install commands set up (the venv active).
(cd "${WORK}/py" && . .venv/bin/activate && bash -euo pipefail "${WORK}/blocks/py/synth") || fail "docs/python.md's synth command failed"
same "${WORK}/py/dist/wildcard-egress.k8s.yaml" "${TS_EXPECTED}" "docs/python.md's quick start"

cp "${WORK}/blocks/py/cdk8s.yaml" "${WORK}/blocks/py/teams/main.py" "${WORK}/py-teams/"
(cd "${WORK}/py-teams" && . "${WORK}/py/.venv/bin/activate" && "${WORK}/py/node_modules/.bin/cdk8s" synth --no-check-upgrade) \
  || fail "docs/python.md's three-team app failed"
same "${WORK}/py-teams/dist/three-teams.k8s.yaml" "${TEAMS_EXPECTED}" "docs/python.md's three-team app"
