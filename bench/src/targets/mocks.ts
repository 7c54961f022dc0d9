/**
 * The upstreams, in one process of their own: the testkit's fast mock (answers after `--delay-ms`,
 * 0 by default; streams drip one chunk per `--chunk-delay-ms`; Anthropic Messages on /v1/messages
 * for the translated path, OpenAI Chat elsewhere) and a second one whose streams stay open after
 * the first chunk (for the idle-streams memory test and the abort test: `GET /closed` answers how
 * many of its streams have closed and when the last one did); and an MCP server over Streamable
 * HTTP (for tools/call). Reports the ports over IPC.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { startFastMock, startMcpMock } from "@bitrouter/testkit";

export interface MockPorts {
  openai: number;
  idle: number;
  anthropic: number;
  /** The MCP upstream's Streamable HTTP URL (tools echo and add). */
  mcp: string;
}

const { values } = parseArgs({ options: { "chunk-delay-ms": { type: "string" }, "delay-ms": { type: "string" }, chunks: { type: "string" } } });
const chunkDelayMs = Number(values["chunk-delay-ms"] ?? "0");
const delayMs = Number(values["delay-ms"] ?? "0");
const chunks = Number(values.chunks ?? "20");

const openai = await startFastMock({ chunks, delayMs, chunkDelayMs });
/** What `GET /closed` on the idle mock answers: closed streams so far, and the wall-clock ms (sub-ms) of the last close. */
export interface Closed {
  count: number;
  lastAtMs: number;
}

/** OpenAI streams that send their first chunk and then stay open until the other side closes. */
async function startIdleMock(): Promise<{ port: number; close(): Promise<void> }> {
  const closed: Closed = { count: 0, lastAtMs: 0 };
  const first = `data: ${JSON.stringify({ id: "chatcmpl-idle", object: "chat.completion.chunk", created: 1_700_000_000, model: "mock-model", choices: [{ index: 0, delta: { role: "assistant", content: "word0 " }, finish_reason: null }] })}\n\n`;
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/closed") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(closed));
      return;
    }
    req.resume();
    req.once("end", () => {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(first);
      res.once("close", () => {
        closed.count += 1;
        closed.lastAtMs = performance.timeOrigin + performance.now();
      });
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
const idle = await startIdleMock();

// The translated path's Anthropic upstream is the same mock (it answers /v1/messages in kind).
const mcp = await startMcpMock({ name: "bench-tools" });
const ports: MockPorts = { openai: openai.port, idle: idle.port, anthropic: openai.port, mcp: mcp.url };
process.send?.({ ready: ports });
const stop = (): void => {
  void Promise.all([openai.close(), idle.close(), mcp.close()]).then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.on("disconnect", stop);
