// The README's example, run as written against a real MCP server (testkit's, its default tools).
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { importExample, type McpMock, startMcpMock, tsExample } from "@bitrouter/testkit";

let upstream: McpMock;
beforeAll(async () => {
  upstream = await startMcpMock();
});
afterAll(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await upstream?.close();
});

it("README: the gateway lists upstream and named tools (with the skill) and routes a named call", async () => {
  vi.stubEnv("MCP_URL", upstream.url);
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  await importExample(tsExample(new URL("../README.md", import.meta.url)), import.meta.url);
  expect(log.mock.calls).toEqual([[["web__echo", "web__add", "sum arithmetic"]], ["sum -> web/add: 200"], [[{ type: "text", text: "5" }]]]);
});
