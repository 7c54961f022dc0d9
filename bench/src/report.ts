/**
 * The harness's arithmetic and output: percentiles, the comparison table (added latency and
 * ratios against the direct call and against Portkey), Markdown, and an SVG latency chart.
 */

/** One measured cell: a target under a scenario. Latencies in ms; RSS in bytes. */
export interface Measurement {
  target: string;
  scenario: string;
  /** Completed requests (or streams) per second. */
  rps: number;
  p50: number;
  p90?: number;
  p99: number;
  /**
   * Streams only: time to the first content event (first token), what a user waits for. A proxy
   * may hold a role-only first chunk until content comes, so the first byte is the secondary figure.
   */
  ttfbP50?: number;
  ttfbP99?: number;
  /** Streams only: time to the first body byte, whatever it carries. */
  firstByteP50?: number;
  firstByteP99?: number;
  errors: number;
  /** Of the errors: requests the load generator could not send because the target was not keeping up. */
  late?: number;
  /** CPU time the proxy process used per completed request during the measurement (µs); absent for direct. */
  cpuUsPerRequest?: number;
  /** Share of one core the proxy process used during the measurement (CPU time / wall time). */
  cpuBusy?: number;
  /**
   * Per completed request, during the measurement: page faults of the proxy process (minor: no I/O;
   * major: read from disk) and preemptions of its main thread (another task took its core).
   */
  minorFaultsPerRequest?: number;
  majorFaultsPerRequest?: number;
  preemptionsPerRequest?: number;
  /** Peak resident set (VmHWM) of the proxy process after this measurement; absent for direct. */
  rssBytes?: number;
  /**
   * BitRouter's other targets (translated, +auth, ...): the median over rounds of each round's CPU
   * per request / the fast path's in the same round (see pairedCpuRatios); set by the caller.
   */
  cpuVsFastPath?: { median: number; min: number; max: number };
  note?: string;
}

export interface Row extends Measurement {
  /** p50 minus the direct call's p50 under the same scenario (ms). */
  addedP50?: number;
  addedP99?: number;
  /** Streams: first-token p50 minus the direct call's (ms): the goal is the pass-through's + 1 ms. */
  addedTtfbP50?: number;
  /** rps / direct rps (throughput scenarios) or direct p50 / p50 (fixed rates): above 1 is better. */
  ratioVsDirect?: number;
  ratioVsPortkey?: number;
  /** CPU per request / the pass-through's CPU per request in the same scenario: the headline (1.00 = the floor). */
  cpuVsPassthrough?: number;
}

export const DIRECT = "direct";
export const PORTKEY = "portkey";
export const PASSTHROUGH = "passthrough";
/** BitRouter's plain fast path: the translated and feature rows are also compared with it. */
export const FAST_PATH = "bitrouter";

/** The q-th percentile (0..100) of values, nearest-rank on a sorted copy; NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return percentileSorted(sorted, q);
}

export function percentileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** p50/p90/p99 of a latency sample. */
export function summarize(values: readonly number[]): { p50: number; p90: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentileSorted(sorted, 50), p90: percentileSorted(sorted, 90), p99: percentileSorted(sorted, 99) };
}

/** The figures a measurement may lack (streams only, proxies only, ...): a median where the rounds have them. */
const OPTIONAL_FIGURES = [
  "p90",
  "ttfbP50",
  "ttfbP99",
  "firstByteP50",
  "firstByteP99",
  "cpuUsPerRequest",
  "cpuBusy",
  "minorFaultsPerRequest",
  "majorFaultsPerRequest",
  "preemptionsPerRequest",
] as const;

/**
 * One target's rounds of one scenario as one measurement: the median of each figure over the rounds
 * (rates, latencies, CPU), so that one round disturbed by the host does not decide the row; errors
 * are summed, RSS is the highest seen, and the note says how far the rounds' p50s spread.
 */
export function medianOfRounds(rounds: readonly Measurement[]): Measurement {
  const first = rounds[0];
  if (!first) throw new Error("medianOfRounds: no rounds");
  if (rounds.length === 1) return first;
  const median = (pick: (m: Measurement) => number | undefined): number | undefined => {
    const values = rounds.map(pick).filter((v): v is number => v !== undefined && !Number.isNaN(v));
    return values.length === 0 ? undefined : medianOf(values.sort((a, b) => a - b));
  };
  const p50s = rounds.map((m) => m.p50).filter((v) => !Number.isNaN(v));
  // The spread of each round's CPU per request too: a ratio between two rows is only as firm as this.
  const cpus = rounds.map((m) => m.cpuUsPerRequest).filter((v): v is number => v !== undefined);
  const cpuSpread = cpus.length > 1 ? `, CPU µs ${Math.min(...cpus).toFixed(0)}–${Math.max(...cpus).toFixed(0)}` : "";
  const spread =
    p50s.length > 1 ? `median of ${rounds.length} rounds (p50 ${Math.min(...p50s).toFixed(2)}–${Math.max(...p50s).toFixed(2)}${cpuSpread})` : undefined;
  const notes = [...new Set(rounds.map((m) => m.note).filter((n): n is string => n !== undefined && n !== ""))];
  const late = rounds.reduce((sum, m) => sum + (m.late ?? 0), 0);
  const rss = rounds.map((m) => m.rssBytes).filter((v): v is number => v !== undefined);
  const row: Measurement = {
    target: first.target,
    scenario: first.scenario,
    rps: median((m) => m.rps) ?? Number.NaN,
    p50: median((m) => m.p50) ?? Number.NaN,
    p99: median((m) => m.p99) ?? Number.NaN,
    errors: rounds.reduce((sum, m) => sum + m.errors, 0),
    ...(late > 0 ? { late } : {}),
    ...(rss.length > 0 ? { rssBytes: Math.max(...rss) } : {}),
    ...(notes.length > 0 || spread ? { note: [...notes, spread].filter(Boolean).join("; ") } : {}),
  };
  for (const key of OPTIONAL_FIGURES) {
    const value = median((m) => m[key]);
    if (value !== undefined) row[key] = value;
  }
  return row;
}

/** The median of numbers sorted ascending (at least one). */
function medianOf(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** BitRouter's other targets: translated, +auth, +guardrails, ... (compared with its fast path too). */
export function isFastPathVariant(target: string): boolean {
  return target.startsWith(`${FAST_PATH}-`) || target.startsWith(`${FAST_PATH}+`);
}

/**
 * Each variant of the fast path against the fast path, round by round: the median of the rounds'
 * own ratios of CPU per request. The targets of a round run within a minute of each other, while the
 * VM's speed drifts from round to round (one target's CPU per request moves by ±20% between rounds
 * here), so a ratio taken inside each round cancels most of that drift, where a ratio of two
 * medians can pair a target's fast round with the other's slow one. `rounds`: each target's
 * measurements of one scenario, in round order. Only targets measured in every round the fast
 * path was, with CPU figures in each.
 */
export function pairedCpuRatios(rounds: ReadonlyMap<string, readonly Measurement[]>): Map<string, { median: number; min: number; max: number }> {
  const out = new Map<string, { median: number; min: number; max: number }>();
  const base = rounds.get(FAST_PATH);
  if (!base || base.length < 2) return out;
  for (const [target, taken] of rounds) {
    if (!isFastPathVariant(target) || taken.length !== base.length) continue;
    const ratios = taken.map((m, i) =>
      m.cpuUsPerRequest !== undefined && base[i]!.cpuUsPerRequest ? m.cpuUsPerRequest / base[i]!.cpuUsPerRequest! : Number.NaN,
    );
    if (ratios.some((r) => !Number.isFinite(r))) continue;
    const sorted = [...ratios].sort((a, b) => a - b);
    out.set(target, { median: medianOf(sorted), min: sorted[0]!, max: sorted.at(-1)! });
  }
  return out;
}

/**
 * Compares each measurement with the direct call and with Portkey under the same scenario.
 * Throughput scenarios (`saturation*`) compare req/s; the others compare p50 latency, inverted
 * so that a ratio of 1 means "as good as the reference" and lower means worse.
 */
export function buildRows(measurements: readonly Measurement[]): Row[] {
  const find = (target: string, scenario: string) => measurements.find((m) => m.target === target && m.scenario === scenario);
  return measurements.map((m) => {
    const row: Row = { ...m };
    const direct = find(DIRECT, m.scenario);
    const portkey = find(PORTKEY, m.scenario);
    const throughput = m.scenario.startsWith("saturation");
    const ratio = (ref: Measurement | undefined): number | undefined => {
      if (!ref) return undefined;
      const value = throughput ? m.rps / ref.rps : ref.p50 / m.p50;
      return Number.isFinite(value) ? value : undefined;
    };
    if (direct && m.target !== DIRECT) {
      row.addedP50 = m.p50 - direct.p50;
      row.addedP99 = m.p99 - direct.p99;
      row.ratioVsDirect = ratio(direct);
      if (m.ttfbP50 !== undefined && direct.ttfbP50 !== undefined) row.addedTtfbP50 = m.ttfbP50 - direct.ttfbP50;
    }
    if (portkey && m.target !== PORTKEY) row.ratioVsPortkey = ratio(portkey);
    const floor = find(PASSTHROUGH, m.scenario)?.cpuUsPerRequest;
    if (m.target !== PASSTHROUGH && m.cpuUsPerRequest !== undefined && floor) row.cpuVsPassthrough = m.cpuUsPerRequest / floor;
    return row;
  });
}

const fmt = (value: number | undefined, digits: number): string => (value === undefined || !Number.isFinite(value) ? "" : value.toFixed(digits));
const fmtMb = (bytes: number | undefined): string => (bytes === undefined ? "" : (bytes / 1024 / 1024).toFixed(0));

export const COLUMNS = [
  "target",
  "scenario",
  "req/s",
  "p50 ms",
  "p99 ms",
  "added p50",
  "ratio vs direct",
  "ratio vs portkey",
  "CPU µs/req",
  "CPU vs passthrough",
  "RSS MB",
  "errors",
] as const;

/** The table's cells as strings, one array per row (streams show total latency; TTFB goes in the note). */
export function tableCells(rows: readonly Row[]): string[][] {
  return rows.map((r) => [
    r.target,
    r.scenario,
    fmt(r.rps, 0),
    fmt(r.p50, 2),
    fmt(r.p99, 2),
    r.addedP50 === undefined ? "" : `${r.addedP50 >= 0 ? "+" : ""}${fmt(r.addedP50, 2)}`,
    fmt(r.ratioVsDirect, 2),
    fmt(r.ratioVsPortkey, 2),
    fmt(r.cpuUsPerRequest, 0),
    r.cpuVsPassthrough === undefined ? "" : `${fmt(r.cpuVsPassthrough, 2)}x`,
    fmtMb(r.rssBytes),
    String(r.errors),
  ]);
}

/** A fixed-width text table for the terminal. */
export function textTable(rows: readonly Row[]): string {
  const cells = [COLUMNS.slice() as string[], ...tableCells(rows)];
  const notes = ["note", ...rows.map((r) => rowNote(r))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c, n) => [...c.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))), notes[n]].join("  ").trimEnd()).join("\n");
}

export function markdownTable(rows: readonly Row[]): string {
  const head = [...COLUMNS, "note"];
  const lines = [`| ${head.join(" | ")} |`, `| ${head.map((_, i) => (i < 2 || i === head.length - 1 ? "---" : "---:")).join(" | ")} |`];
  tableCells(rows).forEach((c, i) => lines.push(`| ${[...c, rowNote(rows[i]!)].join(" | ")} |`));
  return lines.join("\n");
}

/**
 * The headline: each proxy's CPU per request as a multiple of the pass-through's, per scenario.
 * CPU time is the proxy's own work, so unlike req/s it does not depend on whether the load
 * generator or the proxy ran out of core first.
 */
export function cpuHeadline(rows: readonly Row[]): string[] {
  const targets = [...new Set(rows.filter((r) => r.cpuVsPassthrough !== undefined).map((r) => r.target))];
  return targets.map((target) => {
    const cells = rows.filter((r) => r.target === target && r.cpuVsPassthrough !== undefined).map((r) => `${r.scenario} ${fmt(r.cpuVsPassthrough, 2)}x`);
    // BitRouter's other rows (translated, +auth, ...) also against its own fast path, as the goals are
    // put: paired round by round where there were rounds (pairedCpuRatios), else the rows' ratio.
    const fast = !isFastPathVariant(target)
      ? []
      : rows
          .filter((r) => r.target === target && r.cpuUsPerRequest !== undefined)
          .flatMap((r) => {
            if (r.cpuVsFastPath) return [`${r.scenario} ${fmt(r.cpuVsFastPath.median, 2)}x`];
            const base = rows.find((b) => b.target === FAST_PATH && b.scenario === r.scenario)?.cpuUsPerRequest;
            return base ? [`${r.scenario} ${fmt(r.cpuUsPerRequest! / base, 2)}x`] : [];
          });
    return `${target}: CPU per request vs the pass-through: ${cells.join(", ")}${fast.length > 0 ? `; vs ${FAST_PATH}: ${fast.join(", ")}` : ""}`;
  });
}

/**
 * Why a run's numbers cannot be quoted, if they cannot: a busy machine at the start (load average
 * above `maxLoad`), or a proxy that was not the bottleneck at saturation (its core partly idle, so
 * req/s measured the load generator instead).
 */
export function runWarnings(loadAverage: number, rows: readonly Row[], maxLoad = 1, minBusy = 0.9): string[] {
  const warnings: string[] = [];
  if (loadAverage > maxLoad)
    warnings.push(`load average ${loadAverage.toFixed(2)} at start (above ${maxLoad}): other work shared the cores; re-run on an idle machine`);
  for (const r of rows) {
    if (r.scenario.startsWith("saturation") && r.cpuBusy !== undefined && r.cpuBusy < minBusy) {
      warnings.push(
        `${r.target} ${r.scenario}: the proxy's core was only ${(r.cpuBusy * 100).toFixed(0)}% busy, so its req/s measured the load generator, not the proxy`,
      );
    }
  }
  return warnings;
}

function rowNote(r: Row): string {
  const parts: string[] = [];
  if (r.ttfbP50 !== undefined) {
    const added = r.addedTtfbP50 === undefined ? "" : ` (${r.addedTtfbP50 >= 0 ? "+" : ""}${fmt(r.addedTtfbP50, 2)} vs direct)`;
    parts.push(`first token p50 ${fmt(r.ttfbP50, 2)}${added} p99 ${fmt(r.ttfbP99, 2)} ms`);
  }
  if (r.firstByteP50 !== undefined) parts.push(`first byte p50 ${fmt(r.firstByteP50, 2)} p99 ${fmt(r.firstByteP99, 2)} ms`);
  if (r.cpuBusy !== undefined && r.scenario.startsWith("saturation")) parts.push(`core ${(r.cpuBusy * 100).toFixed(0)}% busy`);
  if (r.note) parts.push(r.note);
  const paired = r.cpuVsFastPath;
  if (paired) parts.push(`CPU vs ${FAST_PATH} round by round ${fmt(paired.median, 2)}x (rounds ${fmt(paired.min, 2)}–${fmt(paired.max, 2)}x)`);
  return parts.join("; ");
}

const escapeXml = (text: string): string => text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);

/**
 * A grouped horizontal bar chart: one group per scenario, one bar per target, bar length = p50,
 * a thin tick at p99. Plain SVG, no dependencies.
 */
export function latencySvg(rows: readonly Row[], title = "Latency per target (p50 bar, p99 tick), ms"): string {
  const scenarios = [...new Set(rows.map((r) => r.scenario))].filter((s) => rows.some((r) => r.scenario === s && Number.isFinite(r.p50)));
  const targets = [...new Set(rows.map((r) => r.target))];
  const palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  const barH = 12;
  const labelW = 170;
  const plotW = 520;
  const groups = scenarios.map((s) => rows.filter((r) => r.scenario === s && Number.isFinite(r.p50)));
  const height = 40 + groups.reduce((h, g) => h + 22 + g.length * (barH + 3), 0) + 20 + targets.length * 16;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 90}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  let y = 40;
  groups.forEach((group, gi) => {
    const max = Math.max(...group.map((r) => (Number.isFinite(r.p99) ? r.p99 : r.p50)), 0.001);
    parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${escapeXml(scenarios[gi]!)} (scale 0..${max.toFixed(2)} ms)</text>`);
    y += 18;
    for (const r of group) {
      const color = palette[targets.indexOf(r.target) % palette.length]!;
      const w = (r.p50 / max) * plotW;
      parts.push(`<text x="14" y="${y + barH - 2}">${escapeXml(r.target)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}"/>`);
      if (Number.isFinite(r.p99)) {
        const x = labelW + (r.p99 / max) * plotW;
        parts.push(`<line x1="${x.toFixed(1)}" y1="${y}" x2="${x.toFixed(1)}" y2="${y + barH}" stroke="black" stroke-width="2"/>`);
      }
      parts.push(`<text x="${labelW + plotW + 8}" y="${y + barH - 2}">${r.p50.toFixed(2)} / ${Number.isFinite(r.p99) ? r.p99.toFixed(2) : "-"}</text>`);
      y += barH + 3;
    }
    y += 4;
  });
  y += 10;
  targets.forEach((t, i) => {
    parts.push(`<rect x="10" y="${y}" width="10" height="10" fill="${palette[i % palette.length]}"/>`);
    parts.push(`<text x="26" y="${y + 9}">${escapeXml(t)}</text>`);
    y += 16;
  });
  parts.push("</svg>");
  return parts.join("\n");
}
