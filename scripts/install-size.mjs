#!/usr/bin/env node
// What `npm install -g @bitrouter/cli` costs a user: packs the CLI and the workspace packages it
// needs (scripts/pack.mjs), runs that command with a temporary prefix against the loopback registry
// of scripts/registry.mjs (our packages as they will be published, the others at the lockfile's
// versions), then prints the installed size, the package count and the ten biggest dependencies.
// Fails when the install exceeds the budget or npm warns EBADENGINE on this Node.
//
//   node scripts/install-size.mjs [--no-build] [--max-mb 60] [--keep]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { localPrebuilds, packWorkspace } from "./pack.mjs";
import { startRegistry } from "./registry.mjs";

const args = process.argv.slice(2);
const maxMb = Number(args[args.indexOf("--max-mb") + 1] || 0) || 60;
const work = mkdtempSync(join(tmpdir(), "bitrouter-install-size-"));
const packDir = join(work, "pack");
const prefix = join(work, "prefix");

const { tarballs } = packWorkspace(["@bitrouter/cli"], packDir, { build: !args.includes("--no-build") });
const registry = await startRegistry(tarballs);
const npm = spawnSync("npm", ["install", "-g", "--prefix", prefix, "--omit=dev", "--loglevel=warn", "@bitrouter/cli"], {
  cwd: work,
  encoding: "utf8",
  env: { ...process.env, ...registry.env, ...localPrebuilds(join(work, "prebuilds")) },
});
registry.close();
/** Where a global install puts the packages: `<prefix>/lib/node_modules`. */
const project = join(prefix, "lib");
process.stderr.write(npm.stderr);
if (npm.status !== 0) {
  console.error(`install-size: npm install failed (exit ${npm.status}); the tree is in ${work}`);
  process.exit(1);
}

const sizeOf = (path) => {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.blocks * 512;
  let total = st.blocks * 512;
  for (const entry of readdirSync(path)) total += sizeOf(join(path, entry));
  return total;
};
/** Every installed package directory (scoped and nested), with its own size excluding nested node_modules. */
const packages = [];
const walk = (nodeModules) => {
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
    const dir = join(nodeModules, entry.name);
    if (entry.name.startsWith("@")) {
      for (const sub of readdirSync(dir, { withFileTypes: true })) if (sub.isDirectory()) visit(join(dir, sub.name), `${entry.name}/${sub.name}`);
    } else visit(dir, entry.name);
  }
};
const visit = (dir, name) => {
  let bytes = 0;
  for (const entry of readdirSync(dir)) if (entry !== "node_modules") bytes += sizeOf(join(dir, entry));
  packages.push({ name, bytes });
  const nested = join(dir, "node_modules");
  if (statSync(nested, { throwIfNoEntry: false })?.isDirectory()) walk(nested);
};
walk(join(project, "node_modules"));

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const total = sizeOf(join(project, "node_modules"));
const byName = new Map();
for (const p of packages) byName.set(p.name, (byName.get(p.name) ?? 0) + p.bytes);
console.log(`npm install -g @bitrouter/cli (Node ${process.version}): ${mb(total)} MB in ${packages.length} packages (budget ${maxMb} MB)`);
for (const [name, bytes] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${mb(bytes).padStart(6)} MB  ${name}`);

const problems = [];
if (total > maxMb * 1024 * 1024) problems.push(`${mb(total)} MB is over the ${maxMb} MB budget`);
const engines = npm.stderr.split("\n").filter((line) => line.includes("EBADENGINE"));
if (engines.length > 0) problems.push(`npm warns EBADENGINE on Node ${process.version}:\n${engines.join("\n")}`);
const bin = spawnSync("node", [join(project, "node_modules/@bitrouter/cli/dist/bin.js"), "--version"], { encoding: "utf8" });
if (bin.status !== 0) problems.push(`the installed bitrouter does not start: ${bin.stderr.trim()}`);
else console.log(`  bitrouter --version: ${bin.stdout.trim()}`);

// What the install leaves out is named when a configuration needs it (docs/cli.md#install).
const cli = join(project, "node_modules/@bitrouter/cli/dist/bin.js");
for (const [yaml, wanted] of [
  ["tracing:\n  enabled: true\n", "npm install -g @opentelemetry/api"],
  ["database:\n  url: postgres://127.0.0.1:1/none\n", "npm install -g pg"],
]) {
  const home = mkdtempSync(join(work, "home-"));
  writeFileSync(join(home, "bitrouter.yaml"), yaml);
  const serve = spawnSync("node", [cli, "serve", "--home-dir", home, "--listen", "127.0.0.1:0"], { encoding: "utf8", timeout: 30_000 });
  if (serve.status === 0 || !`${serve.stdout}${serve.stderr}`.includes(wanted))
    problems.push(`serve with ${JSON.stringify(yaml)} should fail naming "${wanted}", got (exit ${serve.status}):\n${serve.stdout}${serve.stderr}`);
}
if (problems.length === 0) console.log("  a config that needs a left-out package names it (tracing: OpenTelemetry, postgres: pg)");

if (args.includes("--keep")) console.log(`  kept: ${work}`);
else rmSync(work, { recursive: true, force: true });
for (const problem of problems) console.error(`install-size: ${problem}`);
process.exit(problems.length > 0 ? 1 : 0);
