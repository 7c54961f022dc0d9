#!/usr/bin/env node
// `pnpm bench`: runs the compiled harness (bench/dist). Build first: `pnpm build`.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const needed = [join(here, "dist", "run.js"), join(root, "apps", "server", "dist", "index.js"), join(root, "packages", "testkit", "dist", "index.js")];
const missing = needed.filter((file) => !existsSync(file));
if (missing.length > 0) {
  console.error(`bench: not built yet (missing ${missing.map((f) => f.slice(root.length + 1)).join(", ")}). Run \`pnpm build\` first.`);
  process.exit(1);
}
await import("./dist/run.js");
