import { Hono } from "hono";
import type { Context, Env as HonoEnv } from "hono";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { HttpBindings } from "@hono/node-server";
import { getRequestListener } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { ErrorInfo } from "@bitrouter/core";
import { newRequestId, toErrorInfo } from "@bitrouter/core";
import { CODECS } from "@bitrouter/providers";
import type { InboundResult, RouteMatch, Router } from "@bitrouter/router";
import { callerProtocol, callerRequestId, matchPath, notFound, readCredential } from "@bitrouter/router";
import type { CrossSitePolicy } from "./cross-site.js";
import { nodeRequestHeaders } from "./node-headers.js";
import { checkCrossSite, corsHeaders, preflightHeaders } from "./cross-site.js";
import { readBody, serveInference } from "./node-handler.js";

/** A verified caller, as the HTTP endpoints outside the router need it. */
export interface CallerPrincipal {
  keyId?: string;
  scope?: string;
  /** Whether the key's `models` claim allows a model name. */
  allowsModel(model: string): boolean;
}

/** What the HTTP app needs from the running server; `router()` returns the current (hot-swappable) router. */
export interface AppRuntime {
  router(): Router;
  bodyLimit(): number;
  /** Extra facts for GET /health. */
  health(): Record<string, unknown>;
  /**
   * Checks a caller's credential with the current auth set-up (a reload may change it); resolves to
   * its principal, or undefined in open mode (no auth).
   * Throws an error with kind/status/message when refused.
   */
  authorize?(credential: string | undefined, needAdmin: boolean): Promise<CallerPrincipal | undefined>;
  /** Who may call from a browser; open mode refuses cross-site requests. */
  crossSite(): CrossSitePolicy;
  /** The control API, also served under /admin/ to admin tokens. */
  control?: { fetch(request: Request): Response | Promise<Response> };
  /** Told of each inference request's whole life (answer written, completion reported): shutdown waits for them. */
  track?(work: Promise<void>): void;
  /** GET /v1/routes: the routes the caller may use (its key's model patterns), with their counters. */
  routes?(principal: unknown): Promise<unknown[]>;
  /** GET /metrics (Prometheus text), protected like /admin. */
  metrics?: { contentType: string; render(): Promise<string> };
  /** Usage rows from the ledger (GET /v1/usage), when metering is on. */
  usage?(params: URLSearchParams, keyId: string | undefined): Promise<{ status: number; body: unknown }>;
  /** A bug surfaced as a 500: the caller gets an opaque error, the operator the details. */
  logError?(message: string, fields: Record<string, unknown>): void;
  /** The MCP tool gateway's routes (`/mcp`, `/mcp/<name>`, `GET /v1/tools`). */
  mcp?: { mount<E extends HonoEnv>(app: Hono<E>): void };
}

/** The Hono environment of the app: Node bindings and the per-request variables. */
export type Env = { Bindings: HttpBindings; Variables: { requestId: string; replyId: string; refusal: ErrorInfo | undefined } };

/** The public API: one route per inbound protocol, plus models and health. */
export function createApp(runtime: AppRuntime): Hono<Env> {
  const app = new Hono<Env>();

  // The server makes every request's id (the ledger's key: unique whatever callers send). The
  // answer's x-request-id echoes the caller's own id when it sent one, so its traces still join up.
  app.use(async (c, next) => {
    const ids = requestIds(c.req.raw.headers);
    c.set("requestId", ids.requestId);
    c.set("replyId", ids.replyId);
    await next();
    if (c.res !== RESPONSE_ALREADY_SENT) c.header("x-request-id", c.get("replyId"));
  });

  /** Errors of the non-inference endpoints use OpenAI's error shape. */
  const fail = (c: Context<Env>, error: unknown) => {
    const { status, body } = CODECS["openai-chat"].encodeError(toErrorInfo(error));
    return c.json(body, status as 400);
  };

  // Cross-site requests (see cross-site.ts). Inference refusals go through the router, so they are
  // answered in the caller's protocol and land on the ledger like any other request.
  app.use(async (c, next) => {
    const policy = runtime.crossSite();
    const headers = c.req.raw.headers;
    const origin = headers.get("origin");
    if (c.req.method === "OPTIONS") {
      if (origin !== null && policy.corsOrigins.includes(origin)) {
        return c.body(null, 204, preflightHeaders(origin, headers.get("access-control-request-headers")));
      }
      return fail(c, { kind: "permission", status: 403, message: `origin ${origin ?? "(none)"} is not in server.cors_origins` });
    }
    // (Computed only when needed: the common case, a local program, takes none of these branches.)
    const inference = () => c.req.method === "POST" && matchPath("POST", c.req.path)?.kind === "inference";
    const verdict = checkCrossSite(headers, () => c.req.method === "POST" && (inference() || c.req.path.startsWith("/admin/")), policy);
    if (verdict.refusal) {
      if (!inference()) return fail(c, verdict.refusal);
      c.set("refusal", verdict.refusal);
    }
    if (verdict.corsOrigin !== undefined) {
      // Inference answers are written straight to the Node response; the rest go through Hono.
      for (const [name, value] of Object.entries(corsHeaders(verdict.corsOrigin))) c.env?.outgoing?.setHeader(name, value);
    }
    await next();
    if (verdict.corsOrigin !== undefined && c.res !== RESPONSE_ALREADY_SENT) {
      for (const [name, value] of Object.entries(corsHeaders(verdict.corsOrigin))) c.header(name, value);
    }
  });

  app.get("/health", (c) => c.json({ status: "ok", ...runtime.health() }));

  // The control API for admin tokens (the Unix socket serves it without tokens to local operators).
  app.all("/admin/*", async (c) => {
    if (!runtime.control) return c.notFound();
    const url = new URL(c.req.url);
    if (!runtime.authorize || runtime.crossSite().open) {
      // Open mode has no tokens, so nothing over HTTP can prove it is the operator.
      return fail(c, {
        kind: "permission",
        status: 403,
        message:
          "the admin API over HTTP needs an admin token, and this server runs without accounts (open mode): use the control socket instead (`bitrouter status | route | reload`)",
      });
    }
    try {
      await runtime.authorize(readCredential(c.req.raw.headers, url), true);
    } catch (error) {
      return fail(c, error);
    }
    url.pathname = url.pathname.slice("/admin".length) || "/";
    return runtime.control.fetch(new Request(url, c.req.raw));
  });

  // Prometheus scrapes: operator data, so an admin token outside open mode (as /admin).
  app.get("/metrics", async (c) => {
    if (!runtime.metrics) return c.notFound();
    try {
      await runtime.authorize?.(readCredential(c.req.raw.headers, new URL(c.req.url)), true);
    } catch (error) {
      return fail(c, error);
    }
    return c.body(await runtime.metrics.render(), 200, { "content-type": runtime.metrics.contentType });
  });

  // Spend and tokens: a key sees its own usage, an admin token (or open mode) everyone's.
  app.get("/v1/usage", async (c) => {
    if (!runtime.usage) return fail(c, { kind: "not_found", status: 404, message: "usage is not available: no database configured" });
    const url = new URL(c.req.url);
    let principal: CallerPrincipal | undefined;
    try {
      principal = await runtime.authorize?.(readCredential(c.req.raw.headers, url), false);
    } catch (error) {
      return fail(c, error);
    }
    const ownKey = principal && principal.scope !== "admin" ? principal.keyId : undefined;
    const { status, body } = await runtime.usage(url.searchParams, ownKey);
    return c.json(body as object, status as 200);
  });
  // With API keys: what the caller's key may use (and 401 without one).
  app.get("/v1/models", async (c) => {
    const body = runtime.router().modelsBody();
    if (!runtime.authorize) return c.json(body);
    let principal: CallerPrincipal | undefined;
    try {
      principal = await runtime.authorize(readCredential(c.req.raw.headers, new URL(c.req.url)), false);
    } catch (error) {
      return fail(c, error);
    }
    return c.json(principal ? { ...body, data: body.data.filter((m) => principal.allowsModel(String(m.id))) } : body);
  });
  app.get("/v1/routes", async (c) => {
    if (!runtime.routes) return c.notFound();
    let principal: unknown;
    try {
      principal = await runtime.authorize?.(readCredential(c.req.raw.headers, new URL(c.req.url)), false);
    } catch (error) {
      return fail(c, error);
    }
    return c.json({ object: "list", data: await runtime.routes(principal) });
  });
  // Single models and Google's model list, shaped for the caller's protocol by the router. With API
  // keys, as /v1/models: 401 without one, and only what the caller's key may use.
  const modelInfo = async (c: Context<Env>, id: string | undefined): Promise<Response> => {
    const url = new URL(c.req.url);
    const protocol = callerProtocol(url.pathname, c.req.raw.headers);
    let principal: CallerPrincipal | undefined;
    try {
      principal = await runtime.authorize?.(readCredential(c.req.raw.headers, url), false);
    } catch (error) {
      const { status, body } = CODECS[protocol].encodeError(toErrorInfo(error));
      return c.json(body as object, status as 401);
    }
    const bare = (name: string) => name.replace(/^models\//, "");
    if (principal && id !== undefined && !principal.allowsModel(bare(id))) {
      const [status, body] = notFound(protocol, `model '${bare(id)}' not found`);
      return c.json(body as object, status as 404);
    }
    const answer = await runtime.router().fetch(c.req.raw);
    if (!principal || id !== undefined || answer.status !== 200) return answer;
    const list = (await answer.json()) as { models?: Array<{ name?: string }> };
    return c.json({ ...list, models: (list.models ?? []).filter((m) => principal.allowsModel(bare(String(m.name ?? "")))) });
  };
  app.get("/v1/models/:id{.+}", (c) => modelInfo(c, c.req.param("id")));
  app.get("/v1beta/models", (c) => modelInfo(c, undefined));
  app.get("/v1beta/models/:id{.+}", (c) => modelInfo(c, c.req.param("id")));

  const inference = async (c: Context<Env>, url: URL, match: InferenceMatch) => {
    if (c.env?.incoming) {
      const ids = { requestId: c.get("requestId"), replyId: c.get("replyId") };
      await inferenceOnNode(runtime, match, c.env.incoming, c.env.outgoing, c.req.raw.headers, ids, url.search, c.get("refusal"));
      return RESPONSE_ALREADY_SENT;
    }
    // Not on Node (e.g. app.request() in tests of other hosts): the Web-standard handler.
    const refusal =
      c.get("refusal") ?? (match.invalid === undefined ? undefined : ({ kind: "invalid_request", status: 400, message: match.invalid } satisfies ErrorInfo));
    if (refusal) {
      const { status, body } = CODECS[match.protocol].encodeError(refusal);
      return c.json(body, status as 400);
    }
    return runtime.router().fetch(c.req.raw);
  };

  /** Token counting: the body is read under the same size limit as inference. */
  const countTokens = async (c: Context<Env>, url: URL, match: Extract<RouteMatch, { kind: "count_tokens" }>) => {
    const protocol = match.protocol;
    const credential = readCredential(c.req.raw.headers, url);
    let result: InboundResult;
    try {
      const body = c.env?.incoming ? await readBody(c.env.incoming, runtime.bodyLimit()) : new Uint8Array(await c.req.arrayBuffer());
      result = await runtime.router().countTokens({
        protocol,
        body,
        headers: c.req.raw.headers,
        requestId: c.get("requestId"),
        signal: c.req.raw.signal,
        ...(match.model !== undefined ? { pathModel: match.model } : {}),
        ...(credential === undefined ? {} : { credential }),
      });
    } catch (error) {
      const { status, body } = CODECS[protocol].encodeError(toErrorInfo(error));
      return c.json(body as object, status as 400);
    }
    return c.body(result.type === "json" ? result.body : "", result.status as 200, result.headers);
  };

  // Inference and token counting, on the paths each protocol serves (its descriptor in @bitrouter/providers).
  app.post("*", async (c, next) => {
    const url = new URL(c.req.url);
    const match = matchPath("POST", url.pathname);
    if (match?.kind === "inference") return inference(c, url, match);
    if (match?.kind === "count_tokens") return countTokens(c, url, match);
    await next();
  });

  runtime.mcp?.mount(app);

  app.notFound((c) => {
    const pathname = new URL(c.req.url).pathname;
    const [status, body] = notFound(callerProtocol(pathname, c.req.raw.headers), `no route for ${c.req.method} ${pathname}`);
    return c.json(body as object, status as 404);
  });
  app.onError((error, c) => {
    runtime.logError?.("unhandled error in a request handler", {
      request_id: c.get("requestId"),
      path: c.req.path,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    const body = CODECS["openai-chat"].encodeError({ kind: "internal", status: 500, message: "internal error" });
    return c.json(body.body, 500);
  });
  return app;
}

/** The server's id for a request (the ledger's key) and the one its answer carries (the caller's, if sane). */
function requestIds(headers: Headers): { requestId: string; replyId: string } {
  const requestId = newRequestId();
  return { requestId, replyId: callerRequestId(headers) ?? requestId };
}

/**
 * The cross-site check of an inference request, as the Hono middleware above makes it: CORS headers
 * for an allowed origin go on the Node response (the answer is written straight to it); a refusal
 * is returned, answered in the caller's protocol by the router (so it lands on the ledger too).
 */
function inferenceCrossSite(runtime: AppRuntime, headers: Headers, res: ServerResponse): ErrorInfo | undefined {
  const verdict = checkCrossSite(headers, () => true, runtime.crossSite());
  if (verdict.corsOrigin !== undefined) for (const [name, value] of Object.entries(corsHeaders(verdict.corsOrigin))) res.setHeader(name, value);
  return verdict.refusal;
}

/** Serves an inference route on the raw Node request/response; resolves once the answer is written. */
function inferenceOnNode(
  runtime: AppRuntime,
  match: InferenceMatch,
  req: IncomingMessage,
  res: ServerResponse,
  headers: Headers,
  ids: { requestId: string; replyId: string },
  search: string,
  crossSiteRefusal: ErrorInfo | undefined,
): Promise<void> {
  const invalid = match.invalid === undefined ? undefined : ({ kind: "invalid_request", status: 400, message: match.invalid } satisfies ErrorInfo);
  const refusal = crossSiteRefusal ?? invalid;
  // Only a query can carry a credential beside the headers (Gemini's `?key=`).
  const credential = readCredential(headers, search.length > 1 ? new URL(`http://localhost/${search}`) : undefined);
  const work = serveInference({
    router: runtime.router(),
    req,
    res,
    headers,
    protocol: match.protocol,
    requestId: ids.requestId,
    replyId: ids.replyId,
    bodyLimit: runtime.bodyLimit(),
    pathModel: match.model,
    pathStream: match.stream,
    credential,
    refusal,
  });
  runtime.track?.(work);
  return work;
}

/**
 * The Node request listener: the inference routes go straight to the router, everything else
 * through Hono. Skipping Hono for the hot routes saves its request and context objects, routing,
 * the middleware chain and a URL parse per request; the checks its middleware applies to them are
 * the same functions here (request ids, cross-site), and the body limit and error shapes are
 * serveInference's on both paths. Unusual request targets (dot segments, percent-encoding outside a
 * Gemini model name, absolute form) are left to Hono, which validates them.
 */
export function createListener(runtime: AppRuntime, app: Hono<Env>): RequestListener {
  const viaHono = getRequestListener(app.fetch);
  return (req, res) => {
    const target = req.url ?? "";
    const match = req.method === "POST" && target.charCodeAt(0) === 47 && !target.includes("/.") ? matchInference(target) : undefined;
    const headers = match ? nodeHeaders(req) : undefined;
    if (!match || !headers) return void viaHono(req, res);
    const ids = requestIds(headers);
    const query = target.indexOf("?");
    const serve = async () =>
      inferenceOnNode(runtime, match, req, res, headers, ids, query === -1 ? "" : target.slice(query), inferenceCrossSite(runtime, headers, res));
    serve().catch((error: unknown) => {
      // As Hono's onError: a bug surfaced as an opaque 500, the details to the operator.
      runtime.logError?.("unhandled error in a request handler", {
        request_id: ids.requestId,
        path: target,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify(INTERNAL_ERROR.body));
      else res.destroy();
    });
  };
}

const INTERNAL_ERROR = CODECS["openai-chat"].encodeError({ kind: "internal", status: 500, message: "internal error" });

type InferenceMatch = Extract<RouteMatch, { kind: "inference" }>;

/**
 * The inference route of a POST path, remembered by path: the same few paths come again and again,
 * and one map lookup touches less than asking each protocol. Bounded, as callers choose the paths.
 */
const inferencePaths = new Map<string, InferenceMatch | null>();

function matchInference(target: string): InferenceMatch | undefined {
  const query = target.indexOf("?");
  const path = query === -1 ? target : target.slice(0, query);
  let match = inferencePaths.get(path);
  if (match === undefined) {
    const found = matchPath("POST", path);
    match = found?.kind === "inference" ? found : null;
    if (inferencePaths.size >= 1_000) inferencePaths.clear();
    inferencePaths.set(path, match);
  }
  return match ?? undefined;
}

/**
 * The request's headers as a Web `Headers`, as Hono's Node adapter builds them (pseudo-headers left
 * out), filled lazily (node-headers.ts); undefined for one `Headers` refuses, which Hono's adapter
 * then answers as it does.
 */
function nodeHeaders(req: IncomingMessage): Headers | undefined {
  return nodeRequestHeaders(req.rawHeaders);
}
