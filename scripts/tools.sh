#!/usr/bin/env bash
# Builds (or reuses) the spicedb and zed binaries this project tests against, with Go, into a
# folder outside the clone so fresh clones reuse them. Prints nothing but progress; exits non-zero
# on failure. Used by .ci/run, the benchmark and the README.
set -euo pipefail

SPICEDB_VERSION=v1.56.2
ZED_VERSION=v1.2.1
TOOLS_BIN="${TENANT_AUTHZ_TOOLS:-$HOME/.cache/tenant-authz/bin}"
mkdir -p "$TOOLS_BIN"

installed_version() { cat "$TOOLS_BIN/.$1.version" 2>/dev/null || true; }

if [[ -x "$TOOLS_BIN/spicedb" && "$(installed_version spicedb)" == "$SPICEDB_VERSION" ]]; then
  echo "spicedb $SPICEDB_VERSION: reusing $TOOLS_BIN/spicedb"
else
  echo "spicedb $SPICEDB_VERSION: building (a few minutes the first time)"
  GOBIN="$TOOLS_BIN" go install "github.com/authzed/spicedb/cmd/spicedb@$SPICEDB_VERSION"
  echo "$SPICEDB_VERSION" > "$TOOLS_BIN/.spicedb.version"
fi

if [[ -x "$TOOLS_BIN/zed" && "$(installed_version zed)" == "$ZED_VERSION" ]]; then
  echo "zed $ZED_VERSION: reusing $TOOLS_BIN/zed"
else
  echo "zed $ZED_VERSION: building"
  # `go install zed@version` needs the module's version list, which the proxy here does not
  # serve, and the checksum database does not know this version yet; building it as the
  # dependency of a throwaway module needs neither.
  module_dir="$(mktemp -d)"
  trap 'rm -rf "$module_dir"' EXIT
  cat > "$module_dir/go.mod" <<GOMOD
module zedbuild

go 1.26.5

require github.com/authzed/zed $ZED_VERSION
GOMOD
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/authzed/zed/cmd/zed"\n' > "$module_dir/tools.go"
  (
    cd "$module_dir"
    GONOSUMDB=github.com/authzed/zed GOFLAGS=-mod=mod go mod tidy
    GONOSUMDB=github.com/authzed/zed GOFLAGS=-mod=mod go build -o "$TOOLS_BIN/zed" github.com/authzed/zed/cmd/zed
  )
  echo "$ZED_VERSION" > "$TOOLS_BIN/.zed.version"
fi
