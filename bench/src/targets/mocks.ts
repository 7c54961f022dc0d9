/**
 * The upstreams, in one process of their own: the testkit's fast mock (answers after `--delay-ms`,
 * 0 by default; streams drip one chunk per `--chunk-delay-ms`; Anthropic Messages on /v1/messages
 * for the translated path, OpenAI Chat elsewhere) and a second one whose streams stay open after
 * the first chunk (for the idle-streams memory test); and an MCP server over Streamable HTTP (for
 * tools/call). Reports the ports over IPC.
 */
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
// Ten minutes between chunks: once the first chunk is out the stream just stays open.
const idle = await startFastMock({ chunks, chunkDelayMs: 600_000 });

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
