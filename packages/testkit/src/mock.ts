/**
 * A mock LLM upstream on 127.0.0.1 speaking the OpenAI (Chat, Responses), Anthropic and Gemini
 * wire formats, scripted per request and recording what it received.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { anthropicRenderer } from "./protocols/anthropic.js";
import { googleRenderer, parseGooglePath } from "./protocols/google.js";
import { openaiChatRenderer } from "./protocols/openai-chat.js";
import { openaiResponsesRenderer } from "./protocols/openai-responses.js";
import type { Renderer } from "./protocols/types.js";
import { isErrorReply, isRawReply, type MockProtocol, type MockReply, type MockScript, resolveAnswer } from "./script.js";

export interface RecordedRequest {
  /** 1-based order of arrival. */
  seq: number;
  method: string;
  /** Path with query string, e.g. `/v1beta/models/m:streamGenerateContent?alt=sse`. */
  path: string;
  /** The protocol the path belongs to (undefined for model lists and unknown paths). */
  protocol?: MockProtocol;
  /** Header names lowercased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
  rawBody: string;
  /** Which TCP connection carried the request (1-based, in order of acceptance): keep-alive shows as reuse. */
  connection: number;
  /** The client closed the connection before the answer was complete (abort, timeout). */
  closedEarly: boolean;
}

export type MockHandler = (request: RecordedRequest) => MockReply | undefined | Promise<MockReply | undefined>;

export interface MockUpstream {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The api_base a provider of this protocol is configured with (`/v1` for OpenAI, the origin otherwise). */
  baseUrl(protocol: MockProtocol): string;
  /** Every request received since start or the last reset, in order. */
  readonly requests: RecordedRequest[];
  /** How many answers the client cut short by closing the connection. */
  readonly aborted: number;
  /** How many TCP connections were accepted. */
  readonly connections: number;
  /** Queue one-shot answers, used in order before the handler and the default answer. */
  enqueue(...replies: MockReply[]): void;
  /** Answer requests with a function (when the queue is empty); undefined falls back to the default answer. */
  handle(handler: MockHandler | undefined): void;
  /** Forget requests, queue, handler and counters. */
  reset(): void;
  /** Resolves once `predicate` holds (polled), e.g. `until(() => mock.aborted === 1)`. */
  until(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface MockOptions {
  port?: number;
  host?: string;
  /** Model ids listed by `GET /v1/models`. */
  models?: string[];
}

const RENDERERS: Record<string, Renderer> = {
  "/v1/chat/completions": openaiChatRenderer,
  "/v1/responses": openaiResponsesRenderer,
  "/v1/messages": anthropicRenderer,
  "/v1/messages/count_tokens": anthropicRenderer,
};

/** What the mock's token-counting endpoints (Anthropic `count_tokens`, Gemini `:countTokens`) answer. */
export const MOCK_TOKEN_COUNT = 4242;

function rendererFor(pathname: string): Renderer | undefined {
  return RENDERERS[pathname] ?? (parseGooglePath(pathname) ? googleRenderer : undefined);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

export async function startMock(options: MockOptions = {}): Promise<MockUpstream> {
  const host = options.host ?? "127.0.0.1";
  const models = options.models ?? ["mock-model"];
  const queue: MockReply[] = [];
  let handler: MockHandler | undefined;
  let requests: RecordedRequest[] = [];
  let aborted = 0;
  let connections = 0;
  let connectionsAtReset = 0;
  let seq = 0;
  // Bumped by reset(), so a late close of a request from before the reset is not counted.
  let generation = 0;
  const socketIds = new WeakMap<Socket, number>();
  // Aborted on close so pending delays stop instead of keeping the process alive.
  const lifetime = new AbortController();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `mock error: ${error instanceof Error ? error.message : String(error)}` } }));
      } else {
        res.destroy();
      }
    });
  });
  server.on("connection", (socket: Socket) => {
    socketIds.set(socket, ++connections);
  });

  async function wait(ms: number | undefined): Promise<void> {
    if (ms && ms > 0) await sleep(ms, undefined, { signal: lifetime.signal });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    let body: unknown;
    try {
      body = rawBody ? (JSON.parse(rawBody) as unknown) : undefined;
    } catch {
      body = undefined;
    }
    const url = new URL(req.url ?? "/", "http://mock");
    const renderer = rendererFor(url.pathname);
    const record: RecordedRequest = {
      seq: ++seq,
      method: req.method ?? "GET",
      path: url.pathname + url.search,
      headers: lowerHeaders(req),
      body,
      rawBody,
      connection: socketIds.get(req.socket) ?? 0,
      closedEarly: false,
    };
    if (renderer) record.protocol = renderer.protocol;
    requests.push(record);

    // The mock itself destroys the socket for `failAfterChunks`: that is not a client abort.
    let selfDestroyed = false;
    const recordGeneration = generation;
    res.on("close", () => {
      if (!res.writableFinished && !selfDestroyed && !lifetime.signal.aborted) {
        record.closedEarly = true;
        if (recordGeneration === generation) aborted++;
      }
    });

    if (req.method === "GET") return listModels(url.pathname, record, res);
    if (!renderer || req.method !== "POST") {
      return sendJson(res, 404, { error: { message: `mock: no route for ${req.method} ${url.pathname}` } });
    }
    if (body === undefined || typeof body !== "object") {
      const e = renderer.error("invalid_request", "mock: the request body is not a JSON object");
      return sendJson(res, e.status, e.body, e.headers);
    }

    const reply: MockReply | undefined = queue.shift() ?? (handler ? await handler(record) : undefined);
    if (reply && isRawReply(reply)) {
      await wait(reply.delayMs);
      const text = typeof reply.body === "string" ? reply.body : reply.body === undefined ? "" : JSON.stringify(reply.body);
      const headers = { "content-type": typeof reply.body === "string" ? "text/plain" : "application/json", ...reply.headers };
      res.writeHead(reply.status, headers);
      if (reply.padBytes === undefined && !reply.cutAfterBody) {
        res.end(text);
        return;
      }
      await new Promise<void>((resolve) => res.write(text, () => resolve()));
      const filler = Buffer.alloc(64 * 1024, "x");
      for (let left = reply.padBytes ?? 0; left > 0 && !res.destroyed; left -= filler.length) {
        const chunk = left >= filler.length ? filler : filler.subarray(0, left);
        // Waiting for each write keeps the mock's own memory flat and stops once the client hangs up.
        await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
      }
      if (reply.cutAfterBody) {
        selfDestroyed = true;
        req.socket.destroy();
      } else {
        res.end();
      }
      return;
    }
    if (reply && isErrorReply(reply)) {
      await wait(reply.delayMs);
      const e = renderer.error(reply.error, reply.message, reply.status);
      return sendJson(res, e.status, e.body, { ...e.headers, ...reply.headers });
    }

    if (url.pathname === "/v1/messages/count_tokens") return sendJson(res, 200, { input_tokens: MOCK_TOKEN_COUNT });
    if (parseGooglePath(url.pathname)?.method === "countTokens") return sendJson(res, 200, { totalTokens: MOCK_TOKEN_COUNT });

    const script: MockScript | undefined = reply;
    const prompt = renderer.prompt(body, url);
    const answer = resolveAnswer(script, prompt, record.seq, renderer.toolIdPrefix);
    if (script?.hang) return; // never answer; the client's timeout or abort ends it
    await wait(script?.delayMs);
    if (res.destroyed) return;

    if (!prompt.stream) {
      if (script?.failAfterChunks !== undefined) {
        selfDestroyed = true;
        req.socket.destroy();
        return;
      }
      return sendJson(res, 200, renderer.json(answer), script?.headers);
    }

    const events = renderer.stream(answer, prompt);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...script?.headers });
    res.flushHeaders();
    for (let i = 0; i < events.length; i++) {
      if (script?.failAfterChunks !== undefined && i === script.failAfterChunks) {
        selfDestroyed = true;
        req.socket.destroy();
        return;
      }
      if (script?.streamError && i === script.streamError.afterChunks) {
        res.end(renderer.streamError(script.streamError.error, script.streamError.message));
        return;
      }
      if (i > 0) await wait(script?.chunkDelayMs);
      if (res.destroyed) return;
      // Waiting for the write to flush gives backpressure, and lets `failAfterChunks` cut the
      // socket only after the earlier events really left.
      await new Promise<void>((resolve) => res.write(events[i], () => resolve()));
    }
    res.end();
  }

  function listModels(pathname: string, record: RecordedRequest, res: ServerResponse): void {
    if (pathname === "/v1beta/models") {
      return sendJson(res, 200, {
        models: models.map((id) => ({ name: `models/${id}`, displayName: id, supportedGenerationMethods: ["generateContent", "countTokens"] })),
      });
    }
    if (pathname !== "/v1/models") return sendJson(res, 404, { error: { message: `mock: no route for GET ${pathname}` } });
    if (record.headers["anthropic-version"] !== undefined) {
      return sendJson(res, 200, {
        data: models.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" })),
        has_more: false,
        first_id: models[0] ?? null,
        last_id: models[models.length - 1] ?? null,
      });
    }
    return sendJson(res, 200, { object: "list", data: models.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "mock" })) });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host}:${port}`;

  return {
    url,
    port,
    baseUrl: (protocol) => (protocol === "openai-chat" || protocol === "openai-responses" ? `${url}/v1` : url),
    get requests() {
      return requests;
    },
    get aborted() {
      return aborted;
    },
    get connections() {
      return connections - connectionsAtReset;
    },
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    handle: (h) => {
      handler = h;
    },
    reset: () => {
      queue.length = 0;
      handler = undefined;
      requests = [];
      aborted = 0;
      seq = 0;
      generation++;
      connectionsAtReset = connections;
    },
    until: async (predicate, timeoutMs = 5_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`mock.until: condition not met within ${timeoutMs} ms`);
        await sleep(5);
      }
    },
    close: async () => {
      lifetime.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
