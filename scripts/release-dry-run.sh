#!/usr/bin/env bash
# The release, rehearsed: `changeset version` (versions and changelogs from .changeset/), then
# `pnpm publish -r --dry-run`. It runs in place (pnpm needs the workspace's node_modules and dist/)
# and puts the tree back as it was: uncommitted changes are stashed first and restored after.
set -euo pipefail
cd "$(dirname "$0")/.."
export COREPACK_INTEGRITY_KEYS=0
git_() { git -c user.name=release-dry-run -c user.email=release-dry-run@localhost "$@"; }
stashed=false
if [ -n "$(git status --porcelain)" ]; then
  git_ stash push --include-untracked --quiet --message "release-dry-run: work in progress"
  stashed=true
fi
restore() {
  git reset --quiet --hard && git clean -fdq
  if $stashed; then git_ stash pop --quiet; fi
}
trap restore EXIT
# `pnpm publish` asks the registry which versions are published already: a loopback one
# (scripts/registry.mjs, which serves none of ours) answers as the public registry does for
# packages never published, so the rehearsal does not hang on the public registry's outages. It
# stops when this script ends (its stdin closes).
coproc REGISTRY { exec node scripts/registry.mjs; }
read -r registry_url <&"${REGISTRY[0]}"
export npm_config_registry="$registry_url"
pnpm -s changeset version
echo "== versions after changeset version"
for dir in packages/* apps/*; do
  node -e 'const p = require(process.argv[1]); if (!p.private) console.log(`  ${p.name}@${p.version}`)' "$PWD/$dir/package.json"
  if [ "$(node -p "require('./$dir/package.json').private === true")" != "true" ] && [ ! -s "$dir/CHANGELOG.md" ]; then
    echo "release-dry-run: $dir has no CHANGELOG.md after changeset version" >&2
    exit 1
  fi
done
pnpm publish -r --dry-run --no-git-checks --access public >/tmp/release-dry-run.$$ 2>&1 || {
  cat /tmp/release-dry-run.$$
  rm -f /tmp/release-dry-run.$$
  exit 1
}
grep -E "^\+ @bitrouter/" /tmp/release-dry-run.$$ || true
rm -f /tmp/release-dry-run.$$
echo "release-dry-run: changeset version and pnpm publish -r --dry-run passed"
