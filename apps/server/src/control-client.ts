// The client side of the control API: a tiny module of its own (no server code), so the CLI can
// talk to a running server without loading the whole server stack.
import { request } from "node:http";
import type { DynamicRoute } from "@bitrouter/router";
import type { StatsSnapshot } from "./stats.js";

/** GET /status on the control socket. */
export interface ControlStatus {
  pid: number;
  uptime_s: number;
  url: string;
  /** The address the server listens on (from --listen when given), not the configuration's. */
  listen: string;
  config_loaded_at: string;
  /** Providers the server can route to (an api_base and a key). */
  providers: string[];
  /** Every provider of the loaded configuration, usable or not (follows reloads). */
  configured_providers: string[];
  /** Virtual models from the configuration. */
  models: string[];
  dynamic_routes: DynamicRoute[];
  /** The routes with their counters, as GET /routes and GET /v1/routes give them. */
  routes: ControlRoute[];
  stats: StatsSnapshot;
}

/** One upstream of GET /tools/status on the control socket (an MCP server or a REST tool provider). */
export interface ControlUpstream {
  name: string;
  transport: "http" | "stdio" | "rest";
  state: "connecting" | "connected" | "failed" | "closed";
  error?: string;
  /** Tools it lists, before filters. */
  tools?: number;
  /** Of those, hidden by guardrails.tools filters. */
  hidden?: number;
  lastPingMs?: number;
  bridge: boolean;
}

/** One entry of GET /routes on the control socket (and of GET /v1/routes). */
export interface ControlRoute {
  name: string;
  source: "config" | "dynamic";
  strategy: string;
  endpoints: string[];
  /** Requests to this route since the server started, and how many of them failed. */
  requests: number;
  errors: number;
}

/** GET/POST to a server on a Unix socket (the control API). */
export async function fetchOverSocket(
  socketPath: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
    const req = request(
      {
        socketPath,
        path,
        method: init.method ?? "GET",
        headers: payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {},
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // plain text answer
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("control socket timed out")));
    req.end(payload);
  });
}
