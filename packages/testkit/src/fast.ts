/**
 * A benchmark mock: fixed answers computed once, minimal per-request work and no recording, so the
 * mock is never the bottleneck of a load test. OpenAI Chat on every path, except Anthropic Messages
 * on `/v1/messages` (the translated path's upstream).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FastMockOptions {
  port?: number;
  host?: string;
  /** Content chunks per streamed answer (default 20). */
  chunks?: number | undefined;
  /** Delay before each answer's response head, in ms (default 0). */
  delayMs?: number | undefined;
  /** Delay between stream chunks, in ms (default 0: the whole stream is written at once). */
  chunkDelayMs?: number | undefined;
  model?: string;
}

export interface FastMock {
  readonly url: string;
  readonly port: number;
  /** The OpenAI api_base: `<url>/v1`. */
  readonly baseUrl: string;
  /** Requests answered so far (a plain counter: the only per-request bookkeeping). */
  readonly served: number;
  close(): Promise<void>;
}

const STREAM_MARKER = /"stream"\s*:\s*true/;

export async function startFastMock(options: FastMockOptions = {}): Promise<FastMock> {
  const chunkCount = Math.max(1, options.chunks ?? 20);
  const delayMs = options.delayMs ?? 0;
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const model = options.model ?? "mock-model";
  const created = 1_700_000_000;
  const words = Array.from({ length: chunkCount }, (_, i) => `word${i} `);

  const usage = { prompt_tokens: 10, completion_tokens: chunkCount, total_tokens: 10 + chunkCount };
  const jsonBody = Buffer.from(
    JSON.stringify({
      id: "chatcmpl-fast",
      object: "chat.completion",
      created,
      model,
      choices: [{ index: 0, message: { role: "assistant", content: words.join(""), refusal: null }, logprobs: null, finish_reason: "stop" }],
      usage,
    }),
  );
  const chunk = (delta: object, finish: string | null, extra: object = {}): string =>
    `data: ${JSON.stringify({ id: "chatcmpl-fast", object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}\n\n`;
  const streamParts = [
    chunk({ role: "assistant", content: "" }, null),
    ...words.map((w) => chunk({ content: w }, null)),
    chunk({}, "stop"),
    `data: ${JSON.stringify({ id: "chatcmpl-fast", object: "chat.completion.chunk", created, model, choices: [], usage })}\n\n`,
    "data: [DONE]\n\n",
  ].map((s) => Buffer.from(s));
  const wholeStream = Buffer.concat(streamParts);

  // The same answer as Anthropic Messages.
  const anthropicJson = Buffer.from(
    JSON.stringify({
      id: "msg_fast",
      type: "message",
      role: "assistant",
      model,
      content: [{ type: "text", text: words.join("") }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: chunkCount },
    }),
  );
  const event = (type: string, data: object): Buffer => Buffer.from(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const anthropicParts = [
    event("message_start", {
      message: {
        id: "msg_fast",
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 1 },
      },
    }),
    event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ...words.map((text) => event("content_block_delta", { index: 0, delta: { type: "text_delta", text } })),
    event("content_block_stop", { index: 0 }),
    event("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: chunkCount } }),
    event("message_stop", {}),
  ];
  const answers = {
    openai: { json: jsonBody, parts: streamParts, whole: wholeStream },
    anthropic: { json: anthropicJson, parts: anthropicParts, whole: Buffer.concat(anthropicParts) },
  };
  const modelsBody = Buffer.from(JSON.stringify({ object: "list", data: [{ id: model, object: "model", created, owned_by: "mock" }] }));

  let served = 0;
  const answer = (res: ServerResponse, stream: boolean, body: { json: Buffer; parts: Buffer[]; whole: Buffer }): void => {
    served++;
    if (!stream) {
      res.writeHead(200, { "content-type": "application/json", "content-length": body.json.length });
      res.end(body.json);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    if (chunkDelayMs <= 0) {
      res.end(body.whole);
      return;
    }
    let i = 0;
    const next = (): void => {
      if (res.destroyed) return;
      res.write(body.parts[i++]);
      if (i < body.parts.length) setTimeout(next, chunkDelayMs);
      else res.end();
    };
    next();
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "GET") {
      req.resume();
      res.writeHead(200, { "content-type": "application/json", "content-length": modelsBody.length });
      res.end(modelsBody);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const [first] = chunks;
      const stream = STREAM_MARKER.test((chunks.length === 1 && first ? first : Buffer.concat(chunks)).toString("latin1"));
      const body = req.url === "/v1/messages" ? answers.anthropic : answers.openai;
      if (delayMs > 0) setTimeout(() => answer(res, stream, body), delayMs);
      else answer(res, stream, body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;
  return {
    url,
    port,
    baseUrl: `${url}/v1`,
    get served() {
      return served;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
