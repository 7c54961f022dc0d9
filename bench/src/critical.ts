/**
 * `node bench/dist/critical.js [--targets buffered,bitrouter] [--rate 1000] [--seconds 2] [--rounds 12]
 *   [--baseline DIR] [--gap S] [--node-flags="..."] [--marks]`: where each proxy's time goes on a request's critical path at a fixed
 * rate, the 1,000 req/s row's question. Every target runs with critical-path.ts preloaded (in: the
 * request event to the upstream write; wait: to the upstream's answer; out: to the answer's write),
 * pinned as in the bench; rounds are interleaved and each row is the median over rounds. Below each
 * target after the first: the median of its per-round differences with the first (paired, so the
 * VM's drift from minute to minute cancels out; a single round moves by tens of µs here).
 *
 * `--baseline DIR` runs `baseline:<target>` from another checkout's `bench/dist` (built), so a change
 * is measured against the code before it in the same run: `--targets baseline:bitrouter,bitrouter`.
 * `bitrouter+auth` (or `+guardrails`, `+metering`, `+tracing`, `+layered`) runs the bench's target of that
 * feature; its paired line also gives the median of its per-round CPU ratios with the first target.
 * `--gap S` leaves every target idle S seconds after each of its turns, as a full bench run does (a
 * target waits there for the ten others), to see what an idle spell costs the turn after it.
 * `--marks` prints the median offsets of `globalThis.__criticalMark?.("label")` calls added by hand
 * to a built file, to split a phase further. Targets: passthrough, buffered, bitrouter[+feature].
 */
import { readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SERVING_NODE_FLAGS } from "@bitrouter/server/heap";
import { toolOptions } from "./cli.js";
import type { CriticalPathReport } from "./critical-path.js";
import { fixedRate } from "./load.js";
import { bitrouterArgs, cpuMsOf, origin, planPinning, startChild, type Child } from "./processes.js";
import type { MockPorts } from "./targets/mocks.js";

const here = dirname(fileURLToPath(import.meta.url));
const values = toolOptions(
  'usage: node bench/dist/critical.js [--targets buffered,bitrouter] [--rate 1000] [--seconds 2] [--rounds 12] [--baseline DIR] [--gap S] [--node-flags="..."] [--marks]\n' +
    "  targets: passthrough, buffered, bitrouter[+auth|+guardrails|+metering|+tracing|+layered], baseline:<target> (with --baseline <checkout>/bench/dist)",
  {
    targets: { type: "string", default: "buffered,bitrouter" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "2" },
    rounds: { type: "string", default: "12" },
    baseline: { type: "string" },
    gap: { type: "string", default: "0" },
    // flags for the targets' node, with "=" (the value starts with a dash): --node-flags="--no-flush-bytecode"
    "node-flags": { type: "string" },
    marks: { type: "boolean", default: false },
  },
);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const gapMs = Number(values.gap) * 1000;
if (!(gapMs >= 0)) throw new Error(`--gap must be a number of seconds, got "${values.gap}"`);
const names = values.targets!.split(",");
if (names.some((n) => n.startsWith("baseline:")) && !values.baseline) throw new Error("baseline:<target> needs --baseline <other checkout>/bench/dist");

interface Row {
  p50Us: number;
  cpuUs: number;
  report: CriticalPathReport;
}
interface Target {
  name: string;
  child: Child<{ url: string; token?: string }>;
  out: string;
  rows: Row[];
}

const pinning = planPinning();
const load = loadavg()[0]!;
console.log(`${pinning.description}; load average ${load.toFixed(2)}${load > 1 ? ": busy, an idle core's costs will not show" : ""}`);
const mocks = await startChild<MockPorts>("mocks", join(here, "targets", "mocks.js"), [], pinning.client ? { cores: pinning.client } : {});
const targets: Target[] = [];
try {
  for (const name of names) {
    const [dir, spec] = name.startsWith("baseline:") ? [values.baseline!, name.slice("baseline:".length)] : [here, name];
    const [kind, feature] = spec.split("+") as [string, string | undefined];
    const args =
      kind === "bitrouter"
        ? bitrouterArgs(mocks.ready, ...(feature ? ["--mode", feature] : []))
        : ["--upstream", origin(mocks.ready.openai), ...(kind === "passthrough" ? ["--idle", origin(mocks.ready.idle)] : [])];
    if (!["bitrouter", "buffered", "passthrough"].includes(kind) || (feature && kind !== "bitrouter"))
      throw new Error(`--targets: no target '${spec}' (passthrough, buffered, bitrouter, bitrouter+<auth|guardrails|metering|tracing|layered>)`);
    const out = join(tmpdir(), `bitrouter-critical-${process.pid}-${targets.length}.json`);
    const child = await startChild<{ url: string; token?: string }>(name, join(dir, "targets", `${kind}.js`), args, {
      ...(pinning.proxy ? { cores: pinning.proxy } : {}),
      // BitRouter as the daemon starts it.
      nodeArgs: [
        ...(kind === "bitrouter" ? SERVING_NODE_FLAGS : []),
        ...(values["node-flags"]?.split(" ").filter(Boolean) ?? []),
        "--import",
        join(here, "critical-path.js"),
      ],
      env: { ...process.env, CRITICAL_PATH_OUT: out },
    });
    targets.push({ name, child, out, rows: [] });
  }
  const body = JSON.stringify({ model: "mock:mock-model", stream: false, max_tokens: 64, messages: [{ role: "user", content: "Say hello." }] });
  const call = (t: Target) => ({
    origin: t.child.ready.url,
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", ...(t.child.ready.token ? { authorization: `Bearer ${t.child.ready.token}` } : {}) },
    body,
  });
  const report = async (t: Target): Promise<CriticalPathReport> => {
    t.child.process.kill("SIGUSR2");
    await new Promise((resolve) => setTimeout(resolve, 200));
    return JSON.parse(readFileSync(t.out, "utf8")) as CriticalPathReport;
  };
  for (const t of targets) await fixedRate(call(t), rate, 3000); // compiled and connected
  for (let round = 0; round < rounds; round++) {
    process.stdout.write(`round ${round + 1}/${rounds}\r`);
    for (const t of targets) {
      await fixedRate(call(t), rate, 500); // its connections warm again after the others' turns
      await report(t);
      const cpuBefore = cpuMsOf(t.child.pid);
      const result = await fixedRate(call(t), rate, seconds * 1000);
      const cpuAfter = cpuMsOf(t.child.pid);
      const cpuUs = cpuBefore === undefined || cpuAfter === undefined ? Number.NaN : ((cpuAfter - cpuBefore) * 1000) / result.completed;
      t.rows.push({ p50Us: result.p50 * 1000, cpuUs, report: await report(t) });
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
  }
  const median = (v: number[]) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const fields: [string, (r: Row) => number][] = [
    ["p50", (r) => r.p50Us],
    ["CPU/req", (r) => r.cpuUs],
    ["in", (r) => r.report.inUs],
    ["wait", (r) => r.report.waitUs],
    ["out", (r) => r.report.outUs],
    ["in+wait+out", (r) => r.report.totalUs],
  ];
  console.log(`\n${rate} req/s, ${rounds} rounds of ${seconds} s, µs (medians over rounds; p50 is the client's, from send to last byte)`);
  console.log(["target".padEnd(22), ...fields.map(([f]) => f.padStart(12))].join(""));
  for (const t of targets) {
    console.log([t.name.padEnd(22), ...fields.map(([, f]) => median(t.rows.map(f)).toFixed(1).padStart(12))].join(""));
    const first = targets[0]!;
    if (t !== first) {
      const diff = (f: (r: Row) => number) => median(t.rows.map((r, i) => f(r) - f(first.rows[i]!)));
      const cpuRatio = median(t.rows.map((r, i) => r.cpuUs / first.rows[i]!.cpuUs));
      console.log(
        [`  - ${first.name}`.padEnd(22), ...fields.map(([, f]) => (diff(f) >= 0 ? "+" : "") + diff(f).toFixed(1)).map((s) => s.padStart(12))].join("") +
          `   CPU ${cpuRatio.toFixed(2)}x`,
      );
    }
    if (values.marks) {
      const labels = [...new Set(t.rows.flatMap((r) => Object.keys(r.report.marks)))];
      const at = labels.map((label) => [label, median(t.rows.map((r) => r.report.marks[label] ?? Number.NaN))] as const).sort((a, b) => a[1] - b[1]);
      if (at.length > 0) console.log(`  marks: ${at.map(([label, us]) => `${label} ${us.toFixed(1)}`).join(" | ")}`);
    }
  }
  const share = (t: Target) => (median(t.rows.map((r) => r.report.measured / Math.max(1, r.report.seen))) * 100).toFixed(1);
  console.log(`requests measured (not overlapping another): ${targets.map((t) => `${t.name} ${share(t)}%`).join(", ")}`);
} finally {
  for (const t of targets) {
    await t.child.stop();
    rmSync(t.out, { force: true });
  }
  await mocks.stop();
}
