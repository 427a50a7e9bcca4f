#!/usr/bin/env bash
# `npx projen install-istioctl`: builds the istioctl that `npx projen istio-check` runs, from source, with Go.
#
# Why from source: Istio's release binaries are downloads from GitHub, which these machines cannot reach; only the Go
# module proxy can. The istio.io/istio module has no Go-compatible release tags, so the proxy serves Istio only as
# pseudo-versions of commits it has seen; scripts/istio-source.env (the one home of the commit, also read by the xDS
# suite) names the newest of those that builds, and says why. The CRD schema tests (test/schema.ts) use the CRDs of
# every supported Istio minor (scripts/crds.ts).
#
# Cache: $ISTIOCTL_CACHE_DIR (default ~/.cache/cdk8s-istio-egress/istioctl) holds bin/istioctl, gomodcache/ (~0.9 GB)
# and gocache/ (~2 GB). A binary of the expected version is reused, so a second run takes well under a second; a
# cold build downloads the modules and compiles for several minutes (see CONTRIBUTING.md for a measured figure). The
# build is reproducible (-trimpath, fixed version stamps, CGO off).
#
# Checksum database: every module is verified against Go's checksum database, except those istio-source.env lists in
# ISTIO_GONOSUMDB (the database does not know them at that commit; their hashes were compared by hand with the go.sum
# of istio.io/istio at that commit). Empty means no exception.
#
# Prints the path of the binary on its last line.
set -euo pipefail

# shellcheck source=istio-source.env
. "$(dirname "$0")/istio-source.env"
EXPECTED_VERSION="${ISTIO_DEV_VERSION}+${ISTIO_COMMIT}"

CACHE="${ISTIOCTL_CACHE_DIR:-${HOME}/.cache/cdk8s-istio-egress/istioctl}"
BIN="${CACHE}/bin/istioctl"

installed_version() {
  [ -x "${BIN}" ] && "${BIN}" version --remote=false 2>/dev/null | sed -n 's/^client version: //p'
}

if [ "$(installed_version || true)" = "${EXPECTED_VERSION}" ]; then
  echo "istioctl ${EXPECTED_VERSION} already built" >&2
  echo "${BIN}"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<EOF
install-istioctl: Go is not installed, and istioctl is built from source with it.
Install Go ${GO_MIN} or later (https://go.dev/doc/install), put 'go' on PATH and run 'npx projen install-istioctl' again.
(Or point ISTIOCTL_CACHE_DIR at a directory whose bin/istioctl reports version ${EXPECTED_VERSION}.)
EOF
  exit 1
fi

go_version="$(go env GOVERSION | sed 's/^go//')"
if [ "$(printf '%s\n%s\n' "${GO_MIN}" "${go_version%%[-+ ]*}" | sort -V | head -n1)" != "${GO_MIN}" ]; then
  echo "install-istioctl: Go ${go_version} is too old: Istio ${ISTIO_COMMIT} needs Go ${GO_MIN} or later." >&2
  exit 1
fi

mkdir -p "${CACHE}/bin"
echo "building istioctl ${EXPECTED_VERSION} (istio.io/istio@${ISTIO_PSEUDO_VERSION}) with Go ${go_version} into ${CACHE}" >&2
echo "  (cold: ~0.9 GB of modules and several minutes of compiling)" >&2
start=${SECONDS}
GOMODCACHE="${CACHE}/gomodcache" GOCACHE="${CACHE}/gocache" GOBIN="${CACHE}/bin" \
  GOTOOLCHAIN=local CGO_ENABLED=0 \
  GONOSUMDB="${ISTIO_GONOSUMDB}" GOPRIVATE= \
  go install -trimpath -ldflags "-s -w \
    -X istio.io/istio/pkg/version.buildVersion=${EXPECTED_VERSION} \
    -X istio.io/istio/pkg/version.buildGitRevision=${ISTIO_COMMIT} \
    -X istio.io/istio/pkg/version.buildStatus=Clean \
    -X istio.io/istio/pkg/version.buildTag=${ISTIO_PSEUDO_VERSION}" \
    "istio.io/istio/istioctl/cmd/istioctl@${ISTIO_PSEUDO_VERSION}"

actual="$(installed_version || true)"
if [ "${actual}" != "${EXPECTED_VERSION}" ]; then
  echo "install-istioctl: built ${BIN}, but it reports version '${actual}', expected '${EXPECTED_VERSION}'" >&2
  exit 1
fi
echo "built istioctl ${EXPECTED_VERSION} in $((SECONDS - start)) s" >&2
echo "${BIN}"
