/**
 * `node bench/dist/gc-phases.js [--target bitrouter|passthrough] [--bytes 102400] [--rate 500]
 *   [--idle 45] [--node-flags="..."]`: one proxy's garbage collections, phase by phase, under a
 * fixed rate of large bodies: warm-up (3 s), warm (5 s), `--idle` seconds with no traffic, then
 * two phases of 5 s. Each phase prints the client's p50/p90/p99, the proxy's CPU per request and
 * the young (Scavenge) and full (Mark-Compact) collections V8 ran in it, from `--trace-gc` on the
 * proxy (pinned as in the bench). The 100 KB row's question: a proxy whose large bodies set off
 * a full collection every ~100 ms runs at 1.5x the CPU and a p90 of tens of ms (Round 15).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SERVING_NODE_FLAGS } from "@bitrouter/server/heap";
import { toolOptions } from "./cli.js";
import { fixedRate } from "./load.js";
import { bitrouterArgs, cpuMsOf, origin, planPinning, startChild } from "./processes.js";
import type { MockPorts } from "./targets/mocks.js";

const here = dirname(fileURLToPath(import.meta.url));
const values = toolOptions(
  'usage: node bench/dist/gc-phases.js [--target bitrouter|passthrough] [--bytes 102400] [--rate 500] [--idle 45] [--node-flags="..."]',
  {
    target: { type: "string", default: "bitrouter" },
    bytes: { type: "string", default: String(100 * 1024) },
    rate: { type: "string", default: "500" },
    idle: { type: "string", default: "45" },
    "node-flags": { type: "string", default: "" },
  },
);
const target = values.target!;
if (!["bitrouter", "passthrough"].includes(target)) throw new Error(`--target must be bitrouter or passthrough, got "${target}"`);
const rate = Number(values.rate);
const bytes = Number(values.bytes);

const pinning = planPinning();
const mocks = await startChild<MockPorts>("mocks", join(here, "targets", "mocks.js"), [], pinning.client ? { cores: pinning.client } : {});
const args =
  target === "bitrouter" ? bitrouterArgs(mocks.ready, "--log-level", "warn") : ["--upstream", origin(mocks.ready.openai), "--idle", origin(mocks.ready.idle)];
// V8 writes --trace-gc to stdout, which startChild drops: this process keeps it in a file.
const dir = mkdtempSync(join(tmpdir(), "bitrouter-gc-phases-"));
const logPath = join(dir, "gc.log");
// BitRouter as the daemon starts it (SERVING_NODE_FLAGS), so the phase after `--idle` is what a user's server sees.
const servingFlags = target === "bitrouter" ? SERVING_NODE_FLAGS : [];
const nodeCmd = [
  process.execPath,
  "--trace-gc",
  ...servingFlags,
  ...values["node-flags"]!.split(" ").filter(Boolean),
  join(here, "targets", `${target}.js`),
  ...args,
];
const [command, ...rest] = pinning.proxy ? ["taskset", "-c", pinning.proxy, ...nodeCmd] : nodeCmd;
const log = openSync(logPath, "w");
const proxy = spawn(command!, rest, { stdio: ["ignore", log, log, "ipc"] });
const exited = new Promise<number | null>((resolve) => proxy.once("exit", resolve));
const ready = await Promise.race([
  new Promise<{ url: string }>((resolve) => proxy.on("message", (message: { ready?: { url: string } }) => message?.ready && resolve(message.ready))),
  exited.then((code) => {
    throw new Error(`${target} exited (code ${code}):\n${readFileSync(logPath, "utf8").slice(-2000)}`);
  }),
]);

const base = {
  model: target === "bitrouter" ? "mock:mock-model" : "mock-model",
  stream: false,
  max_tokens: 64,
  messages: [{ role: "user", content: "Say hello." }],
};
const filler = "The quick brown fox jumps over the lazy dog. ".repeat(Math.ceil(bytes / 45)).slice(0, Math.max(0, bytes - JSON.stringify(base).length));
const call = {
  origin: ready.url,
  path: "/v1/chat/completions",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ ...base, messages: [{ role: "system", content: filler }, ...base.messages] }),
};

/** Collections in the log since `from` (a byte offset), by kind. */
function collections(from: number): { scavenges: number; fullGcs: number; pauseMs: number; next: number } {
  const text = readFileSync(logPath, "utf8");
  const lines = text.slice(from).split("\n");
  const count = (kind: string) => lines.filter((line) => line.includes(`: ${kind} `)).length;
  const pauseMs = lines.reduce((sum, line) => sum + Number(/ MB, ([\d.]+) \//.exec(line)?.[1] ?? 0), 0);
  return { scavenges: count("Scavenge"), fullGcs: count("Mark-Compact"), pauseMs, next: text.length };
}

let offset = 0;
console.log(`${target}, ${bytes} B bodies at ${rate} req/s; ${pinning.description}`);
async function phase(label: string, seconds: number): Promise<void> {
  offset = collections(offset).next;
  const cpuBefore = cpuMsOf(proxy.pid!);
  const result = await fixedRate(call, rate, seconds * 1000);
  const cpuUs = (((cpuMsOf(proxy.pid!) ?? Number.NaN) - (cpuBefore ?? Number.NaN)) * 1000) / result.completed;
  const gc = collections(offset);
  offset = gc.next;
  console.log(
    `${label.padEnd(12)} p50 ${result.p50.toFixed(2)} p90 ${result.p90.toFixed(2)} p99 ${result.p99.toFixed(2)} ms, ${cpuUs.toFixed(0)} CPU µs/req, ` +
      `${gc.scavenges} scavenges, ${gc.fullGcs} full GCs, ${gc.pauseMs.toFixed(0)} ms paused${result.errors > 0 ? `, ${result.errors} errors` : ""}`,
  );
}
try {
  await phase("warm-up", 3);
  await phase("warm", 5);
  await new Promise((resolve) => setTimeout(resolve, Number(values.idle) * 1000));
  await phase(`after ${values.idle} s idle`, 5);
  await phase("again", 5);
} finally {
  proxy.kill("SIGTERM");
  await exited;
  await mocks.stop();
  rmSync(dir, { recursive: true, force: true });
}
