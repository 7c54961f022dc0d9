/**
 * The running server: the HTTP API, the control socket, hot reload and graceful shutdown.
 * Everything built from the configuration (routing table, hooks) hangs off one `Generation`; a
 * reload builds a new one and swaps it in a single assignment, so a request in flight finishes on
 * the generation it started with.
 */
import type { Server } from "node:http";
import { createServer } from "node:http";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { getRequestListener } from "@hono/node-server";
import type { ResolvedConfig } from "@bitrouter/config";
import { parseListen } from "@bitrouter/config";
import { createProviderClient } from "@bitrouter/providers";
import type { Router, RouterHook } from "@bitrouter/router";
import { Balancer, DynamicRoutes, createRouter } from "@bitrouter/router";
import { createApp } from "./app.js";
import { createControlApp } from "./control.js";
import { fetchOverSocket } from "./control-client.js";
import type { Logger, LogLevel } from "./logger.js";
import { createLogger } from "./logger.js";
import type { Metering } from "./metering.js";
import { openMetering, parseUsageQuery, usageReport } from "./metering.js";
import { paymentHooks, upstreamPayer } from "./payments.js";
import type { AuthSetup } from "./security.js";
import { guardrailHooks, setupAuth } from "./security.js";
import { createStats, requestLogHook, statsHook } from "./stats.js";
import type { Stats } from "./stats.js";

export interface RuntimeOptions {
  /** Loads (or re-loads) the resolved configuration; throws a readable error when it is invalid. */
  load(): Promise<ResolvedConfig> | ResolvedConfig;
  /** Paths from the home directory resolution. */
  paths: { runDir: string; logsDir?: string; controlSocket?: string; pidFile?: string };
  /** Overrides server.listen (e.g. a test's "127.0.0.1:0"). */
  listen?: string;
  /** The ledger's database (sqlite://, postgres://, mysql://); metering is off without it. */
  database?: { url: string; baseDir?: string };
  /**
   * Caller authentication: the operator keystore (`<home>/.keys`). Without an active account the
   * server runs open, which is refused on a non-loopback address unless `allowOpen`.
   */
  auth?: { keysDir?: string; allowOpen?: boolean };
  /** Extra hooks built per generation, after auth and guardrails; stats, logging and metering come last. */
  hooks?(config: ResolvedConfig, shared: { logger: Logger }): RouterHook[] | Promise<RouterHook[]>;
  /** Called after shutdown drained requests (e.g. flush the ledger). */
  onShutdown?(): Promise<void>;
  logger?: Logger;
  /** How long a graceful shutdown waits for in-flight requests. */
  drainTimeoutMs?: number;
}

interface Generation {
  config: ResolvedConfig;
  router: Router;
  loadedAt: number;
}

export interface Runtime {
  /** The bound HTTP address, e.g. http://127.0.0.1:8787. */
  readonly url: string;
  readonly controlSocket: string | undefined;
  readonly logger: Logger;
  readonly stats: Stats;
  readonly dynamicRoutes: DynamicRoutes;
  /** The ledger and its database, when a database is configured. */
  readonly metering: Metering | undefined;
  readonly auth: AuthSetup;
  current(): Generation;
  /** Re-reads the configuration and swaps routing and hooks; the old config keeps serving on failure. */
  reload(): Promise<{ ok: true } | { ok: false; error: string }>;
  /** Stops accepting, drains in-flight requests, closes everything. */
  shutdown(reason?: string): Promise<void>;
  /** Resolves once the runtime has shut down. */
  readonly closed: Promise<void>;
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const first = await options.load();
  // (logger first: opening the database may need to warn)
  const logger = options.logger ?? createLogger({ level: first.server.log_level as LogLevel, ...(options.paths.logsDir ? { logsDir: options.paths.logsDir } : {}) });
  const client = createProviderClient();
  const ownsLogger = options.logger === undefined;
  const dynamicRoutes = new DynamicRoutes();
  const balancer = new Balancer();
  const stats = createStats();
  const startedAt = Date.now();
  const listen = options.listen ?? first.server.listen;
  const address = parseListen(listen);
  if (!address) throw new Error(`server.listen '${listen}' is not host:port`);
  const metering = options.database ? await openMetering(options.database.url, logger, options.database.baseDir) : undefined;
  let auth: AuthSetup;
  try {
    auth = await setupAuth({
      listenHost: address.host,
      logger,
      ...(options.auth?.keysDir ? { keysDir: options.auth.keysDir } : {}),
      ...(options.auth?.allowOpen ? { allowOpen: true } : {}),
      ...(metering ? { metering } : {}),
    });
  } catch (error) {
    await metering?.close();
    throw error;
  }

  const build = async (config: ResolvedConfig): Promise<Generation> => {
    const extra = (await options.hooks?.(config, { logger })) ?? [];
    // Payment after auth and guardrails: a request they refuse is never charged.
    const payments = await paymentHooks(config, { store: metering?.store, requiresAuth: auth.hook !== undefined, logger });
    const hooks = [
      ...(auth.hook ? [auth.hook] : []),
      ...guardrailHooks(config, logger),
      ...payments,
      ...extra,
      statsHook(stats),
      requestLogHook(logger),
      ...(metering ? [metering.hook] : []),
    ];
    const payer = await upstreamPayer(config, { keysDir: options.auth?.keysDir, logger, store: metering?.store });
    const router = createRouter(config, { hooks, client, dynamicRoutes, balancer, requestTimeoutMs: config.server.request_timeout, ...(payer ? { upstreamPayer: payer } : {}) });
    return { config, router, loadedAt: Date.now() };
  };
  let generation: Generation;
  try {
    generation = await build(first);
  } catch (error) {
    auth.close();
    await metering?.close();
    throw error;
  }

  // The runtime object is filled in below; the apps only call into it per request.
  const self = {} as Runtime;
  const controlApp = createControlApp(self);
  const app = createApp({
    router: () => generation.router,
    bodyLimit: () => generation.config.server.body_limit,
    health: () => ({ uptime_s: Math.round((Date.now() - startedAt) / 1000) }),
    control: controlApp,
    authorize: async (credential, needAdmin) => (auth.authenticator ? await auth.authenticator.authenticate(credential, { needAdmin }) : undefined),
    ...(metering
      ? {
          usage: async (params: URLSearchParams, keyId: string | undefined) => {
            const query = parseUsageQuery(params);
            if ("error" in query) return { status: 400, body: { error: { message: query.error, type: "invalid_request_error" } } };
            if (keyId) query.keyId = keyId;
            return { status: 200, body: await usageReport(metering, query) };
          },
        }
      : {}),
  });
  const server = createServer(getRequestListener(app.fetch));
  server.keepAliveTimeout = 65_000;
  let inflight = 0;
  server.on("request", (_req, res) => {
    inflight += 1;
    res.once("close", () => {
      inflight -= 1;
    });
  });

  await listenOn(server, address.port, address.host);
  const bound = server.address();
  const port = typeof bound === "object" && bound ? bound.port : address.port;
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  const url = `http://${host}:${port}`;

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let shuttingDown: Promise<void> | undefined;

  const runtime: Runtime = Object.assign(self, {
    url,
    controlSocket: options.paths.controlSocket,
    logger,
    stats,
    dynamicRoutes,
    metering,
    auth,
    current: () => generation,
    async reload() {
      try {
        const config = await options.load();
        const next = await build(config);
        const previous = generation;
        generation = next; // the swap: new requests see the new table from here on
        logger.level = config.server.log_level as LogLevel;
        if (config.server.listen !== previous.config.server.listen && options.listen === undefined) {
          logger.warn("server.listen changed; restart to bind the new address", { listen: config.server.listen });
        }
        logger.info("configuration reloaded", { providers: Object.keys(config.providers).length, models: Object.keys(config.models).length });
        return { ok: true };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        logger.error("reload failed; the previous configuration keeps serving", { error: message });
        return { ok: false, error: message };
      }
    },
    shutdown(reason = "shutdown") {
      shuttingDown ??= (async () => {
        logger.info("shutting down: draining in-flight requests", { reason, inflight });
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = Date.now() + (options.drainTimeoutMs ?? 30_000);
        while (inflight > 0 && Date.now() < deadline) await sleep(25);
        if (inflight > 0) logger.warn("drain timeout: closing remaining connections", { inflight });
        server.closeAllConnections();
        await drained;
        await control?.close();
        await generation.router.close();
        await client.close();
        await options.onShutdown?.();
        auth.close();
        await metering?.close(); // after the drain: every accepted request is on the ledger
        if (options.paths.pidFile) rmSync(options.paths.pidFile, { force: true });
        logger.info("stopped");
        if (ownsLogger) await logger.close();
        resolveClosed();
      })();
      return shuttingDown;
    },
    closed,
  } satisfies Runtime);

  const control = options.paths.controlSocket ? await startControl(options.paths.controlSocket, controlApp, logger) : undefined;
  if (options.paths.pidFile) {
    mkdirSync(dirname(options.paths.pidFile), { recursive: true });
    writeFileSync(options.paths.pidFile, `${process.pid}\n`);
  }
  logger.info("listening", { url, control: options.paths.controlSocket });
  return runtime;
}

/** Wires SIGHUP to reload and SIGTERM/SIGINT to a graceful shutdown (for `bitrouter serve`). */
export function handleSignals(runtime: Runtime): () => void {
  const onHup = () => void runtime.reload();
  const onTerm = (signal: NodeJS.Signals) => void runtime.shutdown(signal).then(() => process.exit(0));
  process.on("SIGHUP", onHup);
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onTerm);
  return () => {
    process.off("SIGHUP", onHup);
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onTerm);
  };
}

async function startControl(socketPath: string, app: { fetch(request: Request): Response | Promise<Response> }, logger: Logger): Promise<{ close(): Promise<void> }> {
  mkdirSync(dirname(socketPath), { recursive: true });
  if (existsSync(socketPath)) {
    if (await socketAnswers(socketPath)) throw new Error(`another BitRouter server is already running (control socket ${socketPath} answers)`);
    rmSync(socketPath, { force: true }); // stale socket of a server that died
  }
  const server = createServer(getRequestListener((request) => app.fetch(request)));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  logger.debug("control socket ready", { socket: socketPath });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        rmSync(socketPath, { force: true });
      }),
  };
}

function socketAnswers(socketPath: string): Promise<boolean> {
  return fetchOverSocket(socketPath, "/status")
    .then(() => true)
    .catch(() => false);
}

function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(error.code === "EADDRINUSE" ? new Error(`cannot listen on ${host}:${port}: the address is already in use`) : error);
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
