#!/usr/bin/env bash
# `npx projen install-istioctl`: builds the istioctl that `npx projen istio-check` runs, from source, with Go.
#
# Why from source: Istio's release binaries are downloads from GitHub, which these machines cannot reach; only the Go
# module proxy can. It serves no Istio 1.30.x release (the istio.io/istio module is not tagged with Go-compatible
# versions) and no buildable release-1.30 commit; the one buildable commit is master of 2026-04-23 ("1.31-dev",
# pseudo-version below), older than the 1.30.0 tag. The CRD schema tests (test/schema.ts) use the 1.30.3 CRDs.
#
# Cache: $ISTIOCTL_CACHE_DIR (default ~/.cache/cdk8s-istio-egress/istioctl) holds bin/istioctl, gomodcache/ (~720 MB)
# and gocache/ (~2 GB). A binary of the expected version is reused, so a second run takes well under a second; a
# cold build downloads ~720 MB of modules and compiles for 4-6 minutes on 2 cores. The build is reproducible
# (-trimpath, fixed version stamps, CGO off).
#
# GONOSUMDB exception: the Go checksum database answers 404 for istio.io/client-go and
# github.com/envoyproxy/go-control-plane/contrib at the versions this commit requires, so `go` cannot check them there.
# Their hashes were compared by hand with the go.sum of istio.io/istio at this commit; every other module is verified
# against the checksum database as usual.
#
# Prints the path of the binary on its last line.
set -euo pipefail

# shellcheck source=istio-source.env
. "$(dirname "$0")/istio-source.env"
EXPECTED_VERSION="${ISTIO_DEV_VERSION}+${ISTIO_COMMIT}"
GO_MIN=1.25.7 # the `go` line of istio.io/istio's go.mod at that commit

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
echo "  (cold: ~720 MB of modules and 4-6 minutes of compiling on 2 cores)" >&2
start=${SECONDS}
GOMODCACHE="${CACHE}/gomodcache" GOCACHE="${CACHE}/gocache" GOBIN="${CACHE}/bin" \
  GOTOOLCHAIN=local CGO_ENABLED=0 \
  GONOSUMDB=istio.io/client-go,github.com/envoyproxy/go-control-plane/contrib \
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
