import { Hono } from "hono";
import type { Context } from "hono";
import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Protocol } from "@bitrouter/providers";
import { CODECS, toErrorInfo } from "@bitrouter/providers";
import type { Router } from "@bitrouter/router";
import { matchPath, readCredential } from "@bitrouter/router";
import { serveInference } from "./node-handler.js";

/** What the HTTP app needs from the running server; `router()` returns the current (hot-swappable) router. */
export interface AppRuntime {
  router(): Router;
  bodyLimit(): number;
  /** Extra facts for GET /health. */
  health(): Record<string, unknown>;
  /**
   * Checks a caller's credential; resolves to its principal, or undefined in open mode (no auth).
   * Throws an error with kind/status/message when refused.
   */
  authorize?(credential: string | undefined, needAdmin: boolean): Promise<{ keyId?: string; scope?: string } | undefined>;
  /** The control API, also served under /admin/ to admin tokens. */
  control?: { fetch(request: Request): Response | Promise<Response> };
  /** GET /v1/routes: the routes the caller may use (its key's model patterns), with their counters. */
  routes?(principal: unknown): Promise<unknown[]>;
  /** GET /metrics (Prometheus text), protected like /admin. */
  metrics?: { contentType: string; render(): Promise<string> };
  /** Usage rows from the ledger (GET /v1/usage), when metering is on. */
  usage?(params: URLSearchParams, keyId: string | undefined): Promise<{ status: number; body: unknown }>;
}

type Env = { Bindings: HttpBindings; Variables: { requestId: string } };

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The public API: one route per inbound protocol, plus models and health. */
export function createApp(runtime: AppRuntime): Hono<Env> {
  const app = new Hono<Env>();

  app.use(async (c, next) => {
    const given = c.req.header("x-request-id");
    c.set("requestId", given && REQUEST_ID.test(given) ? given : crypto.randomUUID());
    await next();
    if (c.res !== RESPONSE_ALREADY_SENT) c.header("x-request-id", c.get("requestId"));
  });

  app.get("/health", (c) => c.json({ status: "ok", ...runtime.health() }));

  /** Errors of the non-inference endpoints use OpenAI's error shape. */
  const fail = (c: Context<Env>, error: unknown) => {
    const { status, body } = CODECS["openai-chat"].encodeError(toErrorInfo(error));
    return c.json(body, status as 400);
  };

  // The control API for admin tokens (the Unix socket serves it without tokens to local operators).
  app.all("/admin/*", async (c) => {
    if (!runtime.control) return c.notFound();
    const url = new URL(c.req.url);
    try {
      await runtime.authorize?.(readCredential(c.req.raw.headers, url), true);
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
    let principal: { keyId?: string; scope?: string } | undefined;
    try {
      principal = await runtime.authorize?.(readCredential(c.req.raw.headers, url), false);
    } catch (error) {
      return fail(c, error);
    }
    const ownKey = principal && principal.scope !== "admin" ? principal.keyId : undefined;
    const { status, body } = await runtime.usage(url.searchParams, ownKey);
    return c.json(body as object, status as 200);
  });
  app.get("/v1/models", (c) => c.json(runtime.router().modelsBody()));
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

  const inference = (protocol: Protocol) => async (c: Context<Env>) => {
    const url = new URL(c.req.url);
    const match = matchPath("POST", url.pathname);
    const model = match?.kind === "inference" ? match.model : undefined;
    const stream = match?.kind === "inference" ? match.stream : undefined;
    const credential = readCredential(c.req.raw.headers, url);
    const common = {
      router: runtime.router(),
      headers: c.req.raw.headers,
      protocol,
      requestId: c.get("requestId"),
      bodyLimit: runtime.bodyLimit(),
      ...(model === undefined ? {} : { pathModel: model }),
      ...(stream === undefined ? {} : { pathStream: stream }),
      ...(credential === undefined ? {} : { credential }),
    };
    if (c.env?.incoming) {
      await serveInference({ ...common, req: c.env.incoming, res: c.env.outgoing });
      return RESPONSE_ALREADY_SENT;
    }
    // Not on Node (e.g. app.request() in tests of other hosts): the Web-standard handler.
    return common.router.fetch(c.req.raw);
  };

  app.post("/v1/chat/completions", inference("openai-chat"));
  app.post("/chat/completions", inference("openai-chat"));
  app.post("/v1/responses", inference("openai-responses"));
  app.post("/responses", inference("openai-responses"));
  app.post("/v1/messages", inference("anthropic"));
  app.post("/v1beta/models/:action{.+:(?:generateContent|streamGenerateContent)}", inference("google"));
  app.post("/v1/models/:action{.+:(?:generateContent|streamGenerateContent)}", inference("google"));

  app.notFound((c) => {
    const body = CODECS["openai-chat"].encodeError({ kind: "not_found", status: 404, message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` });
    return c.json(body.body, 404);
  });
  app.onError((error, c) => {
    const body = CODECS["openai-chat"].encodeError({ kind: "internal", status: 500, message: "internal error" });
    void error;
    return c.json(body.body, 500);
  });
  return app;
}
