/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`) and summarises self time: by area (a package,
 * Node internals, GC) and by function, as Markdown tables.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  /** Microseconds on the monotonic clock (the same clock as process.hrtime on Linux). */
  startTime?: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The area a script URL belongs to: a workspace package, an npm package, node internals or a V8 pseudo-frame. */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node internals";
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url) ?? /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pnpm) return pnpm[1]!;
  const workspace = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (workspace) return `@bitrouter/${workspace[2]}`;
  return url;
}

/** A time window in monotonic microseconds: only samples inside it count (e.g. the load, not the start-up). */
export interface Window {
  startUs: number;
  endUs: number;
}

/** Self time per area and per function, in ms, largest first. */
export function selfTimes(profile: CpuProfile, window?: Window): { totalMs: number; areas: [string, number][]; functions: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime ?? 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.startUs || at > window.endUs)) return;
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const ms = us / 1000;
    total += ms;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const file = url ? url.replace(/^.*\/(node_modules\/\.pnpm\/[^/]+\/node_modules\/|packages\/|apps\/)/, "") : "";
    const key = `${functionName || "(anonymous)"} ${file ? `${file}:${lineNumber + 1}` : ""}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs: total, areas: sorted(areas), functions: sorted(functions) };
}

export function summarizeProfile(path: string, top = 25, window?: Window): string {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const { totalMs, areas, functions } = selfTimes(profile, window);
  const pct = (ms: number) => `${((ms / totalMs) * 100).toFixed(1)}%`;
  const table = (title: string, rows: [string, number][]) =>
    [
      `| ${title} | self ms | share |`,
      "| --- | ---: | ---: |",
      ...rows.map(([k, ms]) => `| ${k.replace(/\|/g, "\\|")} | ${ms.toFixed(0)} | ${pct(ms)} |`),
    ].join("\n");
  return `${table("area", areas.slice(0, 15))}\n\n${table("function", functions.slice(0, top))}`;
}
