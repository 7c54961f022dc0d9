/**
 * A cheap Anthropic Messages upstream for the translated path (the testkit's fast mock speaks only
 * OpenAI Chat): fixed bodies computed once, a plain counter, no parsing beyond a stream marker.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface AnthropicMock {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const STREAM_MARKER = /"stream"\s*:\s*true/;

export async function startAnthropicMock(options: { chunks?: number; delayMs?: number; chunkDelayMs?: number; host?: string } = {}): Promise<AnthropicMock> {
  const chunkCount = Math.max(1, options.chunks ?? 20);
  const delayMs = options.delayMs ?? 0;
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const model = "mock-claude";
  const words = Array.from({ length: chunkCount }, (_, i) => `word${i} `);
  const usage = { input_tokens: 10, output_tokens: chunkCount };
  const jsonBody = Buffer.from(
    JSON.stringify({
      id: "msg_fast",
      type: "message",
      role: "assistant",
      model,
      content: [{ type: "text", text: words.join("") }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage,
    }),
  );
  const event = (type: string, data: object): Buffer => Buffer.from(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const parts = [
    event("message_start", { message: { id: "msg_fast", type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } } }),
    event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ...words.map((text) => event("content_block_delta", { index: 0, delta: { type: "text_delta", text } })),
    event("content_block_stop", { index: 0 }),
    event("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: chunkCount } }),
    event("message_stop", {}),
  ];
  const whole = Buffer.concat(parts);

  const answer = (res: ServerResponse, stream: boolean): void => {
    if (!stream) {
      res.writeHead(200, { "content-type": "application/json", "content-length": jsonBody.length });
      res.end(jsonBody);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    if (chunkDelayMs <= 0) {
      res.end(whole);
      return;
    }
    let i = 0;
    const next = (): void => {
      if (res.destroyed) return;
      res.write(parts[i++]);
      if (i < parts.length) setTimeout(next, chunkDelayMs);
      else res.end();
    };
    next();
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const stream = STREAM_MARKER.test(Buffer.concat(chunks).toString("latin1"));
      if (delayMs > 0) setTimeout(() => answer(res, stream), delayMs);
      else answer(res, stream);
    });
  });
  server.keepAliveTimeout = 60_000;
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://${host}:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
