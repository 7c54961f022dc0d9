/**
 * `node bench/dist/instructions.js [--target bitrouter|passthrough] [--mode plain|metering|...]
 *   [--model mock:mock-model|ant:mock-claude] [--bytes N] [--stream] [--chunk-delay-ms N] [--connections N]
 *   [--requests N] [--warmup N] [--rate N] [--mcp] [--node-flags="..."] [--out FILE] [--top N]`: instructions per request on the proxy's
 * main thread, counted by valgrind's callgrind over a window after a warm-up. Unlike CPU time or
 * req/s, the count hardly moves with other load on the machine (where `perf stat` has no hardware
 * counters, e.g. in most VMs), so it can tell a 5% change apart on a busy machine. It leaves out
 * the kernel (count syscalls with `strace -c` for that side) and V8's background threads (the
 * optimising compiler, concurrent marking). Needs `valgrind` (callgrind_control comes with it);
 * slow: about a minute per measurement (most of it the warm-up, which V8 needs to tier the path up).
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
    '         [--requests N] [--warmup N] [--rate N] [--mcp] [--node-flags="..."] [--out FILE] [--top N]   (needs valgrind)',
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
    // default: 1,000 requests or 300 streams, after 20,000 requests or 3,000 streams (see WARMUP)
    requests: { type: "string" },
    warmup: { type: "string" },
    rate: { type: "string" },
    // an MCP upstream configured, as in the bench's bitrouter rows (loads the MCP SDK at start)
    mcp: { type: "boolean", default: false },
    // flags for the target's node: --node-flags="--single-threaded-gc --max-semi-space-size=4" (with "=": the value starts with a dash)
    "node-flags": { type: "string" },
    // the N functions with the most instructions, JIT-compiled JavaScript and regexes by name
    top: { type: "string" },
  },
);
const top = values.top === undefined ? 0 : Number(values.top);
if (!Number.isInteger(top) || top < 0) throw new Error(`--top must be a whole number of functions, got "${values.top}"`);
/**
 * Warm-up by default: after 3,000 small requests code that runs once per request is still partly
 * in V8's baseline tier (plain: 414k instructions per request after 3,000, 381k after 20,000; the
 * layered features' functions tier up later still), which counted as the path's own cost.
 */
const WARMUP = values.stream ? 3000 : 20_000;
values.warmup ??= String(WARMUP);
const requests = Number(values.requests ?? (values.stream ? 300 : 1000));
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
    // V8 then lists where it put each compiled function in /tmp/perf-<pid>.map (callgrind only sees addresses)
    ...(top > 0 ? ["--perf-basic-prof", "--no-logfile-per-isolate", `--logfile=${join(dir, "v8.log")}`] : []),
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
  if (top > 0 && main) printTop(join(dir, main), `/tmp/perf-${child.pid}.map`, requests, top);
} finally {
  child.kill("SIGKILL");
  await mocks.stop();
  rmSync(dir, { recursive: true, force: true });
  if (top > 0) rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
}

/**
 * The functions with the most instructions of their own (callgrind_annotate), per request. Callgrind
 * names JIT-compiled code by address only; V8's perf map says which function (or regex) each is.
 */
function printTop(callgrindFile: string, perfMap: string, requests: number, count: number): void {
  const jit: { start: number; end: number; name: string }[] = [];
  for (const line of readFileSync(perfMap, "utf8").split("\n")) {
    const [start, size, ...name] = line.split(" ");
    if (start && size && name.length > 0)
      jit.push({ start: Number.parseInt(start, 16), end: Number.parseInt(start, 16) + Number.parseInt(size, 16), name: name.join(" ") });
  }
  jit.sort((a, b) => a.start - b.start);
  const jitName = (address: number): string => {
    let lo = 0;
    let hi = jit.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (jit[mid]!.start <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    // Code moves and is reused: the latest entry starting at or below the address that still covers it.
    for (let i = hi; i >= 0 && i > hi - 50; i--) if (address < jit[i]!.end) return jit[i]!.name;
    return "(JIT code not in the map)";
  };
  const annotated = execFileSync("callgrind_annotate", ["--inclusive=no", "--threshold=100", callgrindFile], { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  const byName = new Map<string, number>();
  for (const line of annotated.split("\n")) {
    const m = /^\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)$/.exec(line);
    if (!m || m[2]!.includes("PROGRAM TOTALS")) continue;
    const address = /^\?\?\?:0x([0-9a-f]+)/.exec(m[2]!);
    const name = (address ? jitName(Number.parseInt(address[1]!, 16)) : m[2]!)
      .replace(/^(JS|RegExp):[*^~+-]?/, "$1:")
      .replace(/file:\/\/\S*?\/node_modules\/\.pnpm\/[^/]+\/node_modules\//, "")
      .replace(/file:\/\/\S*?\/(packages|apps)\//, "$1/")
      .replace(/^\?\?\?:/, "")
      .replace(/ \[[^\]]*\]$/, "");
    byName.set(name, (byName.get(name) ?? 0) + Number(m[1]!.replaceAll(",", "")));
  }
  const rows = [...byName].sort((a, b) => b[1] - a[1]).slice(0, count);
  console.log(`\ninstructions per request by function (self), the top ${rows.length}:`);
  for (const [name, instructions] of rows)
    console.log(`${(instructions / requests).toFixed(0).padStart(9)}  ${name.length > 150 ? `${name.slice(0, 147)}...` : name}`);
}
