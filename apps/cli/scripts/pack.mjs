#!/usr/bin/env node
// Packs @bitrouter/cli and every workspace package it needs at run time into tarballs, the way
// they would be published: `pnpm pack` rewrites `workspace:` ranges to real versions. Install them
// all at once, with no workspace around:
//
//   node apps/cli/scripts/pack.mjs /tmp/bitrouter-pack        # prints the tarball paths
//   npm install -g --prefix ~/.local /tmp/bitrouter-pack/*.tgz
//
// Options: --no-build skips `pnpm --filter @bitrouter/cli... build` (dist/ must be current).
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = "@bitrouter/cli";
const args = process.argv.slice(2);
const build = !args.includes("--no-build");
const outDir = resolve(args.find((a) => !a.startsWith("--")) ?? "bitrouter-pack");
const pnpm = (argv, cwd) =>
  execFileSync("pnpm", argv, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, COREPACK_INTEGRITY_KEYS: "0" } });
const here = new URL("..", import.meta.url).pathname;

/** name -> { dir, manifest } for every package of the workspace. */
const workspace = new Map(
  JSON.parse(pnpm(["-r", "ls", "--json", "--depth", "-1"], here)).map((p) => [
    p.name,
    { dir: p.path, manifest: JSON.parse(readFileSync(join(p.path, "package.json"), "utf8")) },
  ]),
);

/** The run-time closure: dependencies (not devDependencies) with a `workspace:` range, transitively. */
const needed = [];
const visit = (name, from) => {
  if (needed.includes(name)) return;
  const pkg = workspace.get(name);
  if (!pkg) throw new Error(`${from} depends on ${name}, which is not in the workspace`);
  if (pkg.manifest.private) throw new Error(`${from} depends on ${name}, which is private (it would never be published)`);
  needed.push(name);
  for (const [dep, range] of Object.entries(pkg.manifest.dependencies ?? {})) if (String(range).startsWith("workspace:")) visit(dep, name);
};
visit(ROOT, "the CLI");

if (build) pnpm(["--filter", `${ROOT}...`, "build"], here);
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
for (const name of needed) {
  const { dir } = workspace.get(name);
  if (!readdirSync(dir).includes("dist")) throw new Error(`${name} has no dist/: build it first (pnpm build)`);
  pnpm(["pack", "--pack-destination", outDir], dir);
}
for (const file of readdirSync(outDir).sort()) process.stdout.write(`${join(outDir, file)}\n`);
