// What the dashboard shows, read from the server's control socket (the same API whether the
// server runs in this process or as the daemon).
import type { LoadedConfig } from "@bitrouter/config";
import { providerApiKey } from "@bitrouter/config";
import { fetchOverSocket } from "@bitrouter/server/control-client";
import type { ControlRoute as RouteRow, ControlStatus as ServerStatus, ControlUpstream } from "@bitrouter/server/control-client";

export type { ControlUpstream, RouteRow, ServerStatus };

export interface ProviderRow {
  name: string;
  key: "present" | "missing";
}

export interface Snapshot {
  /** "in-process": this process serves and stops on quit; "daemon": attached to another process. */
  mode: "in-process" | "daemon";
  configFile: string;
  home: string;
  status?: ServerStatus;
  routes: RouteRow[];
  providers: ProviderRow[];
  /** Spend on the ledger since 00:00 UTC (micro-USD); undefined when metering is off. */
  spendTodayMicroUsd?: number;
  /** MCP / REST tool providers and today's tool calls (from the ledger, when metering is on). */
  tools?: { upstreams: ControlUpstream[]; callsToday?: number; spendTodayMicroUsd?: number };
  /** Why the server could not be read (it stopped, the socket vanished...). */
  error?: string;
  at: Date;
}

/**
 * Every provider the server's configuration knows (it follows reloads), "present" when the server
 * can route to it; before the server answers, the providers of the local config file.
 */
export function providerRows(loaded: LoadedConfig, status: ServerStatus | undefined): ProviderRow[] {
  const rows = status
    ? status.configured_providers.map((name): ProviderRow => ({ name, key: status.providers.includes(name) ? "present" : "missing" }))
    : Object.values(loaded.config.providers).map((p): ProviderRow => ({ name: p.name, key: providerApiKey(p) !== undefined ? "present" : "missing" }));
  // Providers with a key first: they are the ones that route.
  return rows.sort((a, b) => (a.key === b.key ? 0 : a.key === "present" ? -1 : 1));
}

function startOfUtcDay(now: Date): number {
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
}

/** One poll of the control socket: /status, /routes and today's spend from /usage. */
export async function readSnapshot(socket: string, loaded: LoadedConfig, mode: Snapshot["mode"], now = new Date()): Promise<Snapshot> {
  const base = { mode, configFile: loaded.paths.configFile, home: loaded.paths.home, at: now };
  try {
    const [status, routes, usage, tools, toolUsage] = await Promise.all([
      fetchOverSocket(socket, "/status"),
      fetchOverSocket(socket, "/routes"),
      fetchOverSocket(socket, `/usage?group_by=day&since=${startOfUtcDay(now)}`),
      fetchOverSocket(socket, "/tools/status?ping=0"),
      fetchOverSocket(socket, `/usage?group_by=tool&since=${startOfUtcDay(now)}`),
    ]);
    if (status.status !== 200) throw new Error(`control socket answered HTTP ${status.status}`);
    const s = status.body as ServerStatus;
    const rows = usage.status === 200 ? (usage.body as { rows: { costMicroUsd: number | string }[] }).rows : undefined;
    const toolRows = toolUsage.status === 200 ? (toolUsage.body as { rows: { requests: number; costMicroUsd: number | string }[] }).rows : undefined;
    return {
      ...base,
      status: s,
      routes: routes.status === 200 ? (routes.body as { routes: RouteRow[] }).routes : [],
      providers: providerRows(loaded, s),
      ...(rows ? { spendTodayMicroUsd: rows.reduce((sum, r) => sum + Number(r.costMicroUsd), 0) } : {}),
      ...(tools.status === 200
        ? {
            tools: {
              upstreams: (tools.body as { upstreams: ControlUpstream[] }).upstreams,
              ...(toolRows
                ? { callsToday: toolRows.reduce((n, r) => n + r.requests, 0), spendTodayMicroUsd: toolRows.reduce((sum, r) => sum + Number(r.costMicroUsd), 0) }
                : {}),
            },
          }
        : {}),
    };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" || code === "ECONNREFUSED" ? `the server is not answering on ${socket}` : (error as Error).message;
    return { ...base, routes: [], providers: providerRows(loaded, undefined), error: message };
  }
}

/** Whether a server answers on the control socket (then the dashboard attaches to it). */
export async function serverAnswers(socket: string): Promise<ServerStatus | undefined> {
  try {
    const { status, body } = await fetchOverSocket(socket, "/status");
    return status === 200 ? (body as ServerStatus) : undefined;
  } catch {
    return undefined;
  }
}
