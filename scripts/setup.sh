#!/usr/bin/env bash
# One-time set-up on a fresh machine: the pinned pnpm, dependencies (native addons compile here),
# and a build of every package. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(node -p 'require("./package.json").packageManager.split("@")[1]')
have=$(pnpm --version 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  echo "setup: installing pnpm $want through corepack"
  corepack enable 2>/dev/null || sudo -n corepack enable 2>/dev/null || true
  # Some registries serve pnpm without the signatures corepack checks; fall back without the check.
  corepack install -g "pnpm@$want" >/dev/null 2>&1 || COREPACK_INTEGRITY_KEYS=0 corepack install -g "pnpm@$want"
  if ! command -v pnpm >/dev/null; then
    echo "setup: corepack could not put pnpm on PATH; installing it with npm" >&2
    npm install -g "pnpm@$want"
  fi
fi
export COREPACK_INTEGRITY_KEYS=0
# Native addons (better-sqlite3) compile against Node's headers; use the ones installed next to
# node when present, so the build needs no download of them.
node_prefix=$(dirname "$(dirname "$(command -v node)")")
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi
if [ "${CI:-}" = "true" ]; then pnpm install --frozen-lockfile; else pnpm install; fi
pnpm build
echo "setup: done. Try: pnpm -s bitrouter status"
