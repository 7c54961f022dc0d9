#!/usr/bin/env node
// pnpm docs:build: the generated references (checked in: docs/reference/), the API reference from
// the packages' types (TypeDoc, built here and not checked in: docs/api/), then the VitePress site
// (docs/.vitepress/dist). `--refs` writes the checked-in references only (a second or two);
// `--check` writes nothing and fails naming each reference that differs from what it would write.
// Needs the packages built (pnpm build): it documents what they export.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cliReference } from "./cli-reference.mjs";
import { configReference } from "./config-reference.mjs";

const docs = fileURLToPath(new URL("../../docs/", import.meta.url));

/** The generated files that are checked in, by path under docs/: the docs test compares them. */
export async function references() {
  return { "reference/configuration.md": await configReference(), "reference/cli.md": await cliReference() };
}

async function main() {
  if (process.argv.includes("--check")) {
    const stale = Object.entries(await references()).filter(([path, content]) => readFileSync(`${docs}${path}`, "utf8") !== content);
    for (const [path] of stale) console.error(`docs/${path} is not current: run pnpm docs:build`);
    process.exit(stale.length > 0 ? 1 : 0);
  }
  mkdirSync(`${docs}reference`, { recursive: true });
  for (const [path, content] of Object.entries(await references())) writeFileSync(`${docs}${path}`, content);
  console.log("docs: wrote reference/configuration.md, reference/cli.md");
  if (process.argv.includes("--refs")) return;

  const run = (bin, args) => execFileSync(process.execPath, [bin, ...args], { cwd: docs, stdio: "inherit" });
  rmSync(`${docs}api`, { recursive: true, force: true });
  run(`${docs}node_modules/typedoc/bin/typedoc`, ["--options", "typedoc.json", "--logLevel", "Error"]);
  run(`${docs}node_modules/vitepress/bin/vitepress.js`, ["build"]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
