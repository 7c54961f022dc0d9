import { Hono } from "hono";
import { parseUsageQuery, usageReport } from "./metering.js";
import type { ControlRoute, ControlStatus } from "./control-client.js";
import type { Runtime } from "./runtime.js";

const REVOCATION_RETRY_MS = 2_000;

/**
 * Records revocations in the database. While it is unreachable they are enforced here already, and
 * written when it answers again (retried every 2 s), so other instances learn of them too.
 */
function revocationWriter(runtime: Runtime) {
  const unsaved = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  const write = async (keyId: string, reason: string): Promise<boolean> => {
    try {
      const { revokeKey } = await import("@bitrouter/store"); // loaded with a database only (see openMetering)
      await revokeKey(runtime.metering!.store, keyId, reason);
      unsaved.delete(keyId);
      return true;
    } catch (error) {
      if (!unsaved.has(keyId)) {
        runtime.logger.warn("cannot record a revocation in the database yet; enforced here, written when it is back", {
          key_id: keyId,
          error: runtime.metering!.store.describeError(error),
        });
      }
      unsaved.set(keyId, reason);
      return false;
    }
  };
  const retry = () => {
    if (timer || unsaved.size === 0) return;
    timer = setTimeout(async () => {
      timer = undefined;
      for (const [keyId, reason] of [...unsaved]) await write(keyId, reason);
      retry();
    }, REVOCATION_RETRY_MS);
    timer.unref();
  };
  return {
    async save(keyId: string, reason: string): Promise<boolean> {
      const ok = await write(keyId, reason);
      retry();
      return ok;
    },
  };
}

const STRATEGIES = new Set(["priority", "load_balance"]);
const TARGET = /^[^:\s]+:\S+$/;

/** Every route (dynamic ones first: they shadow configured ones) with its counters since start. */
export function listRoutes(runtime: Pick<Runtime, "current" | "dynamicRoutes" | "stats">): ControlRoute[] {
  const g = runtime.current();
  const byRoute = runtime.stats.snapshot().byModel;
  const counters = (name: string) => ({ requests: byRoute[name]?.requests ?? 0, errors: byRoute[name]?.errors ?? 0 });
  const configured = Object.entries(g.config.models).map(
    ([name, m]): ControlRoute => ({
      name,
      source: "config",
      strategy: m.strategy,
      endpoints: m.endpoints.map((e) => `${e.provider}:${e.model_id}`),
      ...counters(name),
    }),
  );
  const dynamic = runtime.dynamicRoutes.list().map((r): ControlRoute => ({ ...r, source: "dynamic", ...counters(r.name) }));
  return [...dynamic, ...configured];
}

/**
 * The control API, served only on the Unix control socket (`<run-dir>/bitrouter.sock`): whoever can
 * open the socket file owns the server. Used by `bitrouter reload | route | status` and the TUI.
 */
export function createControlApp(runtime: Runtime): Hono {
  const app = new Hono();
  app.get("/status", (c) => {
    const g = runtime.current();
    const status: ControlStatus = {
      pid: process.pid,
      uptime_s: Math.round(process.uptime()),
      url: runtime.url,
      listen: runtime.listen,
      config_loaded_at: new Date(g.loadedAt).toISOString(),
      providers: Object.keys(g.config.providers).filter((p) => g.router.table.isAvailable(p)),
      configured_providers: Object.keys(g.config.providers),
      models: Object.keys(g.config.models),
      dynamic_routes: runtime.dynamicRoutes.list(),
      routes: listRoutes(runtime),
      stats: runtime.stats.snapshot(),
    };
    return c.json(status);
  });
  app.get("/usage", async (c) => {
    if (!runtime.metering) return c.json({ error: "metering is off: no database configured" }, 404);
    const query = parseUsageQuery(new URL(c.req.url).searchParams);
    if ("error" in query) return c.json(query, 400);
    return c.json(await usageReport(runtime.metering, query));
  });
  const revocations = revocationWriter(runtime);
  app.post("/keys/:id/revoke", async (c) => {
    const keyId = c.req.param("id");
    const body = (await c.req.json().catch(() => ({}))) as { reason?: unknown };
    const reason = typeof body.reason === "string" && body.reason !== "" ? body.reason : "revoked by the operator";
    const auth = runtime.auth.authenticator;
    auth?.revoke(keyId); // at once on this instance; others poll the database
    const stored = runtime.metering ? await revocations.save(keyId, reason) : false;
    runtime.logger.info("key revoked", { key_id: keyId, stored });
    return c.json({ ok: true, key_id: keyId, enforced: auth !== undefined, stored });
  });
  // MCP upstreams (connected or the error, tool counts, hidden by filters, ping) and every tool.
  app.get("/tools/status", async (c) => c.json(await runtime.mcp.status({ ping: c.req.query("ping") !== "0" })));
  // Every tool the gateway serves (filters applied); `?server=<name>` keeps one upstream's.
  app.get("/tools", async (c) => {
    const server = c.req.query("server");
    if (server !== undefined && !(await runtime.mcp.status({ ping: false })).upstreams.some((u) => u.name === server)) {
      return c.json({ error: `no MCP or REST tool provider named '${server}'` }, 404);
    }
    const tools = (await runtime.mcp.listTools({})).filter((t) => server === undefined || t.server === server);
    return c.json({
      tools: tools.map(({ tool, server: from, upstreamName }) => ({
        name: tool.name,
        ...(from ? { server: from, tool: upstreamName } : {}),
        description: tool.description ?? "",
        input_schema: tool.inputSchema,
      })),
    });
  });
  app.post("/reload", async (c) => {
    const result = await runtime.reload();
    return c.json(result, result.ok ? 200 : 422);
  });
  app.get("/routes", (c) => c.json({ routes: listRoutes(runtime) }));
  app.post("/routes", async (c) => {
    let body: { name?: unknown; endpoints?: unknown; strategy?: unknown };
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: "body must be JSON: {name, endpoints, strategy}" }, 400);
    }
    const { name, endpoints, strategy = "priority" } = body;
    if (typeof name !== "string" || !/^[A-Za-z0-9._\-/]+$/.test(name) || name.includes(":")) {
      return c.json({ error: "name must be a non-empty model name without ':' or spaces" }, 400);
    }
    if (!Array.isArray(endpoints) || endpoints.length === 0 || !endpoints.every((e) => typeof e === "string" && TARGET.test(e))) {
      return c.json({ error: "endpoints must be one or more provider:model_id strings" }, 400);
    }
    if (typeof strategy !== "string" || !STRATEGIES.has(strategy)) {
      return c.json({ error: `strategy must be priority or load_balance, got '${String(strategy)}'` }, 400);
    }
    const table = runtime.current().router.table;
    for (const target of endpoints as string[]) {
      const provider = target.slice(0, target.indexOf(":"));
      if (!table.isAvailable(provider)) {
        return c.json({ error: `provider '${provider}' is unknown or has no API key` }, 400);
      }
    }
    const shadows = name in runtime.current().config.models;
    runtime.dynamicRoutes.set({ name, endpoints: endpoints as string[], strategy: strategy as "priority" | "load_balance" });
    runtime.logger.info("dynamic route added", { name, endpoints: (endpoints as string[]).join(","), strategy });
    return c.json({
      ok: true,
      route: runtime.dynamicRoutes.get(name),
      ...(shadows ? { warning: `shadows the configured model '${name}' until removed` } : {}),
    });
  });
  app.delete("/routes/:name", (c) => {
    const name = c.req.param("name");
    if (!runtime.dynamicRoutes.delete(name)) {
      const configured = name in runtime.current().config.models;
      return c.json({ error: configured ? `'${name}' is defined in the config file, not a dynamic route` : `no dynamic route named '${name}'` }, 404);
    }
    runtime.logger.info("dynamic route removed", { name });
    return c.json({ ok: true });
  });
  return app;
}
