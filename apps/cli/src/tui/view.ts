// The dashboard's text and geometry, as plain functions of the data and the terminal size
// (blessed only draws what these return).
import type { Snapshot } from "./data.js";
import { usd } from "../money.js";

export type PanelName = "server" | "traffic" | "providers" | "routes";
export const PANELS: readonly PanelName[] = ["server", "traffic", "providers", "routes"];
export const TITLES: Record<PanelName, string> = { server: "Server", traffic: "Traffic", providers: "Providers", routes: "Routes" };

/** Below this many columns the panels stack; from it on they sit in a 2x2 grid. */
export const WIDE_COLUMNS = 100;

export interface Box {
  top: number;
  left: number;
  width: number;
  height: number;
}

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

const int = (n: number) => n.toLocaleString("en-US");
const row = (label: string, value: string) => `${label.padEnd(10)}${value}`;

/** Panel contents (blessed tags for colour; user-supplied names are escaped by the caller's `escape`). */
export function panelText(snapshot: Snapshot, escapeText: (text: string) => string = (t) => t): Record<PanelName, string> {
  const s = snapshot.status;
  const server: string[] = [];
  if (snapshot.mode === "in-process") server.push(row("mode", "{green-fg}in this process{/green-fg} (stops on quit)"));
  else server.push(row("mode", `{green-fg}daemon{/green-fg}${s ? ` (pid ${s.pid})` : ""}`));
  if (snapshot.error) server.push(row("state", `{red-fg}${escapeText(snapshot.error)}{/red-fg}`));
  if (s) {
    server.push(row("url", escapeText(s.url)), row("listen", escapeText(s.listen)), row("uptime", duration(s.uptime_s)));
  }
  server.push(row("config", escapeText(snapshot.configFile)));
  if (s?.config_loaded_at) server.push(row("loaded", s.config_loaded_at.replace("T", " ").replace(/\.\d+Z$/, "Z")));

  const traffic: string[] = [];
  if (s) {
    const st = s.stats;
    const errors = st.errors > 0 ? `{red-fg}${int(st.errors)}{/red-fg}` : "0";
    traffic.push(
      row("requests", `${int(st.requests)}   errors ${errors}   streams ${int(st.streams)}`),
      row("rate", `${st.rps.toFixed(1)} req/s (last 10 s)`),
      row("latency", `p50 ${Math.round(st.latencyP50)} ms   p99 ${Math.round(st.latencyP99)} ms`),
      row("tokens", `in ${int(st.inputTokens)}   out ${int(st.outputTokens)}`),
      row(
        "spend",
        `session ${usd(st.costMicroUsd)}   today ${snapshot.spendTodayMicroUsd === undefined ? "n/a (no ledger)" : usd(snapshot.spendTodayMicroUsd)}`,
      ),
    );
    const busiest = Object.entries(st.byModel)
      .sort((a, b) => b[1].requests - a[1].requests)
      .slice(0, 5);
    if (busiest.length > 0) {
      traffic.push("by model");
      for (const [model, m] of busiest)
        traffic.push(`  ${escapeText(model).padEnd(24)} ${String(m.requests).padStart(6)} req ${String(m.errors).padStart(4)} err`);
    }
  } else {
    traffic.push("no data");
  }

  const providers = snapshot.providers
    .filter((p) => !snapshot.tools?.upstreams.some((u) => u.name === p.name))
    .map((p) => `${escapeText(p.name).padEnd(16)}${p.key === "present" ? "{green-fg}key present{/green-fg}" : "{yellow-fg}key missing{/yellow-fg}"}`);
  const upstreams = snapshot.tools?.upstreams ?? [];
  if (upstreams.length > 0) {
    const calls = snapshot.tools?.callsToday;
    providers.push(`MCP / tools${calls === undefined ? "" : `   ${int(calls)} calls today, ${usd(snapshot.tools?.spendTodayMicroUsd ?? 0)}`}`);
    for (const u of upstreams) {
      const state =
        u.state === "connected"
          ? "{green-fg}connected{/green-fg}"
          : u.state === "failed"
            ? `{red-fg}failed: ${escapeText(u.error ?? "")}{/red-fg}`
            : `{yellow-fg}${u.state}{/yellow-fg}`;
      providers.push(`  ${escapeText(u.name).padEnd(14)}${u.transport.padEnd(6)}${state}${u.tools === undefined ? "" : `  ${u.tools} tools`}`);
    }
  }

  const routes: string[] = [];
  if (snapshot.routes.length === 0) routes.push("none: ask for provider:model_id (e.g. openai:gpt-4o)");
  for (const r of snapshot.routes) {
    const requests = s?.stats.byModel[r.name]?.requests ?? 0;
    routes.push(`${escapeText(r.name).padEnd(14)} ${r.source.padEnd(8)} ${r.strategy.padEnd(13)} ${String(requests).padStart(5)} req`);
    routes.push(`  -> ${escapeText(r.endpoints.join(", "))}`);
  }
  return { server: server.join("\n"), traffic: traffic.join("\n"), providers: providers.join("\n"), routes: routes.join("\n") };
}

/**
 * Where each panel goes. Rows 0 and `rows - 1` are the header and the footer. Wide: Server and
 * Traffic side by side on top, Providers and Routes below. Narrow: one column, each panel as tall
 * as its content, the last one taking what is left.
 */
export function layout(cols: number, rows: number, lines: Record<PanelName, number>): Record<PanelName, Box> {
  const top = 1;
  const available = Math.max(rows - 2, 4);
  if (cols >= WIDE_COLUMNS) {
    const half = Math.floor(cols / 2);
    const upper = Math.min(Math.max(lines.server, lines.traffic) + 2, Math.max(available - 4, 3));
    const lower = Math.max(available - upper, 3);
    return {
      server: { top, left: 0, width: half, height: upper },
      traffic: { top, left: half, width: cols - half, height: upper },
      providers: { top: top + upper, left: 0, width: half, height: lower },
      routes: { top: top + upper, left: half, width: cols - half, height: lower },
    };
  }
  // Narrow: Server and Traffic as tall as their content (while leaving 3 rows to each of the
  // others), then Providers and Routes share the rest in proportion to what they hold.
  const box = (y: number, height: number): Box => ({ top: y, left: 0, width: cols, height });
  const server = Math.max(Math.min(lines.server + 2, available - 9), 3);
  const traffic = Math.max(Math.min(lines.traffic + 2, available - server - 6), 3);
  const rest = Math.max(available - server - traffic, 6);
  const wantProviders = lines.providers + 2;
  const wantRoutes = lines.routes + 2;
  let providers = wantProviders + wantRoutes <= rest ? wantProviders : Math.round((rest * wantProviders) / (wantProviders + wantRoutes));
  providers = Math.min(Math.max(providers, 3), rest - 3);
  return {
    server: box(top, server),
    traffic: box(top + server, traffic),
    providers: box(top + server + traffic, providers),
    routes: box(top + server + traffic + providers, rest - providers),
  };
}

/** Cut a panel's text to the lines that fit, saying how many were left out. */
export function fit(text: string, rows: number): string {
  const lines = text.split("\n");
  if (lines.length <= rows) return text;
  if (rows < 3) return lines.slice(0, Math.max(rows, 0)).join("\n"); // no room for the note
  const kept = lines.slice(0, rows - 1);
  return [...kept, `... ${lines.length - kept.length} more lines (enlarge the terminal)`].join("\n");
}

export const FOOTER = " q quit   Ctrl+C quit   r reload config";
