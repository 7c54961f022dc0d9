/**
 * `pnpm bench [--quick | --smoke] [--profile [--mode guardrails]] [--scenarios a,b]`: starts the mocks and every target, runs each
 * scenario against the targets in turn (interleaved, the order rotating per scenario), prints one
 * table and writes it as JSON, Markdown and an SVG chart under bench/results/.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SERVING_NODE_FLAGS } from "@bitrouter/server/heap";
import { toolOptions } from "./cli.js";
import { abortReach, fixedRate, openIdleStreams, saturation, streams, type HttpCall, type LoadResult } from "./load.js";
import {
  bitrouterArgs,
  countersOf,
  keepAwake,
  memoryOf,
  origin,
  planPinning,
  type ProcessCounters,
  quiesce,
  startChild,
  startProbed,
  type Pinning,
} from "./processes.js";
import { summarizeProfile } from "./profile.js";
import {
  FAST_PATH,
  buildRows,
  cpuHeadline,
  latencySvg,
  markdownTable,
  medianOfRounds,
  pairedCpuRatios,
  runWarnings,
  summarize,
  textTable,
  type Measurement,
} from "./report.js";
import type { MockPorts } from "./targets/mocks.js";

const here = dirname(fileURLToPath(import.meta.url)); // bench/dist
const benchDir = dirname(here);
const portkeyScript = join(benchDir, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");

type Mode = "full" | "quick" | "smoke";

interface Settings {
  /** Measured seconds per fixed-rate / stream measurement, and the warm-up before it. */
  seconds: number;
  warmupSeconds: number;
  /** Rounds of each scenario over the targets (order rotating); each row is the median of its rounds. */
  rounds: number;
  saturationSeconds: number;
  idleStreams: number;
  /** How long the idle-streams scenario waits for every stream's first byte. */
  idleTimeoutMs: number;
  /** Streams aborted one by one in the abort scenario. */
  abortRounds: number;
}

const SETTINGS: Record<Mode, Settings> = {
  full: { seconds: 5, warmupSeconds: 1.5, rounds: 3, saturationSeconds: 5, idleStreams: 1000, idleTimeoutMs: 30_000, abortRounds: 20 },
  quick: { seconds: 1, warmupSeconds: 0.4, rounds: 1, saturationSeconds: 1.5, idleStreams: 1000, idleTimeoutMs: 5_000, abortRounds: 10 },
  smoke: { seconds: 1, warmupSeconds: 0.5, rounds: 1, saturationSeconds: 1, idleStreams: 100, idleTimeoutMs: 5_000, abortRounds: 5 },
};

/** Above this load average at the start, a run is marked as not quotable (other work shares the cores). */
const MAX_LOAD = 1;

/** Stream chunks drip one per this many ms from the mocks (20 content chunks + 4 framing events). */
const CHUNK_DELAY_MS = 5;

interface Target {
  name: string;
  /** Process whose memory is reported (absent for the direct call). */
  pid?: number;
  call(kind: "main" | "idle", stream: boolean, body?: BodyShape): HttpCall;
  /** Scenarios this target takes part in (all when absent). */
  only?: readonly string[];
  /** Where this target serves MCP tools/call, and the name of the upstream's `echo` there. */
  mcp?: { url: string; headers: Record<string, string>; tool: string };
}

interface Scenario {
  name: string;
  run(target: Target, s: Settings): Promise<Measurement>;
  /** Which targets can take part (default: all, subject to their `only`). */
  accepts?(target: Target): boolean;
  /** Measured once whatever `--rounds` says (idle1000: only the first round sees fresh processes). */
  once?: boolean;
}

const FEATURE_SCENARIOS = ["rate1000", "saturation64", "stream100"] as const;
/** Who takes an agent's turn (agent@200): the reference rows and the targets whose cost grows with a body's texts. */
const AGENT_TARGETS = ["direct", "passthrough", "bitrouter", "bitrouter+guardrails", "bitrouter+layered"];

/** A request body: the small chat request, padded to a size in bytes, or an agent's turn (agentTurn). */
type BodyShape = number | "agent";

function chatBody(model: string, stream: boolean, shape: BodyShape = 0): string {
  const base = { model, stream, max_tokens: 64, messages: [{ role: "user", content: "Say hello." }] };
  if (shape === "agent") return JSON.stringify(agentTurn(base));
  const bodyBytes = shape;
  if (bodyBytes <= 0) return JSON.stringify(base);
  const overhead = JSON.stringify(base).length;
  const filler = "The quick brown fox jumps over the lazy dog. ".repeat(Math.ceil(bodyBytes / 45)).slice(0, Math.max(0, bodyBytes - overhead));
  return JSON.stringify({ ...base, messages: [{ role: "system", content: filler }, ...base.messages] });
}

/**
 * A coding agent's request late in a session (86 KB): a system prompt, 40 turns of a user message,
 * a tool call and its result (code), 12 tool definitions, then the bench's question. Agents resend
 * all of it every turn, so a guard that remembers what it scanned sees the same texts again.
 */
function agentTurn<T extends { messages: object[] }>(base: T): T & { tools: object[] } {
  const messages: object[] = [{ role: "system", content: "You are a coding agent. ".repeat(300) }];
  for (let i = 0; i < 40; i++) {
    messages.push({ role: "user", content: `Please look at file src/module${i}.ts and fix the bug number ${i}. `.repeat(8) });
    messages.push({
      role: "assistant",
      content: null,
      tool_calls: [{ id: `call_${i}`, type: "function", function: { name: "read_file", arguments: JSON.stringify({ path: `src/module${i}.ts` }) } }],
    });
    messages.push({ role: "tool", tool_call_id: `call_${i}`, content: `export function f${i}(x: number) {\n  return x * ${i};\n}\n`.repeat(20) });
  }
  const tools = Array.from({ length: 12 }, (_, i) => ({
    type: "function",
    function: {
      name: `tool_${i}`,
      description: "Does a thing with a file. ".repeat(10),
      parameters: { type: "object", properties: { path: { type: "string", description: "the path" } }, required: ["path"] },
    },
  }));
  return { ...base, messages: [...messages, ...base.messages], tools };
}

const JSON_HEADERS = { "content-type": "application/json" };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

type WithCpu = LoadResult & Pick<Measurement, "cpuUsPerRequest" | "cpuBusy" | "minorFaultsPerRequest" | "majorFaultsPerRequest" | "preemptionsPerRequest">;

/**
 * Runs a measurement and adds what the target's process spent on it, per completed request: CPU
 * time, page faults and preemptions of its main thread; and the share of its core it kept busy
 * (CPU time / wall time).
 */
async function withCpu(target: Target, measure: () => Promise<LoadResult>): Promise<WithCpu> {
  const before = target.pid ? countersOf(target.pid) : undefined;
  const startMs = performance.now();
  const result = await measure();
  const wallMs = performance.now() - startMs;
  const after = target.pid ? countersOf(target.pid) : undefined;
  if (before === undefined || after === undefined || result.completed === 0) return result;
  const perRequest = (pick: (c: ProcessCounters) => number) => (pick(after) - pick(before)) / result.completed;
  return {
    ...result,
    cpuUsPerRequest: perRequest((c) => c.cpuMs) * 1000,
    cpuBusy: (after.cpuMs - before.cpuMs) / wallMs,
    minorFaultsPerRequest: perRequest((c) => c.minorFaults),
    majorFaultsPerRequest: perRequest((c) => c.majorFaults),
    preemptionsPerRequest: perRequest((c) => c.involuntarySwitches),
  };
}

/** The progress line's per-request figures of the proxy process, when it has them. */
function perRequestCounters(m: Measurement): string {
  if (m.cpuUsPerRequest === undefined) return "";
  const faults =
    m.minorFaultsPerRequest === undefined
      ? ""
      : `  faults ${m.minorFaultsPerRequest.toFixed(2)}+${m.majorFaultsPerRequest!.toFixed(3)}  preempted ${m.preemptionsPerRequest!.toFixed(3)}`;
  return `  CPU ${m.cpuUsPerRequest.toFixed(0)} µs${faults}`;
}

function fromLoad(target: Target, scenario: string, result: WithCpu, extraNote?: string): Measurement {
  const mem = target.pid ? memoryOf(target.pid) : undefined;
  const note = [result.note, extraNote].filter(Boolean).join("; ");
  return {
    target: target.name,
    scenario,
    rps: result.rps,
    p50: result.p50,
    p90: result.p90,
    p99: result.p99,
    ...(result.ttfbP50 !== undefined ? { ttfbP50: result.ttfbP50, ttfbP99: result.ttfbP99! } : {}),
    ...(result.firstByteP50 !== undefined ? { firstByteP50: result.firstByteP50, firstByteP99: result.firstByteP99! } : {}),
    errors: result.errors,
    ...(result.late ? { late: result.late } : {}),
    ...(result.cpuUsPerRequest !== undefined ? { cpuUsPerRequest: result.cpuUsPerRequest } : {}),
    ...(result.cpuBusy !== undefined ? { cpuBusy: result.cpuBusy } : {}),
    ...(result.minorFaultsPerRequest !== undefined
      ? {
          minorFaultsPerRequest: result.minorFaultsPerRequest,
          majorFaultsPerRequest: result.majorFaultsPerRequest!,
          preemptionsPerRequest: result.preemptionsPerRequest!,
        }
      : {}),
    ...(mem ? { rssBytes: mem.peak } : {}),
    ...(note ? { note } : {}),
  };
}

function fixedRateScenario(name: string, rate: number, body: BodyShape = 0, accepts?: (target: Target) => boolean): Scenario {
  return {
    name,
    ...(accepts ? { accepts } : {}),
    async run(target, s) {
      const call = target.call("main", false, body);
      await fixedRate(call, rate, s.warmupSeconds * 1000);
      return fromLoad(target, name, await withCpu(target, () => fixedRate(call, rate, s.seconds * 1000)));
    },
  };
}

/**
 * MCP tools/call through the official SDK client, one call at a time on one session for the
 * duration: the gateway's added latency over calling the upstream MCP server directly.
 */
const toolsCallScenario: Scenario = {
  name: "tools/call",
  accepts: (target) => target.mcp !== undefined,
  async run(target, s) {
    const { url, headers, tool } = target.mcp!;
    const client = new Client({ name: "bitrouter-bench", version: "1.0.0" });
    // The transport hands one long-lived AbortSignal to every fetch, and Node's fetch drops its
    // listener on it only when the request is collected: thousands of calls pile up listeners
    // (MaxListenersExceededWarning) and slow the load generator's own calls. Calls here are
    // sequential and finished before close, so they go without it.
    const unsignalled = (input: string | URL, init?: RequestInit) => fetch(input, { ...init, signal: null });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: unsignalled }));
    const latencies: number[] = [];
    let errors = 0;
    const call = async () => {
      const start = performance.now();
      const result = await client.callTool({ name: tool, arguments: { text: "hello" } }).catch(() => undefined);
      if (result && !result.isError) latencies.push(performance.now() - start);
      else errors++;
    };
    try {
      for (const end = Date.now() + s.warmupSeconds * 1000; Date.now() < end; ) await call();
      latencies.length = 0;
      errors = 0;
      const started = performance.now();
      for (const end = Date.now() + s.seconds * 1000; Date.now() < end; ) await call();
      const elapsed = (performance.now() - started) / 1000;
      const { p50, p90, p99 } = summarize(latencies);
      return { target: target.name, scenario: "tools/call", rps: latencies.length / elapsed, p50, p90, p99, errors, note: "sequential, one session" };
    } finally {
      await client.close().catch(() => undefined);
    }
  },
};

const PORTKEY_STREAM_NOTE = "portkey sleeps 25 ms before its first chunk";

/**
 * rate1000 again with the proxies' core kept from idling (`keepAwake`): each request of a moderate
 * rate arrives at an idle core, and waking it is part of rate1000's latency for any proxy. This row
 * is the proxy's own share. Direct, the reference rows, the pass-through and plain BitRouter only.
 */
function awakeScenario(pinning: Pinning): Scenario {
  const name = "rate1000-awake";
  return {
    name,
    accepts: (target) => ["direct", "relay", "buffered", "passthrough", "bitrouter"].includes(target.name),
    async run(target, s) {
      const spinner = pinning.proxy === undefined ? undefined : keepAwake(pinning.proxy);
      try {
        const call = target.call("main", false);
        await fixedRate(call, 1000, s.warmupSeconds * 1000);
        const note = spinner ? "the proxy's core kept from idling" : "not kept awake: no pinning or no chrt";
        return fromLoad(target, name, await withCpu(target, () => fixedRate(call, 1000, s.seconds * 1000)), note);
      } finally {
        spinner?.stop();
      }
    },
  };
}

function scenarios(mode: Mode, ports: MockPorts, pinning: Pinning): Scenario[] {
  if (mode === "smoke") return [fixedRateScenario("smoke@200", 200), toolsCallScenario];
  return [
    // First, while every process is fresh: its memory then is the streams' cost, not leftovers of
    // the 100 KB-body scenario.
    {
      name: "idle1000",
      once: true,
      async run(target, s) {
        const open = await openIdleStreams(target.call("idle", true), s.idleStreams, s.idleTimeoutMs);
        // Let the proxies settle (buffers, GC) before reading their memory.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const mem = target.pid ? memoryOf(target.pid) : undefined;
        await open.close();
        const m = fromLoad(target, "idle1000", open.result, "RSS = VmRSS with the streams open");
        if (mem) m.rssBytes = mem.current;
        else delete m.rssBytes;
        return m;
      },
    },
    fixedRateScenario("rate500", 500),
    fixedRateScenario("rate1000", 1000),
    awakeScenario(pinning),
    {
      name: "saturation64",
      async run(target, s) {
        const call = target.call("main", false);
        await saturation(call, 64, 1);
        return fromLoad(target, "saturation64", await withCpu(target, () => saturation(call, 64, s.saturationSeconds)));
      },
    },
    {
      name: "stream100",
      async run(target, s) {
        const call = target.call("main", true);
        await streams(call, 100, s.warmupSeconds * 1000);
        return fromLoad(
          target,
          "stream100",
          await withCpu(target, () => streams(call, 100, s.seconds * 1000)),
          target.name === "portkey" ? PORTKEY_STREAM_NOTE : undefined,
        );
      },
    },
    fixedRateScenario("body8k@500", 500, 8 * 1024),
    fixedRateScenario("body100k@500", 500, 100 * 1024),
    // The guard's realistic case: everything an agent resends, parsed, decoded, scanned and walked.
    fixedRateScenario("agent@200", 200, "agent", (target) => AGENT_TARGETS.includes(target.name)),
    toolsCallScenario,
    {
      name: "abort",
      async run(target, s) {
        return fromLoad(target, "abort", await abortReach(target.call("idle", true), `http://127.0.0.1:${ports.idle}/closed`, s.abortRounds));
      },
    },
  ];
}

async function main(): Promise<void> {
  const values = toolOptions(
    "usage: pnpm bench [--quick | --smoke] [--profile [--mode auth|guardrails|metering|tracing|layered]] [--scenarios a,b] [--targets a,b]\n" +
      "                  [--rounds N] [--upstream-delay-ms N] [--out DIR]\n" +
      "  the commands and scenarios: docs/performance.md",
    {
      quick: { type: "boolean" },
      smoke: { type: "boolean" },
      profile: { type: "boolean" },
      out: { type: "string" },
      "upstream-delay-ms": { type: "string" },
      scenarios: { type: "string" },
      targets: { type: "string" },
      rounds: { type: "string" },
      mode: { type: "string" },
    },
  );
  const upstreamDelayMs = Number(values["upstream-delay-ms"] ?? "0");
  if (!Number.isInteger(upstreamDelayMs) || upstreamDelayMs < 0)
    throw new Error(`--upstream-delay-ms must be a non-negative integer, got "${values["upstream-delay-ms"]}"`);
  const mockArgs = ["--chunk-delay-ms", String(CHUNK_DELAY_MS), "--delay-ms", String(upstreamDelayMs)];
  const mode: Mode = values.smoke ? "smoke" : values.quick ? "quick" : "full";
  const rounds = values.rounds === undefined ? SETTINGS[mode].rounds : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got "${values.rounds}"`);
  const settings = { ...SETTINGS[mode], rounds };
  const outDir = values.out ?? join(benchDir, "results");
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();

  const cores = availableParallelism(); // before pinning narrows it to our own core
  const pinning = planPinning();
  const cpu = cpus()[0]?.model ?? "unknown cpu";
  const load = loadavg()[0]!;
  console.log(`bench (${mode}): ${cores} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GB, node ${process.version}, load average ${load.toFixed(2)}`);
  console.log(
    `pinning: ${pinning.description}; upstream delay ${upstreamDelayMs} ms, ${CHUNK_DELAY_MS} ms between stream chunks; ${rounds} round${rounds === 1 ? "" : "s"} per scenario${rounds > 1 ? " (rows are medians)" : ""}`,
  );
  if (load > MAX_LOAD)
    console.log(`warning: the machine is busy (load average ${load.toFixed(2)} on ${cores} cores, above ${MAX_LOAD}): this run will be marked as not quotable`);

  const children: { stop(): Promise<void> }[] = [];
  const stopAll = () => Promise.all(children.map((c) => c.stop().catch(() => undefined)));
  process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
  try {
    if (values.profile) {
      await profileRun(pinning, settings, outDir, children, mockArgs, values.scenarios?.split(","), values.mode ?? "plain");
      return;
    }
    const mocks = await startChild<MockPorts>("mocks", join(here, "targets", "mocks.js"), mockArgs, pinned(pinning.client));
    children.push(mocks);
    const targets = await startTargets(mocks.ready, pinning, children, values.targets?.split(","));
    console.log(`targets: ${targets.map((t) => `${t.name}${t.pid ? ` (pid ${t.pid})` : ""}`).join(", ")}`);
    await verifyTargets(targets);

    const measurements: Measurement[] = [];
    const wanted = values.scenarios?.split(",");
    const list = scenarios(mode, mocks.ready, pinning).filter((s) => !wanted || wanted.includes(s.name));
    if (list.length === 0) throw new Error(`--scenarios: none of ${values.scenarios} is a scenario of this mode`);
    let turn = 0;
    for (const scenario of list) {
      const eligible = targets.filter((t) => (scenario.accepts ? scenario.accepts(t) : !t.only || t.only.includes(scenario.name) || mode === "smoke"));
      const byTarget = new Map<string, Measurement[]>();
      const scenarioRounds = scenario.once ? 1 : rounds;
      for (let round = 0; round < scenarioRounds; round++) {
        // Interleave: rotate who goes first so slow drift (thermal, page cache, the host) is shared out.
        const order = eligible.map((_, k) => eligible[(k + turn) % eligible.length]!);
        turn++;
        // Later rounds need less warm-up: the code is compiled, only connections may have to open again.
        const roundSettings = round === 0 ? settings : { ...settings, warmupSeconds: Math.min(settings.warmupSeconds, 1) };
        for (const target of order) {
          const label = scenarioRounds > 1 ? `${scenario.name} [${round + 1}/${scenarioRounds}]` : scenario.name;
          process.stdout.write(`  ${label.padEnd(20)} ${target.name.padEnd(22)}`);
          const m = await scenario.run(target, roundSettings);
          byTarget.set(target.name, [...(byTarget.get(target.name) ?? []), m]);
          // The next target shares this one's core: it starts once this one worked off any backlog.
          const waited = target.pid ? await quiesce(target.pid) : 0;
          const backlog = waited > 1000 ? `  (${(waited / 1000).toFixed(1)} s of backlog before the next)` : "";
          console.log(
            `${m.rps.toFixed(0).padStart(7)} req/s  p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms${perRequestCounters(m)}${m.errors ? `  errors ${m.errors}` : ""}${backlog}`,
          );
        }
      }
      const paired = pairedCpuRatios(byTarget);
      for (const [name, taken] of byTarget) {
        const row = medianOfRounds(taken);
        const ratio = paired.get(name);
        if (ratio) row.cpuVsFastPath = ratio;
        measurements.push(row);
      }
    }
    // Rows grouped by scenario, targets in a stable order.
    const names = targets.map((t) => t.name);
    measurements.sort(
      (a, b) =>
        list.findIndex((s) => s.name === a.scenario) - list.findIndex((s) => s.name === b.scenario) || names.indexOf(a.target) - names.indexOf(b.target),
    );
    const rows = buildRows(measurements);
    const peaks = Object.fromEntries(targets.filter((t) => t.pid).map((t) => [t.name, memoryOf(t.pid!)?.peak]));
    const warnings = runWarnings(load, rows, MAX_LOAD);
    const headline = cpuHeadline(rows);
    const meta = {
      mode,
      date: new Date().toISOString(),
      node: process.version,
      cores,
      cpu,
      loadAverageAtStart: load,
      quotable: warnings.length === 0,
      warnings,
      upstreamDelayMs,
      pinning: pinning.description,
      chunkDelayMs: CHUNK_DELAY_MS,
      rounds,
      seconds: (Date.now() - started) / 1000,
    };
    console.log(`\n${textTable(rows)}\n`);
    console.log(headline.join("\n"));
    const verdict = warnings.length === 0 ? "" : `NOT QUOTABLE:\n${warnings.map((w) => `- ${w}`).join("\n")}\n\n`;
    if (verdict) console.log(`\n${verdict.trimEnd()}`);
    console.log(
      `peak RSS (VmHWM, MB): ${Object.entries(peaks)
        .map(([n, b]) => `${n} ${b ? (b / 2 ** 20).toFixed(0) : "?"}`)
        .join(", ")}`,
    );
    const base = mode === "full" ? "latest" : mode;
    writeFileSync(join(outDir, `${base}.json`), `${JSON.stringify({ meta, peakRssBytes: peaks, headline, rows }, null, 2)}\n`);
    writeFileSync(
      join(outDir, `${base}.md`),
      `# BitRouter bench (${mode}), ${meta.date}\n\n${verdict}**Headline** (CPU time per request, 1.00x = the pass-through):\n\n${headline.map((h) => `- ${h}`).join("\n")}\n\n${meta.cores} cores (${cpu}), node ${meta.node}, load average at start ${load.toFixed(2)}; ${pinning.description}; ${rounds > 1 ? `each row the median of ${rounds} rounds (targets interleaved, the order rotating each round); a ratio "vs ${FAST_PATH}" is the median of the rounds' own ratios` : "one round"}.\n` +
        `Latencies in ms; "added p50" = p50 minus the direct call's p50; ratios: throughput for saturation64, p50 (reference / target) otherwise, 1.00 = as good as the reference.\n` +
        `CPU µs/req = user+system CPU time of the proxy process during the measurement / completed requests (less sensitive to other load on the machine than latency). ` +
        `RSS = VmHWM of the proxy process after the measurement (VmRSS with the streams open for idle1000). Streams: ${CHUNK_DELAY_MS} ms between the mock's chunks; p50/p99 = whole stream.\n\n${markdownTable(rows)}\n`,
    );
    writeFileSync(join(outDir, `${base}.svg`), latencySvg(rows.filter((r) => !r.scenario.startsWith("idle"))));
    console.log(`written: ${join(outDir, `${base}.{json,md,svg}`)} in ${meta.seconds.toFixed(0)} s`);
    // In --smoke (CI), a target that answers errors is broken; slowness ("late") is only reported.
    // Full and quick runs report errors in the table (e.g. streams BitRouter cannot open) and exit 0.
    const broken = mode === "smoke" ? rows.filter((r) => r.errors - (r.late ?? 0) > 0) : [];
    if (broken.length > 0) {
      console.error(
        `failed requests: ${broken.map((r) => `${r.target} ${r.scenario} (${r.errors - (r.late ?? 0)}${r.note ? `: ${r.note}` : ""})`).join("; ")}`,
      );
      process.exitCode = 1;
    }
  } finally {
    await stopAll();
  }
}

function pinned(cores: string | undefined): { cores?: string } {
  return cores ? { cores } : {};
}

/**
 * Starts the targets: all, or those `--targets` names (the direct call always, as every row is
 * compared with it).
 */
async function startTargets(ports: MockPorts, pinning: Pinning, children: { stop(): Promise<void> }[], wanted?: readonly string[]): Promise<Target[]> {
  const wants = (name: string) => !wanted || wanted.includes(name);
  const path = "/v1/chat/completions";
  const targets: Target[] = [
    {
      name: "direct",
      call: (kind, stream, shape) => ({
        origin: origin(kind === "idle" ? ports.idle : ports.openai),
        path,
        headers: JSON_HEADERS,
        body: chatBody("mock-model", stream, shape),
      }),
      mcp: { url: ports.mcp, headers: {}, tool: "echo" },
    },
  ];

  if (wants("passthrough")) {
    const passthrough = await startChild<{ url: string }>(
      "passthrough",
      join(here, "targets", "passthrough.js"),
      ["--upstream", origin(ports.openai), "--idle", origin(ports.idle)],
      pinned(pinning.proxy),
    );
    children.push(passthrough);
    targets.push({
      name: "passthrough",
      pid: passthrough.pid,
      call: (kind, stream, shape) => ({
        origin: passthrough.ready.url,
        path,
        headers: kind === "idle" ? { ...JSON_HEADERS, "x-bench-upstream": "idle" } : JSON_HEADERS,
        body: chatBody("mock-model", stream, shape),
      }),
    });
  }

  // Reference rows for the 1,000 req/s latency: what the loopback hops and wake-ups cost before any
  // proxy does any work (relay), and the least an HTTP proxy that reads the body first can do (buffered).
  for (const name of ["relay", "buffered"]) {
    if (!wants(name)) continue;
    const child = await startChild<{ url: string }>(name, join(here, "targets", `${name}.js`), ["--upstream", origin(ports.openai)], pinned(pinning.proxy));
    children.push(child);
    targets.push({
      name,
      pid: child.pid,
      call: (_kind, stream, shape) => ({ origin: child.ready.url, path, headers: JSON_HEADERS, body: chatBody("mock-model", stream, shape) }),
      only: ["rate1000", "rate1000-awake"],
    });
  }

  const bitrouter = async (name: string, mode: string, model: string, only?: readonly string[]): Promise<void> => {
    if (!wants(name)) return;
    const child = await startChild<{ url: string; token?: string }>(
      name,
      join(here, "targets", "bitrouter.js"),
      bitrouterArgs(ports, "--mcp", ports.mcp, "--mode", mode),
      { ...pinned(pinning.proxy), nodeArgs: [...SERVING_NODE_FLAGS] },
    );
    children.push(child);
    const headers = child.ready.token ? { ...JSON_HEADERS, authorization: `Bearer ${child.ready.token}` } : JSON_HEADERS;
    targets.push({
      name,
      pid: child.pid,
      call: (kind, stream, shape) => ({ origin: child.ready.url, path, headers, body: chatBody(kind === "idle" ? "idle:mock-model" : model, stream, shape) }),
      ...(only ? { only } : {}),
      // The gateway once (plain mode): its added latency over the direct MCP call.
      ...(name === "bitrouter" ? { mcp: { url: `${child.ready.url}/mcp`, headers: {}, tool: "tools__echo" } } : {}),
    });
  };
  await bitrouter("bitrouter", "plain", "mock:mock-model");
  await bitrouter("bitrouter-translated", "plain", "ant:mock-claude", ["rate500", "rate1000", "saturation64", "stream100", "body8k@500", "body100k@500"]);
  await bitrouter("bitrouter+auth", "auth", "mock:mock-model", FEATURE_SCENARIOS);
  await bitrouter("bitrouter+guardrails", "guardrails", "mock:mock-model", [...FEATURE_SCENARIOS, "agent@200"]);
  await bitrouter("bitrouter+metering", "metering", "mock:mock-model", FEATURE_SCENARIOS);
  await bitrouter("bitrouter+layered", "layered", "mock:mock-model", [...FEATURE_SCENARIOS, "agent@200"]);
  await bitrouter("bitrouter+tracing", "tracing", "mock:mock-model", FEATURE_SCENARIOS);

  if (!wants("portkey")) return targets;
  const portkeyPort = await freePort();
  const portkeyUrl = origin(portkeyPort);
  const portkey = await startProbed(
    "portkey",
    [process.execPath, "--import", join(here, "targets", "loopback.js"), portkeyScript, `--port=${portkeyPort}`, "--headless"],
    async () => (await fetch(portkeyUrl)).ok,
    { ...pinned(pinning.proxy), env: { ...process.env, NODE_ENV: "production" } },
  );
  children.push(portkey);
  targets.push({
    name: "portkey",
    pid: portkey.pid,
    call: (kind, stream, shape) => ({
      origin: portkeyUrl,
      path,
      headers: {
        ...JSON_HEADERS,
        authorization: "Bearer bench-upstream-key",
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": `${origin(kind === "idle" ? ports.idle : ports.openai)}/v1`,
      },
      body: chatBody("mock-model", stream, shape),
    }),
  });
  return targets;
}

/** One answer per target, checked for the mock's text, so a misrouted target cannot pass as fast. */
async function verifyTargets(targets: readonly Target[]): Promise<void> {
  for (const target of targets) {
    for (const stream of [false, true]) {
      const call = target.call("main", stream);
      const res = await fetch(`${call.origin}${call.path}`, { method: "POST", headers: call.headers, body: call.body });
      const text = await res.text();
      if (res.status !== 200 || !text.includes("word0") || (stream && !text.includes("[DONE]"))) {
        throw new Error(`${target.name} (${stream ? "stream" : "non-stream"}) answered HTTP ${res.status}: ${text.slice(0, 300)}`);
      }
    }
  }
}

/**
 * `--profile`: BitRouter under load with --cpu-prof, one process per case: the fast path and the
 * translated path at saturation (non-stream) and under `stream100`'s load, the fast path at 1,000 req/s. Prints the
 * top self-time areas and functions of the measured window only (no start-up, no warm-up), and the
 * process's CPU time per request in that window.
 */
async function profileRun(
  pinning: Pinning,
  settings: Settings,
  outDir: string,
  children: { stop(): Promise<void> }[],
  mockArgs: string[],
  wanted: string[] | undefined,
  mode: string,
): Promise<void> {
  const mocks = await startChild<MockPorts>("mocks", join(here, "targets", "mocks.js"), mockArgs, pinned(pinning.client));
  children.push(mocks);
  const seconds = Math.max(5, settings.saturationSeconds);
  const all = [
    { label: "fast path (openai -> openai), saturation, 64 connections", scenario: "saturation64", dir: "mock", model: "mock:mock-model", stream: false },
    { label: "translated (openai -> anthropic), saturation, 64 connections", scenario: "saturation64", dir: "ant", model: "ant:mock-claude", stream: false },
    // Each request alone in its event-loop turns: the per-request fixed costs that batching hides at saturation.
    { label: "fast path (openai -> openai), 1,000 req/s", scenario: "rate1000", dir: "mock-rate", model: "mock:mock-model", stream: false, rate: 1000 },
    {
      label: "fast path streams (openai -> openai), 100 concurrent streams",
      scenario: "stream100",
      dir: "mock-stream",
      model: "mock:mock-model",
      stream: true,
    },
    // Where a translated stream's (and a guarded one's) extra cost per chunk goes.
    {
      label: "translated streams (openai -> anthropic), 100 concurrent streams",
      scenario: "stream100",
      dir: "ant-stream",
      model: "ant:mock-claude",
      stream: true,
    },
  ];
  const cases = all.filter((c) => !wanted || wanted.includes(c.scenario));
  if (cases.length === 0) throw new Error(`--scenarios: --profile has ${[...new Set(all.map((c) => c.scenario))].join(", ")}`);
  const report: string[] = [];
  for (const c of cases) {
    const dir = join(outDir, "profiles", c.dir);
    mkdirSync(dir, { recursive: true });
    const child = await startChild<{ url: string; token?: string }>(
      "bitrouter",
      join(here, "targets", "bitrouter.js"),
      bitrouterArgs(mocks.ready, "--mode", mode),
      // At a fixed rate the default 1,000 µs sampling interval matches the 1 ms between requests, so every
      // sample would land at the same point of each request's cycle (mostly idle): an interval that drifts.
      { ...pinned(pinning.proxy), nodeArgs: [...SERVING_NODE_FLAGS, "--cpu-prof", "--cpu-prof-dir", dir, ...(c.rate ? ["--cpu-prof-interval", "257"] : [])] },
    );
    const headers = child.ready.token ? { ...JSON_HEADERS, authorization: `Bearer ${child.ready.token}` } : JSON_HEADERS;
    const call: HttpCall = { origin: child.ready.url, path: "/v1/chat/completions", headers, body: chatBody(c.model, c.stream) };
    const target: Target = { name: "bitrouter", pid: child.pid, call: () => call };
    const load = () => (c.stream ? streams(call, 100, seconds * 1000) : c.rate ? fixedRate(call, c.rate, seconds * 1000) : saturation(call, 64, seconds));
    // Warm-up: start-up and JIT stay out of the window below.
    await (c.stream ? streams(call, 100, 2000) : c.rate ? fixedRate(call, c.rate, 2000) : saturation(call, 64, 2));
    const startUs = Number(process.hrtime.bigint() / 1000n);
    const result = await withCpu(target, load);
    const endUs = Number(process.hrtime.bigint() / 1000n);
    await child.stop();
    const newest = readdirSync(dir)
      .filter((f) => f.endsWith(".cpuprofile"))
      .sort()
      .at(-1);
    if (!newest) throw new Error(`no .cpuprofile written in ${dir}`);
    const summary = summarizeProfile(join(dir, newest), 30, { startUs, endUs });
    // A profile of refusals (a misconfigured mode) would look cheap: say so in its heading.
    const failed = result.errors > 0 ? `, ${result.errors} FAILED` : "";
    const what = c.stream
      ? `${result.rps.toFixed(0)} streams/s, first token p50 ${result.ttfbP50?.toFixed(2)} ms, first byte ${result.firstByteP50?.toFixed(2)} ms${failed}`
      : `${result.rps.toFixed(0)} req/s${failed}`;
    const cpu =
      result.cpuUsPerRequest === undefined
        ? ""
        : `, ${result.cpuUsPerRequest.toFixed(0)} CPU µs per ${c.stream ? "stream" : "request"}, core ${((result.cpuBusy ?? 0) * 100).toFixed(0)}% busy (profiler overhead included)`;
    report.push(`## ${c.label}${mode === "plain" ? "" : `, ${mode}`}: ${what}${cpu}\n\nprofile: ${join(dir, newest)}\n\n${summary}`);
  }
  const text = `# BitRouter CPU profiles\n\n${report.join("\n\n")}\n`;
  writeFileSync(join(outDir, "profile.md"), text);
  console.log(text);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
