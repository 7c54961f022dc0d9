#!/usr/bin/env node
// Packs workspace packages and every workspace package they need at run time into tarballs, the
// way they would be published: `pnpm pack` rewrites `workspace:` ranges to real versions. The one
// packing helper of the repository: the global CLI install (apps/cli/scripts/pack.mjs,
// scripts/install-size.mjs), the embedding example and the provider package's install tests.
//
//   node scripts/pack.mjs <out-dir> [--no-build] <package>...   # prints the tarball paths
//
// --no-build skips `pnpm --filter <package>... build` (dist/ must be current).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const WORKSPACE = fileURLToPath(new URL("..", import.meta.url));
const pnpm = (argv, cwd) =>
  execFileSync("pnpm", argv, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, COREPACK_INTEGRITY_KEYS: "0" } });

/**
 * Packs `roots` and their run-time closure (dependencies, not devDependencies, with a `workspace:`
 * range, transitively; peer dependencies too when `peers` is set) into `outDir`, emptied first.
 * Returns the tarball paths and, by package name, their `file:` specs (for npm `overrides`).
 */
export function packWorkspace(roots, outDir, { build = true, peers = false } = {}) {
  /** name -> { dir, manifest } for every package of the workspace. */
  const workspace = new Map(
    JSON.parse(pnpm(["-r", "ls", "--json", "--depth", "-1"], WORKSPACE)).map((p) => [
      p.name,
      { dir: p.path, manifest: JSON.parse(readFileSync(join(p.path, "package.json"), "utf8")) },
    ]),
  );
  const needed = [];
  const visit = (name, from) => {
    if (needed.includes(name)) return;
    const pkg = workspace.get(name);
    if (!pkg) throw new Error(`${from} depends on ${name}, which is not in the workspace`);
    needed.push(name);
    const deps = { ...pkg.manifest.dependencies, ...(peers ? pkg.manifest.peerDependencies : {}) };
    for (const [dep, range] of Object.entries(deps)) {
      if (!String(range).startsWith("workspace:")) continue;
      // A published package cannot depend on one that is never published.
      if (workspace.get(dep)?.manifest.private) throw new Error(`${name} depends on ${dep}, which is private (it would never be published)`);
      visit(dep, name);
    }
  };
  for (const root of roots) visit(root, "the command line");

  if (build) pnpm([...roots.flatMap((root) => ["--filter", `${root}...`]), "build"], WORKSPACE);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const name of needed) {
    const { dir } = workspace.get(name);
    if (!readdirSync(dir).includes("dist")) throw new Error(`${name} has no dist/: build it first (pnpm build)`);
    pnpm(["pack", "--pack-destination", outDir], dir);
  }
  const tarballs = readdirSync(outDir)
    .filter((file) => file.endsWith(".tgz"))
    .sort()
    .map((file) => join(outDir, file));
  const nameOf = (tgz) => JSON.parse(execFileSync("tar", ["-xOzf", tgz, "package/package.json"], { encoding: "utf8" })).name;
  return { tarballs, specs: Object.fromEntries(tarballs.map((tgz) => [nameOf(tgz), `file:${tgz}`])) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const [outDir, ...roots] = args.filter((a) => !a.startsWith("--"));
  if (!outDir || roots.length === 0) {
    console.error("usage: node scripts/pack.mjs <out-dir> [--no-build] <package>...");
    process.exit(2);
  }
  const { tarballs } = packWorkspace(roots, resolve(outDir), { build: !args.includes("--no-build") });
  for (const tarball of tarballs) process.stdout.write(`${tarball}\n`);
}

/**
 * npm environment for installing the packed tarballs here: better-sqlite3 downloads a prebuilt
 * binary from its GitHub releases, which this machine cannot reach (it would compile from source:
 * minutes). A prebuild made from the workspace's own compiled copy, written to `dir`, stands in; npm
 * uses it only for the same version, any other still compiles. `{}` when there is no compiled copy.
 */
export function localPrebuilds(dir) {
  const pkgDir = join(createRequire(join(WORKSPACE, "packages/store/package.json")).resolve("better-sqlite3/package.json"), "..");
  if (!existsSync(join(pkgDir, "build/Release/better_sqlite3.node"))) return {};
  const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  mkdirSync(dir, { recursive: true });
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync("tar", ["-czf", join(dir, name), "-C", pkgDir, "build/Release/better_sqlite3.node"]);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}
