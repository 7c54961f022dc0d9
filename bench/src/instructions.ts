/**
 * `node bench/dist/instructions.js [--target bitrouter|passthrough] [--mode plain|metering|...]
 *   [--model mock:mock-model|ant:mock-claude] [--bytes N] [--stream] [--chunk-delay-ms N] [--connections N]
 *   [--requests N] [--warmup N] [--rate N] [--mcp] [--node-flags="..."] [--out FILE]`: instructions per request on the proxy's
 * main thread, counted by valgrind's callgrind over a window after a warm-up. Unlike CPU time or
 * req/s, the count hardly moves with other load on the machine (where `perf stat` has no hardware
 * counters, e.g. in most VMs), so it can tell a 5% change apart on a busy machine. It leaves out
 * the kernel (count syscalls with `strace -c` for that side) and V8's background threads (the
 * optimising compiler, concurrent marking). Needs `valgrind` (callgrind_control comes with it);
 * slow: a few minutes per measurement.
 *
 * Back to back (the default, 8 connections), requests share event-loop turns, socket reads and
 * timers; `--rate N` sends N requests per second on schedule instead (open loop), so each request
 * has its turns to itself as at a moderate rate. Valgrind slows the target ~50x, so a rate it keeps
 * up with is far below the bench's 1,000 req/s: pick one where the achieved rate printed equals N.
 * Timers that fire per wall-clock interval (log batches) count more per request at a low rate.
 *
 * `--stream --chunk-delay-ms 5` measures streams of 20 chunks as they come from a real upstream, one
 * socket read per chunk (with 0, the mock writes the whole stream at once and the proxy reads it in
 * one or two chunks).
 */
import { spawn, execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { type Dispatcher, Pool } from "undici";
import { toolOptions } from "./cli.js";
import { bitrouterArgs, origin, startChild } from "./processes.js";
import type { MockPorts } from "./targets/mocks.js";

const here = dirname(fileURLToPath(import.meta.url));
const values = toolOptions(
  "usage: node bench/dist/instructions.js [--target bitrouter|passthrough] [--mode plain|auth|guardrails|metering|tracing|layered]\n" +
    "         [--model mock:mock-model|ant:mock-claude] [--bytes N] [--stream] [--chunk-delay-ms N] [--connections N]\n" +
    '         [--requests N] [--warmup N] [--rate N] [--mcp] [--node-flags="..."] [--out FILE]   (needs valgrind)',
  {
    target: { type: "string", default: "bitrouter" },
    mode: { type: "string", default: "plain" },
    // ant:mock-claude is the translated row (OpenAI in, Anthropic out)
    model: { type: "string", default: "mock:mock-model" },
    bytes: { type: "string", default: "0" },
    stream: { type: "boolean", default: false },
    "chunk-delay-ms": { type: "string", default: "0" },
    connections: { type: "string", default: "8" },
    // keep the main thread's callgrind file here (for callgrind_annotate)
    out: { type: "string" },
    requests: { type: "string", default: "500" },
    warmup: { type: "string", default: "3000" },
    rate: { type: "string" },
    // an MCP upstream configured, as in the bench's bitrouter rows (loads the MCP SDK at start)
    mcp: { type: "boolean", default: false },
    // flags for the target's node: --node-flags="--single-threaded-gc --max-semi-space-size=4" (with "=": the value starts with a dash)
    "node-flags": { type: "string" },
  },
);
const requests = Number(values.requests);
const bytes = Number(values.bytes);
const passthrough = values.target === "passthrough";

const connections = Number(values.connections);
const mocks = await startChild<MockPorts>("mocks", join(here, "targets", "mocks.js"), ["--chunk-delay-ms", values["chunk-delay-ms"]!]);
const script = passthrough
  ? [join(here, "targets", "passthrough.js"), "--upstream", origin(mocks.ready.openai), "--idle", origin(mocks.ready.idle)]
  : [join(here, "targets", "bitrouter.js"), ...bitrouterArgs(mocks.ready, "--mode", values.mode!, ...(values.mcp ? ["--mcp", mocks.ready.mcp] : []))];
const dir = mkdtempSync(join(tmpdir(), "bitrouter-callgrind-"));
// Instrumentation starts off (start-up and warm-up run at valgrind's plain speed) and is switched
// on for the measured window only; one output file per thread, the main thread's ends in -01.
const child = spawn(
  "valgrind",
  [
    "--tool=callgrind",
    "--smc-check=all-non-file",
    "--instr-atstart=no",
    "--separate-threads=yes",
    `--callgrind-out-file=${join(dir, "cg.%p")}`,
    process.execPath,
    ...(values["node-flags"]?.split(" ").filter(Boolean) ?? []),
    ...script,
  ],
  { stdio: ["ignore", "ignore", "pipe", "ipc"] },
);
let stderr = "";
child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
try {
  const ready = await new Promise<{ url: string; token?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the target did not start under valgrind within 5 minutes:\n${stderr}`)), 300_000);
    child.on("message", (message: { ready?: { url: string; token?: string } }) => {
      if (message?.ready) {
        clearTimeout(timer);
        resolve(message.ready);
      }
    });
    child.once("exit", (code) => reject(new Error(`valgrind exited (${code}):\n${stderr}`)));
  });
  const base = {
    model: passthrough ? "mock-model" : values.model,
    stream: values.stream,
    max_tokens: 64,
    messages: [{ role: "user", content: "Say hello." }],
  };
  const filler = "The quick brown fox jumps over the lazy dog. ".repeat(Math.ceil(bytes / 45)).slice(0, bytes);
  const body = JSON.stringify(bytes > 0 ? { ...base, messages: [{ role: "system", content: filler }, ...base.messages] } : base);
  const headers = { "content-type": "application/json", ...(ready.token ? { authorization: `Bearer ${ready.token}` } : {}) };
  const check = async (res: Dispatcher.ResponseData): Promise<void> => {
    const text = await res.body.text();
    if (res.statusCode !== 200 || !text.includes("word0")) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  };
  /** `count` requests at `rate` per second, each sent on schedule (open loop); the achieved rate. */
  const paced = async (count: number, rate: number): Promise<number> => {
    const pool = new Pool(ready.url, { connections });
    const pending: Promise<void>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      pending.push(pool.request({ path: "/v1/chat/completions", method: "POST", headers, body }).then(check));
    }
    await Promise.all(pending);
    const achieved = (count * 1000) / (performance.now() - t0);
    await pool.close();
    return achieved;
  };
  const drive = async (count: number): Promise<void> => {
    const pool = new Pool(ready.url, { connections });
    let sent = 0;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (sent++ < count) {
          await check(await pool.request({ path: "/v1/chat/completions", method: "POST", headers, body }));
        }
      }),
    );
    await pool.close();
  };
  const rate = values.rate ? Number(values.rate) : undefined;
  if (rate !== undefined && !(rate > 0)) throw new Error(`--rate must be a positive number of requests per second, got "${values.rate}"`);
  await drive(Number(values.warmup)); // JIT tiers up before the window opens
  if (rate) await paced(Math.min(200, requests), rate); // and at the measured pace, whose code paths differ
  execFileSync("callgrind_control", ["-i", "on", String(child.pid)], { stdio: "ignore" });
  const achieved = rate ? await paced(requests, rate) : await drive(requests);
  execFileSync("callgrind_control", ["-d", String(child.pid)], { stdio: "ignore" });
  const main = readdirSync(dir).find((f) => /\.\d+-01$/.test(f));
  if (main && values.out) copyFileSync(join(dir, main), values.out);
  const total = main ? Number(/^summary:\s+(\d+)/m.exec(readFileSync(join(dir, main), "utf8"))?.[1]) : Number.NaN;
  const flags = values["node-flags"] ? `, node ${values["node-flags"]}` : "";
  const pace = achieved ? `, ${rate} req/s asked, ${achieved.toFixed(1)} achieved` : `, back to back (${connections} connections)`;
  const kind = values.stream ? `stream (${values["chunk-delay-ms"]} ms between chunks)` : "non-stream";
  const what = `${values.target}${passthrough ? "" : ` (${values.mode}, ${values.model}${values.mcp ? ", MCP upstream" : ""})`}, ${bytes > 0 ? `${bytes}-byte` : "small"} ${kind} requests${pace}${flags}`;
  console.log(
    `${what}: ${(total / requests / 1000).toFixed(1)} k instructions per request on the main thread (${requests} measured after ${values.warmup} warm-up)`,
  );
} finally {
  child.kill("SIGKILL");
  await mocks.stop();
  rmSync(dir, { recursive: true, force: true });
}
