// The docs' npm install blocks (runner "sh: npm install" in blocks.ts), run whole in bash as a user
// would, then what they promise checked: a global `bitrouter` from the npm prefix, a provider
// package loaded by `bitrouter serve` from the home. Substitutions: npm's registry is the loopback
// one of scripts/registry.mjs, serving this repository's packages packed once here by
// scripts/pack.mjs (as they will be published) and the third-party ones at the lockfile's versions;
// npm's global prefix is a temp dir (on the PATH first); better-sqlite3's binary is the workspace's
// own build (no download); /tmp/bitrouter-pack is a temp dir.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, type ExpectStatic, expect, it } from "vitest";
import { localPrebuilds, packWorkspace } from "../../scripts/pack.mjs";
import { type Registry, startRegistry } from "../../scripts/registry.mjs";
import { blocksOf, commandsOf, docFiles, ROOT, RUNNERS } from "./blocks.js";

const run = promisify(execFile);
const BIN = join(ROOT, "apps/cli/dist/bin.js");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "apps/cli/package.json"), "utf8")) as { version: string }).version;
const claimed = docFiles()
  .flatMap(blocksOf)
  .filter(RUNNERS.find((runner) => runner.test === "docs/test/install.test.ts")!.matches);
// Blocks with the same text (cli.md and the agent skill both show `npm install -g @bitrouter/cli`) run once.
const distinct = [...new Set(claimed.map((block) => block.code))].map((code) => ({
  where: claimed.filter((block) => block.code === code).map((block) => block.where),
  code,
}));

const work = mkdtempSync(join(tmpdir(), "bitrouter-docs-install-"));
let registry: Registry;
let env: Record<string, string>;
beforeAll(async () => {
  // dist/ is current (the docs test runs after a build); packing rebuilds nothing.
  const { tarballs } = packWorkspace(["@bitrouter/cli", "@bitrouter-examples/provider-acme"], join(work, "tarballs"), { build: false, peers: true });
  registry = await startRegistry(tarballs);
  env = { ...registry.env, ...localPrebuilds(join(work, "prebuilds")) };
}, 300_000);

/**
 * The user's environment in a fresh HOME, keeping their npm configuration (but for the registry)
 * and corepack's pnpm; nothing of the workspace: no npm_* variables pnpm set, no node_modules/.bin
 * on the PATH.
 */
function userEnv(home: string, path: string[]): Record<string, string> {
  const real = process.env.HOME ?? tmpdir();
  const kept = Object.entries(process.env).filter(([name]) => !/^(npm_|pnpm_|PNPM|VITEST|NODE_OPTIONS$)/i.test(name) && name !== "PATH");
  return {
    ...(Object.fromEntries(kept) as Record<string, string>),
    ...env,
    HOME: home,
    npm_config_userconfig: join(real, ".npmrc"),
    COREPACK_HOME: process.env.COREPACK_HOME ?? join(real, ".cache/node/corepack"),
    COREPACK_INTEGRITY_KEYS: "0",
    PATH: [...path, ...(process.env.PATH ?? "").split(":").filter((dir) => !dir.includes("node_modules"))].join(":"),
  };
}
afterAll(() => {
  registry?.close();
  rmSync(work, { recursive: true, force: true });
}, 300_000);

describe("sh: npm install: the blocks run whole in bash, then what they installed works", () => {
  it("there are such blocks", () => expect(distinct.length).toBeGreaterThan(2));
  // Concurrently: each waits mostly on npm.
  it.concurrent.for(distinct.map((block) => [block.where.join(", "), block] as const))("%s", { timeout: 300_000 }, async ([, block], { expect }) => {
    const home = mkdtempSync(join(work, "home-"));
    const prefix = join(home, "npm-global");
    // The npm prefix's bin first: the installed `bitrouter` is found before any other.
    const user = { ...userEnv(home, [join(prefix, "bin")]), npm_config_prefix: prefix };
    const script = `set -euo pipefail\n${block.code.replaceAll("/tmp/bitrouter-pack", join(home, "bitrouter-pack"))}`;
    const shell = await run("bash", ["-c", script], { cwd: ROOT, env: user }).catch((error: { stdout: string; stderr: string }) => ({
      ...error,
      failed: true,
    }));
    expect(shell, `${shell.stdout}\n${shell.stderr}`).not.toHaveProperty("failed");

    const installs = commandsOf(block.code).filter((argv) => argv[0] === "npm");
    if (installs.some((argv) => argv.includes("-g"))) {
      // The global bitrouter is the installed copy, and it runs.
      const which = await run("bash", ["-c", "command -v bitrouter && bitrouter --version"], { cwd: home, env: user });
      expect(which.stdout).toBe(`${join(prefix, "bin/bitrouter")}\n${VERSION}\n`);
    }
    for (const argv of installs.filter((a) => a.includes("--prefix") && !a.includes("-g"))) {
      // The home's package, named in bitrouter.yaml, loads when served (serve refuses a missing one).
      const bitrouterHome = argv[argv.indexOf("--prefix") + 1]!.replace(/^~/, home);
      const name = argv.at(-1)!;
      writeFileSync(
        join(bitrouterHome, "bitrouter.yaml"),
        `providers:\n  acme:\n    package: "${name}"\n    api_key: docs-key\nmodels:\n  default:\n    endpoints:\n      - { provider: acme, model_id: acme-large }\n`,
      );
      const served = await serve(bitrouterHome, home, expect);
      try {
        const models = (await (await fetch(`${served.url}/v1/models`)).json()) as { data: { id: string }[] };
        expect(models.data.map((m) => m.id)).toContain("default");
      } finally {
        await served.stop();
      }
    }
  });
});

/** `bitrouter serve` (the workspace's CLI) on a free port with that home, once it listens. */
async function serve(bitrouterHome: string, home: string, expect: ExpectStatic): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [BIN, "serve", "--home-dir", bitrouterHome, "--listen", "127.0.0.1:0"], {
    env: { PATH: process.env.PATH ?? "", HOME: home },
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  await expect.poll(() => output, { timeout: 30_000 }).toMatch(/listening on http:\/\/\S+/);
  return {
    url: /listening on (http:\/\/\S+)/.exec(output)![1]!,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
