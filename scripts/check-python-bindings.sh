#!/usr/bin/env bash
# `npx projen bindings:python` (after `synth-examples` and `package:python`): installs the Python wheel from
# dist/python into a fresh virtual environment, with its dependencies from PyPI pinned to the versions the TypeScript
# side uses (node_modules), runs examples/python-wildcard/main.py and fails unless its YAML is byte-identical to the
# TypeScript example's examples/wildcard-egress/dist/wildcard-egress.k8s.yaml.
#
# Needs python3 (3.9 or later) with the venv module, and PyPI. The environment lives in .cache/python-bindings/ (ignored
# by git) and is made anew on every run; pip's own download cache makes a second run fast.
set -euo pipefail
cd "$(dirname "$0")/.."
# jsii prints an 11-line end-of-life banner on Node 20 (docs/python.md#nodejs); these checks run on Node 20.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="${JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION:-20}"

TS_YAML=examples/wildcard-egress/dist/wildcard-egress.k8s.yaml
PY_OUT=examples/python-wildcard/dist
WORK=.cache/python-bindings
PYTHON="${PYTHON:-python3}"

fail() { echo "bindings:python: $*" >&2; exit 1; }

command -v "${PYTHON}" >/dev/null || fail "${PYTHON} not found: install Python 3.9 or later (with its venv module)"
"${PYTHON}" -c 'import sys; sys.exit(sys.version_info < (3, 9))' || fail "$(${PYTHON} --version) is too old: 3.9 or later"
"${PYTHON}" -c 'import venv, ensurepip' 2>/dev/null || fail "${PYTHON} has no venv/ensurepip module (Debian: apt-get install python3-venv)"

shopt -s nullglob
wheels=(dist/python/*.whl)
[ ${#wheels[@]} -eq 1 ] || fail "expected one wheel in dist/python, found ${#wheels[@]}: run 'npx projen package:python' first"
[ -f "${TS_YAML}" ] || fail "${TS_YAML} is missing: run 'npx projen synth-examples' first"

# The Python packages of the jsii libraries the TypeScript side resolved, so both sides run the same code.
ver() { node -p "require('$1/package.json').version"; }
rm -rf "${WORK}"
mkdir -p "${WORK}"
cat > "${WORK}/constraints.txt" <<EOF
cdk8s==$(ver cdk8s)
constructs==$(ver constructs)
cdk8s-plus-28==$(ver cdk8s-plus-28)
jsii==$(ver jsii-pacmak)
EOF

"${PYTHON}" -m venv "${WORK}/venv"
VPY="${WORK}/venv/bin/python"
"${VPY}" -m pip install --quiet --disable-pip-version-check --constraint "${WORK}/constraints.txt" "${wheels[0]}"
echo "installed ${wheels[0]} into a fresh venv ($("${VPY}" --version)):"
"${VPY}" -m pip list --disable-pip-version-check --format=freeze | grep -Ei '^(cdk8s|constructs|jsii|cdk8s-istio-egress)' | sed 's/^/  /'

rm -rf "${PY_OUT}"
"${VPY}" examples/python-wildcard/main.py "${PY_OUT}"
PY_YAML="${PY_OUT}/wildcard-egress.k8s.yaml"
[ -f "${PY_YAML}" ] || fail "examples/python-wildcard/main.py wrote no ${PY_YAML} (it wrote: $(ls "${PY_OUT}" 2>/dev/null))"

if ! diff -u "${TS_YAML}" "${PY_YAML}"; then
  echo "bindings:python: FAILED: the Python example's ${PY_YAML} differs from the TypeScript example's ${TS_YAML} (diff above)" >&2
  exit 1
fi
echo "bindings:python: ${PY_YAML} is byte-identical to ${TS_YAML} ($(grep -c '^kind:' "${PY_YAML}") objects)"

# The declarative front end from Python: the platform example reads its YAML document with EgressAllowListSpec.from_yaml
# and must write the same manifests and egress matrix as the TypeScript app (examples/platform/dist).
PLATFORM_OUT="${WORK}/platform"
rm -rf "${PLATFORM_OUT}"
"${VPY}" examples/platform/main.py "${PLATFORM_OUT}"
for f in platform.k8s.yaml platform-egress.egress-matrix.md platform-egress.egress-matrix.json; do
  [ -f "${PLATFORM_OUT}/${f}" ] || fail "examples/platform/main.py wrote no ${f} (it wrote: $(ls "${PLATFORM_OUT}" 2>/dev/null))"
  if ! diff -u "examples/platform/dist/${f}" "${PLATFORM_OUT}/${f}"; then
    echo "bindings:python: FAILED: the Python platform example's ${f} differs from the TypeScript one (diff above)" >&2
    exit 1
  fi
done
echo "bindings:python: the allow-list from Python (examples/platform/main.py, YAML document) writes manifests and egress matrix byte-identical to TypeScript"

# Value objects through the jsii runtime: ExternalHost.of hands out one read-only object per name (src/core/host.ts),
# which the runtime must still be able to pass to Python twice; an assignment from Python must fail.
"${VPY}" - <<'PY' || fail "ExternalHost through the jsii runtime (see the Python traceback above)"
import cdk8s_istio_egress as egress
a = egress.ExternalHost.of("api.example.com")
b = egress.ExternalHost.of("api.example.com")
assert (a.name, a.is_wildcard, a.domain) == ("api.example.com", False, "api.example.com"), (a.name, a.is_wildcard, a.domain)
assert b.matches("api.example.com") and not b.matches("other.example.com")
assert egress.ExternalHost.of("*.example.com").covers(a)
try:
    a.name = "*"
except Exception:
    pass
else:
    raise AssertionError("ExternalHost.name was assigned from Python")
assert egress.ExternalHost.of("api.example.com").name == "api.example.com"
PY
echo "bindings:python: ExternalHost values pass through the jsii runtime, read-only"
