#!/usr/bin/env node
// Packs @bitrouter/cli and every workspace package it needs at run time into tarballs, the way
// they would be published (scripts/pack.mjs). Install them all at once, with no workspace around:
//
//   node apps/cli/scripts/pack.mjs /tmp/bitrouter-pack        # prints the tarball paths
//   npm install -g --prefix ~/.local /tmp/bitrouter-pack/*.tgz
//
// Options: --no-build skips `pnpm --filter @bitrouter/cli... build` (dist/ must be current).
import { resolve } from "node:path";
import { packWorkspace } from "../../../scripts/pack.mjs";

const args = process.argv.slice(2);
const outDir = resolve(args.find((a) => !a.startsWith("--")) ?? "bitrouter-pack");
const { tarballs } = packWorkspace(["@bitrouter/cli"], outDir, { build: !args.includes("--no-build") });
for (const tarball of tarballs) process.stdout.write(`${tarball}\n`);
