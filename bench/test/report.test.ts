import { describe, expect, it } from "vitest";
import { areaOf, selfTimes } from "../src/profile.js";
import {
  buildRows,
  cpuHeadline,
  latencySvg,
  markdownTable,
  medianOfRounds,
  pairedCpuRatios,
  percentile,
  runWarnings,
  summarize,
  textTable,
  type Measurement,
} from "../src/report.js";

const m = (target: string, scenario: string, rps: number, p50: number, p99: number, extra: Partial<Measurement> = {}): Measurement => ({
  target,
  scenario,
  rps,
  p50,
  p99,
  errors: 0,
  ...extra,
});

describe("percentiles", () => {
  it("use the nearest rank of the sorted sample", () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 90)).toBe(9);
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(summarize([2])).toEqual({ p50: 2, p90: 2, p99: 2 });
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("comparison rows", () => {
  const rows = buildRows([
    m("direct", "rate1000", 1000, 0.4, 1.0),
    m("bitrouter", "rate1000", 1000, 0.8, 2.5),
    m("portkey", "rate1000", 990, 1.6, 5.0),
    m("direct", "saturation64", 20_000, 3, 6),
    m("bitrouter", "saturation64", 8_000, 8, 15),
    m("portkey", "saturation64", 4_000, 16, 30),
  ]);
  const row = (target: string, scenario: string) => rows.find((r) => r.target === target && r.scenario === scenario)!;

  it("give the added latency over the direct call", () => {
    expect(row("bitrouter", "rate1000").addedP50).toBeCloseTo(0.4);
    expect(row("bitrouter", "rate1000").addedP99).toBeCloseTo(1.5);
    expect(row("direct", "rate1000").addedP50).toBeUndefined();
  });

  it("compare latency at fixed rates and throughput at saturation, 1 = as good as the reference", () => {
    expect(row("bitrouter", "rate1000").ratioVsDirect).toBeCloseTo(0.5);
    expect(row("bitrouter", "rate1000").ratioVsPortkey).toBeCloseTo(2);
    expect(row("bitrouter", "saturation64").ratioVsDirect).toBeCloseTo(0.4);
    expect(row("bitrouter", "saturation64").ratioVsPortkey).toBeCloseTo(2);
    expect(row("portkey", "saturation64").ratioVsPortkey).toBeUndefined();
  });

  it("render every row in the text and Markdown tables", () => {
    const text = textTable(rows);
    expect(text.split("\n")).toHaveLength(rows.length + 1);
    expect(text).toContain("+0.40");
    const md = markdownTable(rows).split("\n");
    expect(md).toHaveLength(rows.length + 2);
    expect(md[2]).toMatch(/^\| direct \| rate1000 \| 1000 \| 0\.40 \|/);
  });
});

describe("stream rows", () => {
  it("give the first token's time over the direct call's, with the first byte beside it", () => {
    const stream = (target: string, ttfb: number, firstByte: number) => ({
      ...m(target, "stream100", 500, 120, 200),
      ttfbP50: ttfb,
      ttfbP99: ttfb * 2,
      firstByteP50: firstByte,
      firstByteP99: firstByte * 2,
    });
    const rows = buildRows([stream("direct", 6, 1), stream("bitrouter", 7.5, 7.5)]);
    expect(rows[1]!.addedTtfbP50).toBeCloseTo(1.5);
    expect(markdownTable(rows)).toContain("first token p50 7.50 (+1.50 vs direct) p99 15.00 ms; first byte p50 7.50 p99 15.00 ms");
  });
});

describe("the CPU headline and the run's honesty checks", () => {
  const rows = buildRows([
    m("direct", "saturation64", 20_000, 3, 6),
    m("passthrough", "saturation64", 9_000, 6, 12, { cpuUsPerRequest: 100, cpuBusy: 0.99 }),
    m("bitrouter", "saturation64", 8_000, 8, 15, { cpuUsPerRequest: 125, cpuBusy: 0.6 }),
    m("passthrough", "rate1000", 1000, 0.5, 1, { cpuUsPerRequest: 200 }),
    m("bitrouter", "rate1000", 1000, 0.6, 1, { cpuUsPerRequest: 300 }),
    m("bitrouter+metering", "rate1000", 1000, 0.6, 1, { cpuUsPerRequest: 330 }),
  ]);

  it("compare each proxy's CPU per request with the pass-through's in the same scenario", () => {
    expect(rows.find((r) => r.target === "bitrouter" && r.scenario === "saturation64")!.cpuVsPassthrough).toBeCloseTo(1.25);
    expect(rows.find((r) => r.target === "passthrough" && r.scenario === "rate1000")!.cpuVsPassthrough).toBeUndefined();
    expect(cpuHeadline(rows)).toEqual([
      "bitrouter: CPU per request vs the pass-through: saturation64 1.25x, rate1000 1.50x",
      "bitrouter+metering: CPU per request vs the pass-through: rate1000 1.65x; vs bitrouter: rate1000 1.10x",
    ]);
    expect(markdownTable(rows)).toContain("| 1.25x |");
  });

  it("mark a run taken on a busy machine, or where a proxy was not the bottleneck at saturation", () => {
    expect(
      runWarnings(
        0.4,
        rows.filter((r) => r.target !== "bitrouter"),
      ),
    ).toEqual([]);
    const warnings = runWarnings(3.2, rows);
    expect(warnings[0]).toMatch(/load average 3\.20 at start \(above 1\)/);
    expect(warnings[1]).toMatch(/bitrouter saturation64: the proxy's core was only 60% busy/);
    expect(warnings).toHaveLength(2);
  });
});

describe("latency chart", () => {
  it("draws one bar per measured row, scaled to the group's slowest p99, with escaped labels", () => {
    const svg = latencySvg([m("a<b", "s1", 1, 1, 2), m("c", "s1", 1, 2, 4), m("d", "s2", 1, Number.NaN, Number.NaN)]);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("a&lt;b");
    const bars = [...svg.matchAll(/<rect x="170" y="\d+" width="([\d.]+)"/g)].map((x) => Number(x[1]));
    expect(bars).toEqual([130, 260]); // p50 1 and 2 on a 0..4 ms scale, 520 px wide
    expect(svg).not.toContain("s2");
  });
});

describe("cpu profile summary", () => {
  it("attributes self time to packages and functions", () => {
    const { totalMs, areas, functions } = selfTimes({
      nodes: [
        { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 }, children: [2, 3] },
        { id: 2, callFrame: { functionName: "route", url: "file:///r/packages/router/dist/pipeline.js", lineNumber: 9 } },
        { id: 3, callFrame: { functionName: "parse", url: "file:///r/node_modules/.pnpm/hono@4.1.0/node_modules/hono/dist/x.js", lineNumber: 0 } },
      ],
      samples: [2, 3, 2],
      timeDeltas: [1000, 3000, 2000],
    });
    expect(totalMs).toBe(6);
    expect(areas).toEqual([
      ["@bitrouter/router", 3],
      ["hono", 3],
    ]);
    expect(functions[0]).toEqual(["route router/dist/pipeline.js:10", 3]);
    expect(areaOf("node:internal/http", "x")).toBe("node internals");
    // A window keeps only the samples taken inside it (timestamps: startTime + running deltas).
    const windowed = selfTimes(
      { startTime: 100, nodes: [{ id: 2, callFrame: { functionName: "f", url: "", lineNumber: 0 } }], samples: [2, 2, 2], timeDeltas: [10, 10, 10] },
      { startUs: 115, endUs: 135 },
    );
    expect(windowed.totalMs).toBeCloseTo(0.02);
    expect(areaOf("", "(garbage collector)")).toBe("(garbage collector)");
  });
});

describe("process CPU time", () => {
  it("reads this process's user+system time from /proc and sees it grow", async () => {
    const { cpuMsOf } = await import("../src/processes.js");
    const before = cpuMsOf(process.pid);
    if (before === undefined) return; // not Linux: the column stays empty
    // Burn 60 ms of this process's own CPU time (not wall-clock: on a loaded machine a wall-clock
    // window may get no CPU at all); /proc counts in 10 ms ticks.
    const start = process.cpuUsage();
    const spent = () => {
      const { user, system } = process.cpuUsage(start);
      return (user + system) / 1000;
    };
    while (spent() < 60);
    expect(cpuMsOf(process.pid)!).toBeGreaterThan(before);
  });
});

describe("rounds", () => {
  const round = (p50: number, cpu: number, extra: Partial<Measurement> = {}): Measurement => ({
    target: "bitrouter",
    scenario: "rate1000",
    rps: 1000,
    p50,
    p99: p50 * 10,
    errors: 0,
    cpuUsPerRequest: cpu,
    rssBytes: p50 * 1e6,
    ...extra,
  });

  it("make a row of each figure's median, so one disturbed round does not decide it", () => {
    const row = medianOfRounds([round(0.5, 300), round(9, 900, { errors: 3, late: 3, note: "3 not sent" }), round(0.6, 320)]);
    expect(row.p50).toBe(0.6);
    expect(row.p99).toBe(6);
    expect(row.cpuUsPerRequest).toBe(320);
    expect(row.errors).toBe(3);
    expect(row.late).toBe(3);
    expect(row.rssBytes).toBe(9e6);
    expect(row.note).toBe("3 not sent; median of 3 rounds (p50 0.50–9.00, CPU µs 300–900)");
  });

  it("leave a single round as it was measured", () => {
    const only = round(0.5, 300);
    expect(medianOfRounds([only])).toBe(only);
  });
});

describe("pairedCpuRatios", () => {
  const rounds = (target: string, cpus: Array<number | undefined>) =>
    cpus.map((cpu) => m(target, "rate1000", 1000, 0.5, 2, cpu === undefined ? {} : { cpuUsPerRequest: cpu }));

  it("takes each variant's ratio to the fast path inside each round, then the median", () => {
    // The third round caught the fast path on a quick spell of the VM and +layered on a slow one: the
    // rows' medians come from different rounds, and their ratio from that one spell.
    const byTarget = new Map([
      ["bitrouter", rounds("bitrouter", [250, 400, 300])],
      ["bitrouter+layered", rounds("bitrouter+layered", [290, 440, 420])],
      ["passthrough", rounds("passthrough", [300, 300, 300])],
    ]);
    const paired = pairedCpuRatios(byTarget);
    expect(paired.get("bitrouter+layered")!.median).toBeCloseTo(1.16, 2);
    expect(paired.get("bitrouter+layered")!.min).toBeCloseTo(1.1, 2);
    expect(paired.get("bitrouter+layered")!.max).toBeCloseTo(1.4, 2);
    // Ratio of the medians, for contrast: 420 / 300.
    expect(medianOfRounds(byTarget.get("bitrouter+layered")!).cpuUsPerRequest! / medianOfRounds(byTarget.get("bitrouter")!).cpuUsPerRequest!).toBeCloseTo(
      1.4,
      2,
    );
    expect(paired.has("passthrough")).toBe(false);
    expect(paired.has("bitrouter")).toBe(false);
  });

  it("leaves out a variant with a round missing or without CPU figures, and a single round", () => {
    expect(
      pairedCpuRatios(
        new Map([
          ["bitrouter", rounds("bitrouter", [250, 300])],
          ["bitrouter+auth", rounds("bitrouter+auth", [260])],
        ]),
      ).size,
    ).toBe(0);
    expect(
      pairedCpuRatios(
        new Map([
          ["bitrouter", rounds("bitrouter", [250, 300])],
          ["bitrouter+auth", rounds("bitrouter+auth", [260, undefined])],
        ]),
      ).size,
    ).toBe(0);
    expect(
      pairedCpuRatios(
        new Map([
          ["bitrouter", rounds("bitrouter", [250])],
          ["bitrouter+auth", rounds("bitrouter+auth", [260])],
        ]),
      ).size,
    ).toBe(0);
  });

  it("is what the headline and the row's note say against the fast path", () => {
    const rows = buildRows([
      { ...m("passthrough", "rate1000", 1000, 0.5, 2), cpuUsPerRequest: 300 },
      { ...m("bitrouter", "rate1000", 1000, 0.5, 2), cpuUsPerRequest: 300 },
      { ...m("bitrouter+layered", "rate1000", 1000, 0.5, 2), cpuUsPerRequest: 420, cpuVsFastPath: { median: 1.16, min: 1.1, max: 1.4 } },
    ]);
    expect(cpuHeadline(rows).find((h) => h.startsWith("bitrouter+layered"))).toContain("vs bitrouter: rate1000 1.16x");
    expect(markdownTable(rows)).toContain("CPU vs bitrouter round by round 1.16x (rounds 1.10–1.40x)");
  });
});
