/**
 * The running server: the HTTP API, the control socket, hot reload and graceful shutdown.
 * Everything built from the configuration (routing table, hooks) hangs off one `Generation`; a
 * reload builds a new one and swaps it in a single assignment, so a request in flight finishes on
 * the generation it started with.
 */
import type { Server } from "node:http";
import { createServer } from "node:http";
import { Server as NetServer } from "node:net";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { getRequestListener } from "@hono/node-server";
import type { ResolvedConfig } from "@bitrouter/config";
import { BUILTIN_PROVIDER_NAMES, parseListen } from "@bitrouter/config";
import { createProviderClient } from "@bitrouter/providers";
import { isLoopbackAddress } from "@bitrouter/auth/net";
import type { RouterHook } from "@bitrouter/core";
import type { Router } from "@bitrouter/router";
import { Balancer, DynamicRoutes, createRouter } from "@bitrouter/router";
import type { AppRuntime, CallerPrincipal } from "./app.js";
import { createApp, createListener } from "./app.js";
import { createControlApp, listRoutes } from "./control.js";
import { fetchOverSocket } from "./control-client.js";
import type { Logger } from "./logger.js";
import { createLogger } from "./logger.js";
import { tuneHeapForServing } from "./heap.js";
import type { Metering } from "./metering.js";
import { openMetering, parseUsageQuery, usageReport } from "./metering.js";
import { paymentHooks, type ToolPayments, upstreamPayer, walletTokens } from "./payments.js";
import type { AuthSetup } from "./security.js";
import { activeAccountAddress, guardrailHooks, setupAuth } from "./security.js";
import type { McpService } from "./mcp.js";
import { createMcpService } from "./mcp.js";
import { createMetrics } from "./metrics.js";
import { startTracing, tracingSettings } from "./tracing.js";
import { createStats, requestLogHook, statsHook } from "./stats.js";
import type { Stats } from "./stats.js";

export interface RuntimeOptions {
  /** Loads (or re-loads) the resolved configuration; throws a readable error when it is invalid. */
  load(): Promise<ResolvedConfig> | ResolvedConfig;
  /** Paths from the home directory resolution. */
  paths: { runDir: string; logsDir?: string; controlSocket?: string; pidFile?: string };
  /** Overrides server.listen (e.g. a test's "127.0.0.1:0"). */
  listen?: string;
  /**
   * The ledger's database (sqlite://, postgres://, mysql://); metering is off without it. Rows the
   * database cannot take at shutdown are kept in `<run-dir>/ledger-spill.jsonl` for the next start.
   */
  database?: { url: string; baseDir?: string; closeTimeoutMs?: number };
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
  /** The environment the standard OTEL_* variables are read from (default: process.env). */
  env?: Record<string, string | undefined>;
}

export interface Generation {
  config: ResolvedConfig;
  router: Router;
  loadedAt: number;
  /** Charges priced MCP tool calls when mpp.enabled (the same payment gate as the router's). */
  toolPayments?: ToolPayments;
  /** The bearer tokens of providers with `auth: {type: wallet}` (models and MCP upstreams alike). */
  walletToken?: (provider: string) => (() => Promise<string>) | undefined;
}

export interface Runtime {
  /** The bound HTTP address, e.g. http://127.0.0.1:8787. */
  readonly url: string;
  /** The same as host:port: what `--listen` (or else server.listen) asked for, with the real port when 0 was asked. */
  readonly listen: string;
  readonly controlSocket: string | undefined;
  readonly logger: Logger;
  readonly stats: Stats;
  readonly dynamicRoutes: DynamicRoutes;
  /** The ledger and its database, when a database is configured. */
  readonly metering: Metering | undefined;
  /** The MCP tool gateway (upstreams follow reloads). */
  readonly mcp: McpService;
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
  tuneHeapForServing();
  const first = await options.load();
  // (logger first: opening the database may need to warn)
  const logger = options.logger ?? createLogger({ level: first.server.log_level, ...(options.paths.logsDir ? { logsDir: options.paths.logsDir } : {}) });
  const client = createProviderClient();
  const ownsLogger = options.logger === undefined;
  const dynamicRoutes = new DynamicRoutes();
  const balancer = new Balancer();
  const stats = createStats();
  const startedAt = Date.now();
  const listen = options.listen ?? first.server.listen;
  const address = parseListen(listen);
  if (!address) throw new Error(`server.listen '${listen}' is not host:port`);
  const metering = options.database
    ? await openMetering(options.database.url, logger, {
        spillFile: join(options.paths.runDir, "ledger-spill.jsonl"),
        ...(options.database.baseDir ? { baseDir: options.database.baseDir } : {}),
        ...(options.database.closeTimeoutMs !== undefined ? { closeTimeoutMs: options.database.closeTimeoutMs } : {}),
      })
    : undefined;
  const authOptions = {
    listenHost: address.host,
    logger,
    ...(options.auth?.keysDir ? { keysDir: options.auth.keysDir } : {}),
    ...(options.auth?.allowOpen ? { allowOpen: true } : {}),
    ...(metering ? { metering } : {}),
  };
  let auth: AuthSetup;
  try {
    auth = await setupAuth(authOptions);
  } catch (error) {
    await metering?.close();
    throw error;
  }

  // Tracing is set up once, from the first configuration (a change needs a restart).
  const traceWith = tracingSettings(first.tracing, options.env ?? process.env);
  const tracing = traceWith ? await startTracing(traceWith) : undefined;
  if (tracing) logger.info("tracing: exporting OpenTelemetry spans over OTLP/HTTP", { endpoint: tracing.endpoint });

  let inflight = 0;
  const metrics = createMetrics({
    inflightRequests: () => inflight,
    providers: () => Object.keys(generation.config.providers).map((name) => ({ name, available: generation.router.table.isAvailable(name) })),
    ...(metering ? { ledger: () => metering.ledger.stats() } : {}),
  });

  const walletSuppliers = new Map<string, () => Promise<string>>();
  const build = async (config: ResolvedConfig, withAuth: AuthSetup = auth): Promise<Generation> => {
    const extra = (await options.hooks?.(config, { logger })) ?? [];
    const guarded = await guardrailHooks(config, logger);
    // Payment after auth and guardrails: a request they refuse is never charged.
    const payments = await paymentHooks(config, { store: metering?.store, requiresAuth: auth.hook !== undefined, logger, keysDir: options.auth?.keysDir });
    const hooks = [
      ...(tracing ? [tracing.hook] : []),
      ...(withAuth.hook ? [withAuth.hook] : []),
      ...guarded,
      ...payments.hooks,
      ...extra,
      statsHook(stats),
      metrics.hook,
      requestLogHook(logger),
      ...(metering ? [metering.hook] : []),
    ];
    const payer = await upstreamPayer(config, { keysDir: options.auth?.keysDir, logger, store: metering?.store });
    const walletToken = await walletTokens(config, { keysDir: options.auth?.keysDir, logger, suppliers: walletSuppliers });
    const router = createRouter(config, {
      hooks,
      client,
      dynamicRoutes,
      balancer,
      requestTimeoutMs: config.server.request_timeout,
      firstByteTimeoutMs: config.server.first_byte_timeout,
      maxResponseBytes: config.server.response_limit,
      ...(payer ? { upstreamPayer: payer } : {}),
      ...(walletToken ? { walletToken } : {}),
    });
    return {
      config,
      router,
      loadedAt: Date.now(),
      ...(payments.tools ? { toolPayments: payments.tools } : {}),
      ...(walletToken ? { walletToken } : {}),
    };
  };
  let generation: Generation;
  const mcp = createMcpService({
    logger,
    auth,
    ...(metering ? { metering } : {}),
    bodyLimit: first.server.body_limit,
    localOnly: auth.mode === "open" && isLoopbackAddress(address.host),
  });
  try {
    generation = await build(first);
    await mcp.apply(first, { pay: generation.toolPayments, walletToken: generation.walletToken }); // upstreams connect in parallel, each bounded by the connect timeout
  } catch (error) {
    await mcp.close();
    auth.close();
    await metering?.close();
    throw error;
  }

  // The runtime object is filled in below; the apps only call into it per request.
  const self = {} as Runtime;
  /** Inference requests until their completion is reported (the ledger closes after the last). */
  const requests = new Set<Promise<void>>();
  const controlApp = createControlApp(self);
  const appRuntime: AppRuntime = {
    router: () => generation.router,
    bodyLimit: () => generation.config.server.body_limit,
    health: () => ({ uptime_s: Math.round((Date.now() - startedAt) / 1000) }),
    logError: (message, fields) => logger.error(message, fields),
    control: controlApp,
    track: (work) => {
      requests.add(work);
      void work.finally(() => requests.delete(work));
    },
    mcp,
    metrics,
    routes: async (principal) => {
      const routes = listRoutes(self);
      // A key limited to some models sees the routes it may call (the same check as a request).
      const caller = principal as CallerPrincipal | undefined;
      return caller ? routes.filter((r) => caller.allowsModel(r.name)) : routes;
    },
    // Through `auth` at call time: a reload may switch to a new operator account (or the first one).
    authorize: async (credential, needAdmin) => (auth.authorize ? await auth.authorize(credential, needAdmin) : undefined),
    crossSite: () => ({ open: auth.mode === "open", listenHost: address.host, corsOrigins: generation.config.server.cors_origins }),
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
  };
  const server = createServer(createListener(appRuntime, createApp(appRuntime)));
  server.keepAliveTimeout = 65_000;
  let draining = false;
  server.on("request", (_req, res) => {
    inflight += 1;
    // During the drain a keep-alive client is told to reconnect elsewhere, not reset mid-request.
    if (draining) res.setHeader("connection", "close");
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
    listen: `${host}:${port}`,
    controlSocket: options.paths.controlSocket,
    logger,
    stats,
    dynamicRoutes,
    metering,
    auth,
    mcp,
    current: () => generation,
    async reload() {
      let nextAuth: AuthSetup | undefined;
      try {
        const config = await options.load();
        const emptied = removesEverything(generation.config, config);
        if (emptied) throw new Error(emptied);
        // A new or newly chosen operator account (`account -g`, `account --set`) takes effect
        // here too; the same account keeps its authenticator (and its spend counters).
        if ((await activeAccountAddress(options.auth?.keysDir)) !== auth.account?.solanaAddress) nextAuth = await setupAuth(authOptions);
        const next = await build(config, nextAuth);
        const previous = generation;
        generation = next; // the swap: new requests see the new table from here on
        if (nextAuth) {
          const previousAuth = auth;
          auth = nextAuth;
          previousAuth.close();
        }
        await mcp.apply(config, { pay: next.toolPayments, walletToken: next.walletToken });
        logger.level = config.server.log_level;
        if (config.server.listen !== previous.config.server.listen && options.listen === undefined) {
          logger.warn("server.listen changed; restart to bind the new address", { listen: config.server.listen });
        }
        logger.info("configuration reloaded", { providers: Object.keys(config.providers).length, models: Object.keys(config.models).length });
        return { ok: true };
      } catch (error) {
        if (nextAuth && nextAuth !== auth) nextAuth.close();
        const message = error instanceof Error ? error.message : String(error);
        logger.error("reload failed; the previous configuration keeps serving", { error: message });
        return { ok: false, error: message };
      }
    },
    shutdown(reason = "shutdown") {
      shuttingDown ??= (async () => {
        logger.info("shutting down: draining in-flight requests", { reason, inflight });
        draining = true;
        // Stop accepting. (Not server.close(): it would also cut idle keep-alive sockets at once,
        // resetting a request a client is sending on one right now. They get Connection: close.)
        const drained = new Promise<void>((resolve) => netClose.call(server, () => resolve()));
        mcp.closeStreams(); // MCP clients' GET streams never end on their own
        const deadline = Date.now() + (options.drainTimeoutMs ?? 30_000);
        while (inflight > 0 && Date.now() < deadline) await sleep(25);
        if (inflight > 0) logger.warn("drain timeout: closing remaining connections", { inflight });
        server.closeAllConnections();
        await drained;
        // Requests cut above report their outcome as they unwind: meter them before the ledger closes.
        await settled([...requests], REPORT_GRACE_MS);
        // Their onComplete hooks run on the tick after their answer (completeAfterTurn): let it pass.
        await new Promise((resolve) => setImmediate(resolve));
        const step = async (name: string, run: () => unknown) => {
          try {
            await run();
          } catch (error) {
            logger.error(`shutdown: ${name} failed`, { error: error instanceof Error ? error.message : String(error) });
          }
        };
        await step("control socket", () => control?.close());
        await step("router", () => generation.router.close());
        await step("MCP upstreams", () => mcp.close());
        await step("HTTP client", () => client.close());
        await step("onShutdown", () => options.onShutdown?.());
        await step("tracing", () => tracing?.shutdown());
        await step("auth", () => auth.close());
        await step("ledger", () => metering?.close()); // every accepted request is on the ledger, or in its spill file
        if (options.paths.pidFile) rmSync(options.paths.pidFile, { force: true });
        logger.info("stopped");
        // A logger of the caller's stays open, but its batched lines are written before the exit that follows.
        await step("logger", () => (ownsLogger ? logger.close() : logger.flush()));
        resolveClosed();
      })();
      return shuttingDown;
    },
    closed,
  } satisfies Runtime);
  // Reload may replace the auth setup: readers (the control API) see the current one.
  Object.defineProperty(runtime, "auth", { get: () => auth, enumerable: true });

  const control = options.paths.controlSocket ? await startControl(options.paths.controlSocket, controlApp, logger) : undefined;
  if (options.paths.pidFile) {
    mkdirSync(dirname(options.paths.pidFile), { recursive: true });
    writeFileSync(options.paths.pidFile, `${process.pid}\n`);
  }
  logger.info("listening", { url, control: options.paths.controlSocket });
  return runtime;
}

/**
 * Why a reload must not swap in `next`: it drops every model, or every provider, that `previous`
 * defined. That is what an empty or truncated bitrouter.yaml (a half-written save) looks like,
 * and swapping it in would silently stop serving every route. A deliberate wipe takes a restart.
 */
function removesEverything(previous: ResolvedConfig, next: ResolvedConfig): string | undefined {
  const custom = (config: ResolvedConfig) => Object.keys(config.providers).filter((name) => !(BUILTIN_PROVIDER_NAMES as readonly string[]).includes(name));
  const lost =
    Object.keys(previous.models).length > 0 && Object.keys(next.models).length === 0
      ? "models"
      : custom(previous).length > 0 && custom(next).length === 0
        ? "providers"
        : undefined;
  if (!lost) return undefined;
  return `the new configuration defines no ${lost}, but the running one does (${lost === "models" ? Object.keys(previous.models).join(", ") : custom(previous).join(", ")}): is bitrouter.yaml empty or cut short? Keeping the running configuration; restart the server to apply an empty one on purpose`;
}

/** Wires SIGHUP to reload and SIGTERM/SIGINT to a graceful shutdown (for `bitrouter serve`). */
export function handleSignals(runtime: Runtime): () => void {
  const onHup = () => void runtime.reload();
  const onTerm = (signal: NodeJS.Signals) =>
    void runtime.shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        runtime.logger.error("shutdown failed", { error: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      },
    );
  process.on("SIGHUP", onHup);
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onTerm);
  return () => {
    process.off("SIGHUP", onHup);
    process.off("SIGTERM", onTerm);
    process.off("SIGINT", onTerm);
  };
}

async function startControl(
  socketPath: string,
  app: { fetch(request: Request): Response | Promise<Response> },
  logger: Logger,
): Promise<{ close(): Promise<void> }> {
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

/** How long shutdown waits for cut requests to report before closing the ledger. */
const REPORT_GRACE_MS = 1_000;
const netClose = NetServer.prototype.close;

/** Resolves when every promise settled, or after `ms`. */
async function settled(work: Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([Promise.allSettled(work), timeout]);
  clearTimeout(timer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
