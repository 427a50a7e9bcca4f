#!/usr/bin/env bash
# `npx projen test:xds` (after synthesizing the examples and scenario apps): runs the xDS suite in test/xds, where
# istiod's own config generator (istio.io/istio/pilot/test/xds.FakeDiscoveryServer) judges the manifests, and writes
# test-reports/xds-junit.xml (counted by .ci/run) and test-reports/xds-summary.txt.
#
# The Istio version is the one of scripts/istio-source.env (as for istioctl); test/xds/go.mod must require exactly
# it. Go caches are shared with the istioctl build ($ISTIOCTL_CACHE_DIR, see scripts/install-istioctl.sh): cold, the
# suite downloads few modules beyond istioctl's and compiles ~8 minutes on 2 cores; warm, it links in ~15 s.
#
# XDS_MANIFESTS=<dir> judges another checkout's output (<dir>/examples/<name>/dist, <dir>/xds-scenarios/<name>);
# extra arguments go to `go test` (e.g. -run 'TestX1').
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "${here}")"
# shellcheck source=istio-source.env
. "${here}/istio-source.env"

required="$(sed -n 's/^require istio\.io\/istio \(v[^ ]*\)$/\1/p; s/^[[:space:]]*istio\.io\/istio \(v[^ ]*\)$/\1/p' "${root}/test/xds/go.mod" | head -n1)"
if [ "${required}" != "${ISTIO_PSEUDO_VERSION}" ]; then
  echo "test:xds: test/xds/go.mod requires istio.io/istio ${required:-<none>}, scripts/istio-source.env says ${ISTIO_PSEUDO_VERSION}." >&2
  echo "  Change them together: cd test/xds && go get istio.io/istio@${ISTIO_PSEUDO_VERSION} && go mod tidy" >&2
  exit 1
fi
if ! command -v go >/dev/null 2>&1; then
  echo "test:xds: Go is not installed; the xDS suite is Go (istiod's own code). Install Go ${GO_MIN} or later." >&2
  exit 1
fi

CACHE="${ISTIOCTL_CACHE_DIR:-${HOME}/.cache/cdk8s-istio-egress/istioctl}"
export GOMODCACHE="${CACHE}/gomodcache" GOCACHE="${CACHE}/gocache"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
# As in install-istioctl.sh: modules the checksum database does not know at this commit (ISTIO_GONOSUMDB, empty when
# none). go.sum was seeded from istio.io/istio's own go.sum, so even those are hash-checked.
export GONOSUMDB="${ISTIO_GONOSUMDB:-}" GOPRIVATE=
export XDS_MANIFESTS="${XDS_MANIFESTS:-${root}}"

reports="${root}/test-reports"
mkdir -p "${reports}"
export XDS_SUMMARY="${reports}/xds-summary.txt"
start=${SECONDS}
set +e
(cd "${root}/test/xds" && go test -json -count=1 -timeout 40m . "$@") > "${reports}/xds.json"
rc=$?
set -e
node "${here}/xds-junit.js" "${reports}/xds.json" "${reports}/xds-junit.xml" || rc=1
[ -f "${XDS_SUMMARY}" ] && cat "${XDS_SUMMARY}"
echo "test:xds: go test exit ${rc} after $((SECONDS - start)) s (manifests: ${XDS_MANIFESTS})"
exit ${rc}
