/**
 * The tool registry and router on its own (no HTTP in front): naming, failover and rotation of
 * `tools:` entries, list caching and list_changed, hooks and records. The upstreams are real MCP
 * servers (testkit, Streamable HTTP).
 */
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startMcpMock } from "@bitrouter/testkit";
import type { McpMock } from "@bitrouter/testkit";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { parseConfig } from "@bitrouter/config";
import { SKILL_META_KEY, ToolCallRefused, ToolGateway, specFromConfig } from "../src/index.js";
import type { GatewaySpec, NamedToolSpec, ToolCallRecord, UpstreamSpec } from "../src/index.js";

let a: McpMock;
let b: McpMock;
let gateway: ToolGateway;

const mcp = (name: string, url: string): UpstreamSpec => ({ kind: "mcp", name, url, headers: {}, bridge: false });
const text = (result: CallToolResult) => (result.content[0] as { text: string }).text;
const GATEWAY = { kind: "gateway" } as const;

beforeAll(async () => {
  a = await startMcpMock({ tools: { who: { run: () => "a" }, fail: { run: () => ({ isError: true, content: [{ type: "text", text: "no" }] }) } } });
  b = await startMcpMock({ tools: { who: { run: () => "b" } } });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});
afterEach(async () => {
  await gateway?.close();
});

async function start(spec: Partial<GatewaySpec>, records?: ToolCallRecord[]): Promise<ToolGateway> {
  gateway = new ToolGateway({ connectTimeoutMs: 5000 });
  await gateway.apply({ upstreams: spec.upstreams ?? [], tools: spec.tools ?? [] }, records ? { onComplete: (r) => records.push(r) } : {});
  return gateway;
}

describe("ToolGateway", () => {
  it("routes <server>__<tool> by the longest server name, even when names contain the separator", async () => {
    await start({ upstreams: [mcp("x", a.url), mcp("x__y", b.url)] });
    const names = (await gateway.listTools({}, GATEWAY)).map((t) => t.tool.name);
    // Servers by name, each server's tools in its own order.
    expect(names).toEqual(["x__who", "x__fail", "x__y__who"]);
    expect(text(await gateway.callTool({}, GATEWAY, "x__who", {}))).toBe("a");
    expect(text(await gateway.callTool({}, GATEWAY, "x__y__who", {}))).toBe("b");
  });

  it("a tools: entry with load_balance rotates its endpoints; an isError answer is returned, not failed over", async () => {
    const rotate: NamedToolSpec = {
      name: "who",
      strategy: "load_balance",
      endpoints: [
        { provider: "a", serviceId: "who" },
        { provider: "b", serviceId: "who" },
      ],
    };
    const failing: NamedToolSpec = {
      name: "f",
      strategy: "priority",
      endpoints: [
        { provider: "a", serviceId: "fail" },
        { provider: "b", serviceId: "who" },
      ],
    };
    const records: ToolCallRecord[] = [];
    await start({ upstreams: [mcp("a", a.url), mcp("b", b.url)], tools: [rotate, failing] }, records);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(text(await gateway.callTool({}, GATEWAY, "who", {})));
    expect(answers).toEqual(["a", "b", "a", "b"]);
    const result = await gateway.callTool({}, GATEWAY, "f", {});
    expect(result.isError).toBe(true);
    expect(records.at(-1)).toMatchObject({ name: "f", server: "a", tool: "fail", status: 200, errorKind: "tool_error", attempts: 1 });
  });

  it("caches lists for the TTL, and an upstream's list_changed refreshes them and is passed on", async () => {
    const c = await startMcpMock({ tools: { one: { run: () => "1" } } });
    try {
      await start({ upstreams: [mcp("c", c.url)] });
      const changes: string[] = [];
      gateway.onListChanged((kind, server) => changes.push(`${kind}:${server}`));
      expect((await gateway.listTools({}, GATEWAY)).map((t) => t.tool.name)).toEqual(["c__one"]);
      c.addTool("two", { run: () => "2" });
      let names: string[] = [];
      for (let i = 0; i < 100 && !names.includes("c__two"); i++) {
        names = (await gateway.listTools({}, GATEWAY)).map((t) => t.tool.name);
        if (!names.includes("c__two")) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(names).toEqual(["c__one", "c__two"]);
      expect(changes).toContain("tools:c");
    } finally {
      await c.close();
    }
  });

  it("a refusal by a hook never reaches the upstream and is recorded", async () => {
    const records: ToolCallRecord[] = [];
    gateway = new ToolGateway();
    await gateway.apply(
      { upstreams: [mcp("a", a.url)], tools: [] },
      {
        beforeCall: () => {
          throw new ToolCallRefused("guardrail", "Blocked by guardrails: no");
        },
        onComplete: (r) => records.push(r),
      },
    );
    const before = a.calls.length;
    const result = await gateway.callTool({}, GATEWAY, "a__who", {});
    expect(result).toEqual({ isError: true, content: [{ type: "text", text: "Blocked by guardrails: no" }] });
    expect(a.calls.length).toBe(before);
    expect(records).toEqual([expect.objectContaining({ status: 400, errorKind: "guardrail", attempts: 0 })]);
  });

  it("a hook that fails still leaves exactly one record", async () => {
    const records: ToolCallRecord[] = [];
    gateway = new ToolGateway();
    await gateway.apply(
      { upstreams: [mcp("a", a.url)], tools: [] },
      {
        afterCall: () => {
          throw new Error("scanner bug");
        },
        onComplete: (r) => records.push(r),
      },
    );
    await expect(gateway.callTool({}, GATEWAY, "a__who", {})).rejects.toThrow("scanner bug");
    expect(records).toEqual([expect.objectContaining({ status: 500, errorKind: "internal", server: "a", tool: "who" })]);
  });

  it("a caller's mayUse hides tools from the list and refuses the call", async () => {
    await start({ upstreams: [mcp("a", a.url), mcp("b", b.url)] });
    const caller = { mayUse: (tool: string) => tool.startsWith("b/") };
    expect((await gateway.listTools(caller, GATEWAY)).map((t) => t.tool.name)).toEqual(["b__who"]);
    await expect(gateway.callTool(caller, GATEWAY, "a__who", {})).rejects.toThrow(/may not use tool "a__who"/);
  });

  it("a new configuration closes removed upstreams, replaces changed ones and keeps the others", async () => {
    await start({ upstreams: [mcp("a", a.url), mcp("b", b.url)] });
    const changes: string[] = [];
    gateway.onListChanged((kind, server) => changes.push(`${kind}:${server}`));
    // b removed, a moved to another server (a changed spec), c added.
    const c = await startMcpMock({ tools: { only_c: { run: () => "c" } } });
    try {
      await gateway.apply({ upstreams: [mcp("a", b.url), mcp("c", c.url)], tools: [] });
      expect(gateway.status().map((s) => [s.name, s.state])).toEqual([
        ["a", "connected"],
        ["c", "connected"],
      ]);
      expect(text(await gateway.callTool({}, GATEWAY, "a__who", {}))).toBe("b");
      expect((await gateway.listTools({}, GATEWAY)).map((t) => t.tool.name)).toEqual(["a__who", "c__only_c"]);
      await expect(gateway.callTool({}, GATEWAY, "b__who", {})).rejects.toThrow(/unknown tool/);
      expect(changes).toContain("tools:*");
    } finally {
      await c.close();
    }
  });

  it("a local stdio server that dies is started again; its env is passed", async () => {
    const fixture = fileURLToPath(new URL("./fixtures/stdio-server.mjs", import.meta.url));
    const local: UpstreamSpec = {
      kind: "mcp",
      name: "local",
      command: process.execPath,
      args: [fixture],
      env: { FIXTURE_GREETING: "hi" },
      headers: {},
      bridge: false,
    };
    await start({ upstreams: [local] });
    expect(text(await gateway.callTool({}, GATEWAY, "local__env", { name: "FIXTURE_GREETING" }))).toBe("hi");
    const first = text(await gateway.callTool({}, GATEWAY, "local__pid", {}));
    await expect(gateway.callTool({}, GATEWAY, "local__crash", {})).rejects.toThrow();
    let second: string | undefined;
    for (let i = 0; i < 200 && second === undefined; i++) {
      second = await gateway.callTool({}, GATEWAY, "local__pid", {}).then(text, () => undefined);
      if (second === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(second).toMatch(/^\d+$/);
    expect(second).not.toBe(first); // a new process
  });

  it("a local server that fails to start is reported with the last line of its stderr", async () => {
    const broken: UpstreamSpec = {
      kind: "mcp",
      name: "broken",
      command: process.execPath,
      args: ["-e", "console.error('config error: FOO_TOKEN is not set'); process.exit(2)"],
      headers: {},
      bridge: false,
    };
    await start({ upstreams: [broken] });
    expect(gateway.status()[0]!.state).toBe("failed");
    // (stderr arrives through a pipe: give a retry the chance to catch it, should it race the exit)
    let error = "";
    for (let i = 0; i < 100 && !error.includes("FOO_TOKEN"); i++) {
      error = gateway.status()[0]!.error ?? "";
      if (!error.includes("FOO_TOKEN")) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(error).toContain("(stderr: config error: FOO_TOKEN is not set)");
  });
});

describe("a tools: entry's skill", () => {
  it("is listed with the tool as _meta[bitrouter/skill], from bitrouter.yaml as written", async () => {
    const yaml = [
      "providers:",
      "  a:",
      "    api_protocol: mcp",
      `    api_base: ${a.url}`,
      "tools:",
      "  create_issue:",
      "    endpoints: [{ provider: a, service_id: who }]",
      '    description: "Create a GitHub issue"',
      '    skill: "github-issues"',
      "  plain:",
      "    endpoints: [{ provider: a, service_id: who }]",
      '    description: "No skill"',
    ].join("\n");
    const spec = specFromConfig(parseConfig(yaml, { env: {}, home: "/h" }).config);
    await start({ upstreams: spec.upstreams, tools: spec.tools });
    const listed = Object.fromEntries((await gateway.listTools({}, GATEWAY)).map((t) => [t.tool.name, t.tool]));
    expect(listed.create_issue?._meta).toEqual({ [SKILL_META_KEY]: "github-issues" });
    expect(SKILL_META_KEY).toBe("bitrouter/skill");
    expect(listed.plain?._meta).toBeUndefined();
  });
});
