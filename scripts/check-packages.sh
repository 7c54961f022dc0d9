#!/usr/bin/env bash
# Every package we publish, checked as it would be published: `pnpm pack` (which applies
# publishConfig and rewrites workspace: ranges), then publint (package.json, exports, files) and
# @arethetypeswrong/cli (the types resolve for every export; ESM-only, so the esm-only profile) on
# the tarball, plus the metadata npm shows. Needs dist/ built (pnpm build).
set -euo pipefail
cd "$(dirname "$0")/.."
export COREPACK_INTEGRITY_KEYS=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
for dir in packages/* apps/*; do
  [ -f "$dir/package.json" ] || continue
  [ "$(node -p "require('./$dir/package.json').private === true")" = "true" ] && continue
  name=$(node -p "require('./$dir/package.json').name")
  tgz=$(cd "$dir" && pnpm -s pack --pack-destination "$out" | tail -1)
  echo "== $name: $(basename "$tgz"), $(($(stat -c %s "$tgz") / 1024)) kB packed"
  # What every package must declare (publint does not require these).
  missing=$(tar -xOzf "$tgz" package/package.json | node -e '
    const p = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const need = ["exports", "files", "engines", "license", "sideEffects", "repository", "description"];
    const gone = need.filter((k) => p[k] === undefined);
    if (JSON.stringify(p).includes("workspace:")) gone.push("(a workspace: range left in)");
    if (JSON.stringify(p.exports).includes("/src/")) gone.push("(exports point into src/)");
    console.log(gone.join(" "));')
  contents=$(tar -tzf "$tgz")
  grep -qx "package/README.md" <<<"$contents" || missing="$missing README.md"
  if [ -n "$missing" ]; then
    echo "missing: $missing"
    fail=1
  fi
  # Quiet when all is well; the full report when not.
  report=$(pnpm -s exec publint run --strict --pack false "$tgz" 2>&1) || { echo "$report"; fail=1; }
  report=$(pnpm -s exec attw --profile esm-only --no-emoji --no-color "$tgz" 2>&1) || { echo "$report"; fail=1; }
done
if [ "$fail" -ne 0 ]; then
  echo "check-packages: some package is not fit to publish (see above)" >&2
  exit 1
fi
echo "check-packages: every public package passes publint and attw"
