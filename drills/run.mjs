#!/usr/bin/env node
// `pnpm drills [--short] [--out <file>]`: the real server (the built CLI) against fault upstreams,
// outages, bad input and forged credentials. The full run (about 12 minutes) writes
// docs/reliability.md; `--short` (about 2 minutes, in CI) prints the same report. Build first.
import { existsSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const needed = ["apps/cli/dist/bin.js", "apps/server/dist/index.js", "packages/testkit/dist/index.js", "packages/store/dist/index.js"];
const missing = needed.filter((file) => !existsSync(join(root, file)));
if (missing.length > 0) {
  console.error(`drills: not built yet (missing ${missing.join(", ")}). Run \`pnpm build\` first.`);
  process.exit(1);
}

const args = process.argv.slice(2);
const short = args.includes("--short");
const outAt = args.indexOf("--out");
const out = outAt >= 0 ? args[outAt + 1] : short ? undefined : join(root, "docs", "reliability.md");

const { scanLogs } = await import("./lib.mjs");
const { soak, reloads } = await import("./soak.mjs");
const { outage } = await import("./outage.mjs");
const { fuzz } = await import("./fuzz.mjs");
const { authTable } = await import("./auth.mjs");
const { cases } = await import("./cases.mjs");
const { renderReport } = await import("./report.mjs");

const plan = short ? { soakMs: 60_000, outageMs: 4_000, fuzzRuns: 100 } : { soakMs: 600_000, outageMs: 20_000, fuzzRuns: 1_000 };

const drills = [
  ["cases", () => cases()],
  ["auth table", () => authTable()],
  ["fuzz", () => fuzz({ runs: plan.fuzzRuns })],
  ["hot reloads", () => reloads({ count: 50 })],
  ["PostgreSQL outage", () => outage("postgres", { outageMs: plan.outageMs })],
  ["MariaDB outage", () => outage("mysql", { outageMs: plan.outageMs })],
  ["soak", () => soak({ durationMs: plan.soakMs })],
];

const results = [];
const started = Date.now();
for (const [label, drill] of drills) {
  const t = Date.now();
  process.stdout.write(`drill: ${label} ... `);
  let result;
  try {
    result = await drill();
  } catch (error) {
    result = { name: label, problems: [`crashed: ${error instanceof Error ? error.stack : String(error)}`], figures: {} };
  }
  result.seconds = Math.round((Date.now() - t) / 1000);
  results.push(result);
  process.stdout.write(`${result.problems.length === 0 ? "ok" : "FAILED"} (${result.seconds} s)\n`);
  for (const problem of result.problems) process.stdout.write(`  - ${problem}\n`);
}
const scan = scanLogs();
results.push({ name: "log scan", problems: scan.leaks, figures: scan, seconds: 0 });
process.stdout.write(`drill: log scan ... ${scan.leaks.length === 0 ? "ok" : "FAILED"} (${scan.lines} lines, ${scan.secrets} secrets)\n`);
for (const leak of scan.leaks) process.stdout.write(`  - ${leak}\n`);

const report = renderReport(results, {
  mode: short ? "short" : "full",
  date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
  machine: `${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), Node ${process.version}`,
  minutes: Math.round((Date.now() - started) / 6000) / 10,
});
if (out) {
  writeFileSync(out, report);
  process.stdout.write(`\nreport written to ${relative(process.cwd(), out)}\n`);
} else {
  process.stdout.write(`\n${report}`);
}
const failed = results.filter((r) => r.problems.length > 0);
process.stdout.write(failed.length === 0 ? "\ndrills: all passed\n" : `\ndrills: ${failed.length} failed: ${failed.map((r) => r.name).join(", ")}\n`);
process.exit(failed.length === 0 ? 0 : 1);
