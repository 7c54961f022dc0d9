/**
 * The client side of MCP's Streamable HTTP transport (spec 2025-06-18 and later), for upstream tool
 * servers, on an undici dispatcher. It behaves as the SDK's StreamableHTTPClientTransport does
 * (sessions, protocol version header, answers as JSON or SSE, the GET stream for server-initiated
 * messages, resuming a stream with Last-Event-ID, redirects followed within the origin) without
 * Node's fetch: a fetch costs a Request, a Response and three piped web streams per call, and
 * keeps a listener on the transport's long-lived signal until the Request is collected (measured
 * through the gateway: ~230 KB allocated per tools/call, most of it here and short-lived objects
 * that V8 had to promote).
 *
 * Messages are handed to the SDK's Protocol as parsed JSON: it checks their shape itself.
 */
import { STATUS_CODES } from "node:http";
import type { Readable } from "node:stream";
import { Agent, type Dispatcher } from "undici";
import { createParser } from "eventsource-parser";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/sdk/types.js";

export interface HttpTransportOptions {
  /** Sent with every request (configured headers; names are case-insensitive). */
  headers?: Record<string, string>;
  /** A bearer token asked for on each request (the supplier caches it): tokens that expire stay fresh. */
  bearerToken?: () => Promise<string>;
  /** Largest message taken from the server, in bytes (default 64 MiB): past it the connection is closed. */
  maxMessageBytes?: number;
}

/** As the SDK's defaults: a dropped stream is resumed up to twice, 1 s then 1.5 s later (or after the server's `retry`). */
const RECONNECT = { initialMs: 1000, maxMs: 30_000, growFactor: 1.5, maxRetries: 2 } as const;
const MAX_REDIRECTS = 5;
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** How much of a refusal's body goes into the error. */
const MAX_ERROR_TEXT = 4096;

interface StreamOptions {
  /** The GET stream (and a resumed one) is reopened when it ends; a POST's only when it was primed with an event id. */
  reconnectable: boolean;
  /** The id the resumed answer is handed back with (a request sent with a resumption token). */
  replayMessageId?: RequestId | undefined;
  onresumptiontoken?: ((token: string) => void) | undefined;
}

type Answer = Pick<Dispatcher.ResponseData, "headers" | "body"> & { status: number };

export class HttpClientTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JSONRPCMessage) => void) | undefined;

  readonly #url: URL;
  readonly #headers: Record<string, string>;
  readonly #bearerToken: (() => Promise<string>) | undefined;
  readonly #maxMessageBytes: number;
  /** Keep-alive connections to the upstream, for this transport's life. */
  readonly #agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
  #controller: AbortController | undefined;
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  /** The server's `retry:` field, which replaces the backoff when set. */
  #serverRetryMs: number | undefined;
  /** Streams waiting to be reopened (the GET stream and any number of dropped POST streams). */
  readonly #reconnectTimers = new Set<NodeJS.Timeout>();

  constructor(url: URL, options: HttpTransportOptions = {}) {
    this.#url = url;
    this.#headers = Object.fromEntries(Object.entries(options.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    this.#bearerToken = options.bearerToken;
    this.#maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  }

  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  setProtocolVersion(version: string): void {
    this.#protocolVersion = version;
  }

  async start(): Promise<void> {
    if (this.#controller) throw new Error("HttpClientTransport already started");
    this.#controller = new AbortController();
  }

  async close(): Promise<void> {
    for (const timer of this.#reconnectTimers) clearTimeout(timer);
    this.#reconnectTimers.clear();
    this.#controller?.abort();
    void this.#agent.destroy().catch(() => {});
    this.onclose?.();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    try {
      if (options?.resumptionToken) {
        const replayMessageId = "method" in message && "id" in message ? message.id : undefined;
        this.#openStream(options.resumptionToken, { reconnectable: true, replayMessageId, onresumptiontoken: options.onresumptiontoken });
        return;
      }
      const headers = await this.#requestHeaders();
      headers["content-type"] = "application/json";
      headers.accept = "application/json, text/event-stream";
      const answer = await this.#request("POST", headers, JSON.stringify(message));
      const sessionId = header(answer.headers, "mcp-session-id");
      if (sessionId) this.#sessionId = sessionId;
      if (answer.status < 200 || answer.status >= 300) {
        const text = await refusalText(answer, this.#url);
        throw new StreamableHTTPError(answer.status, `Error POSTing to endpoint: ${text}`);
      }
      if (answer.status === 202) {
        answer.body.resume();
        // The session is set up: open the stream on which the server sends requests of its own.
        if ("method" in message && message.method === "notifications/initialized") this.#openStream(undefined, { reconnectable: true });
        return;
      }
      if (!("method" in message && "id" in message)) {
        answer.body.resume(); // a notification or a response: nothing comes back
        return;
      }
      const type = mediaType(header(answer.headers, "content-type"));
      if (type === "text/event-stream") {
        void this.#readStream(answer.body, { reconnectable: false, onresumptiontoken: options?.onresumptiontoken });
      } else if (type === "application/json") {
        const data = JSON.parse(await this.#readWhole(answer.body)) as JSONRPCMessage | JSONRPCMessage[];
        await this.#deliver(Array.isArray(data) ? data : [data]);
      } else {
        answer.body.resume();
        throw new StreamableHTTPError(-1, `Unexpected content type: ${header(answer.headers, "content-type")}`);
      }
    } catch (error) {
      const failure = asError(error);
      this.onerror?.(failure);
      throw failure;
    }
  }

  async #requestHeaders(): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    if (this.#sessionId) headers["mcp-session-id"] = this.#sessionId;
    if (this.#protocolVersion) headers["mcp-protocol-version"] = this.#protocolVersion;
    Object.assign(headers, this.#headers); // configured headers win, as with the SDK's transport
    if (this.#bearerToken) headers.authorization = `Bearer ${await this.#bearerToken()}`;
    return headers;
  }

  /** One request, following redirects that stay within the upstream's origin (as the SDK does). */
  async #request(method: "GET" | "POST", headers: Record<string, string>, body?: string): Promise<Answer> {
    const signal = this.#controller?.signal;
    let url = this.#url;
    for (let hops = 0; ; hops++) {
      const response = await this.#agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers,
        body: body ?? null,
        signal: signal ?? null,
      });
      const answer: Answer = { status: response.statusCode, headers: response.headers, body: response.body };
      const target = hops < MAX_REDIRECTS ? redirectTarget(answer, url, method) : undefined;
      if (!target) return answer;
      answer.body.resume();
      url = target;
    }
  }

  /**
   * The GET stream: server-initiated messages, or the rest of a dropped stream after `lastEventId`.
   * `attempt` is set when this reopens a stream that ended; a reopening that fails is tried again.
   */
  #openStream(lastEventId: string | undefined, options: StreamOptions, attempt?: number): void {
    const open = async () => {
      const headers = await this.#requestHeaders();
      headers.accept = "text/event-stream";
      if (lastEventId) headers["last-event-id"] = lastEventId;
      const answer = await this.#request("GET", headers);
      if (answer.status === 405) {
        answer.body.resume(); // the server offers no GET stream: allowed
        return;
      }
      if (answer.status < 200 || answer.status >= 300) {
        answer.body.resume();
        throw new StreamableHTTPError(answer.status, `Failed to open SSE stream: ${STATUS_CODES[answer.status] ?? answer.status}`);
      }
      void this.#readStream(answer.body, options);
    };
    open().catch((error: unknown) => {
      if (this.#closing()) return;
      this.onerror?.(asError(error));
      if (attempt !== undefined) this.#reconnect(lastEventId, options, attempt + 1);
    });
  }

  async #readStream(body: Readable, options: StreamOptions): Promise<void> {
    let lastEventId: string | undefined;
    let answered = false;
    const arrived: JSONRPCMessage[] = [];
    let overflow = false;
    const parser = createParser({
      maxBufferSize: this.#maxMessageBytes,
      onError: (error) => {
        if (error.type === "max-buffer-size-exceeded") overflow = true;
      },
      onEvent: (event) => {
        if (event.id) {
          lastEventId = event.id;
          options.onresumptiontoken?.(event.id);
        }
        if (!event.data || (event.event && event.event !== "message")) return; // priming events, keep-alives
        // The parser bounds only what it buffers: an event that came whole in one read is measured here.
        if (overflow || this.#overLimit(event.data)) {
          overflow = true;
          return;
        }
        let message: JSONRPCMessage;
        try {
          message = JSON.parse(event.data) as JSONRPCMessage;
        } catch (error) {
          this.onerror?.(asError(error));
          return;
        }
        if (message && typeof message === "object" && "id" in message && ("result" in message || "error" in message)) {
          answered = true;
          if (options.replayMessageId !== undefined) message.id = options.replayMessageId;
        }
        arrived.push(message);
      },
      onRetry: (ms) => {
        this.#serverRetryMs = ms;
      },
    });
    try {
      // undici's body yields bytes whatever its encoding: a character split across reads is joined here.
      const decoder = new TextDecoder();
      for await (const chunk of body) {
        parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
        await this.#deliver(arrived);
        if (overflow) break;
      }
    } catch (error) {
      if (this.#closing()) return;
      this.onerror?.(new Error(`SSE stream disconnected: ${asError(error).message}`));
    }
    if (overflow) {
      // The calls waiting on this server fail now (the connection is closed), rather than at their timeouts.
      body.destroy();
      this.onerror?.(this.#tooLarge());
      await this.close();
      return;
    }
    // A stream that ends before its answer is resumed from its last event, when it can be.
    const resumable = options.reconnectable || lastEventId !== undefined;
    if (resumable && !answered && !this.#closing()) this.#reconnect(lastEventId, { ...options, reconnectable: true }, 0);
  }

  /** A JSON answer's text, refused past maxMessageBytes. */
  async #readWhole(body: Readable): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > this.#maxMessageBytes) {
        body.destroy();
        throw this.#tooLarge();
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks, size).toString("utf8");
  }

  #overLimit(text: string): boolean {
    // A character is 1–3 bytes in UTF-8: the byte count is needed only near the limit.
    return text.length > this.#maxMessageBytes || (text.length * 3 > this.#maxMessageBytes && Buffer.byteLength(text) > this.#maxMessageBytes);
  }

  #tooLarge(): Error {
    return new Error(`the MCP server sent a message over ${this.#maxMessageBytes} bytes; the connection was closed`);
  }

  /**
   * Hands over the messages of one read in order, a microtask apart: the SDK's Protocol runs a
   * notification's handler a microtask after it arrives, while an answer is taken at once, and an
   * answer that overtook the call's last progress notification would leave it without a handler.
   */
  async #deliver(messages: JSONRPCMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i++) {
      if (i > 0) await null;
      this.onmessage?.(messages[i]!);
    }
    messages.length = 0;
  }

  #reconnect(lastEventId: string | undefined, options: StreamOptions, attempt: number): void {
    if (attempt >= RECONNECT.maxRetries) {
      this.onerror?.(new Error(`Maximum reconnection attempts (${RECONNECT.maxRetries}) exceeded.`));
      return;
    }
    const delay = this.#serverRetryMs ?? Math.min(RECONNECT.initialMs * RECONNECT.growFactor ** attempt, RECONNECT.maxMs);
    const timer = setTimeout(() => {
      this.#reconnectTimers.delete(timer);
      this.#openStream(lastEventId, options, attempt);
    }, delay);
    this.#reconnectTimers.add(timer);
  }

  #closing(): boolean {
    return this.#controller?.signal.aborted ?? true;
  }
}

function header(headers: Answer["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `text/event-stream; charset=utf-8` → `text/event-stream`. */
function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(";", 1)[0]?.trim().toLowerCase();
}

/** Where a redirect goes when it is to be followed: within the origin (or its https form), keeping the method. */
function redirectTarget(answer: Answer, from: URL, method: string): URL | undefined {
  if (![301, 302, 303, 307, 308].includes(answer.status)) return undefined;
  // 301, 302 and 303 turn a request with a body into a GET: only 307 and 308 are followed for those.
  if (method !== "GET" && answer.status !== 307 && answer.status !== 308) return undefined;
  const location = header(answer.headers, "location");
  let to: URL;
  try {
    if (!location) return undefined;
    to = new URL(location, from);
  } catch {
    return undefined;
  }
  const sameOrigin = from.protocol === to.protocol && from.hostname === to.hostname && from.port === to.port;
  const upgraded = from.hostname === to.hostname && from.protocol === "http:" && from.port === "" && to.protocol === "https:" && to.port === "";
  const addsUserinfo = (to.username || to.password) && (to.username !== from.username || to.password !== from.password);
  return (sameOrigin || upgraded) && !addsUserinfo ? to : undefined;
}

/** What a refusal says: its body (cut), or where an unfollowed redirect pointed. */
async function refusalText(answer: Answer, url: URL): Promise<string> {
  const location = header(answer.headers, "location");
  if (answer.status >= 300 && answer.status < 400 && location) {
    answer.body.resume();
    try {
      const to = new URL(location, url);
      to.username = to.password = to.search = to.hash = "";
      return `Redirect to ${to.href} not followed`;
    } catch {
      return `Redirect not followed (${answer.status})`;
    }
  }
  const text = await answer.body.text().catch(() => "");
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text || (STATUS_CODES[answer.status] ?? String(answer.status));
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
