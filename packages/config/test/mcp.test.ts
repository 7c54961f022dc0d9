import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../src/index.js";
import { thrown } from "./helpers.js";

const parse = (yaml: string) => parseConfig(yaml, { env: {}, home: "/h" }).config;
const issues = (yaml: string) => {
  const error = thrown(() => parse(yaml));
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
};

describe("MCP servers and agents", () => {
  it("keeps a stdio MCP server's command, args, env and cwd (no api_base needed)", () => {
    const config = parse(`inherit_defaults: false
providers:
  files:
    api_protocol: mcp
    command: npx
    args: [-y, "@modelcontextprotocol/server-filesystem", /tmp]
    env: { LOG: debug }
    cwd: /tmp
`);
    expect(config.providers.files).toMatchObject({
      api_protocol: "mcp",
      command: "npx",
      args: ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
      env: { LOG: "debug" },
      cwd: "/tmp",
    });
    expect(config.providers.files!.api_base).toBeUndefined();
  });

  it("refuses command on a model provider, and command together with api_base", () => {
    expect(issues("providers:\n  x:\n    api_protocol: openai\n    api_base: https://a.example\n    command: foo\n")).toEqual([
      "providers.x.command: only valid with api_protocol: mcp (got openai)",
    ]);
    expect(issues("providers:\n  x:\n    api_protocol: mcp\n    api_base: https://a.example\n    command: foo\n")).toEqual([
      "providers.x.command: set either command (a local stdio server) or api_base (a Streamable HTTP server), not both",
    ]);
  });

  it("reads agents: a remote A2A agent by url, a local ACP agent by command, never both", () => {
    const config = parse("agents:\n  r: { url: https://agent.example }\n  l: { command: claude-code-acp, args: [--x] }\n");
    expect(config.agents).toEqual({ r: { url: "https://agent.example" }, l: { command: "claude-code-acp", args: ["--x"] } });
    expect(issues("agents:\n  r: { url: https://agent.example, command: x }\n")).toEqual([
      "agents.r.url: set either url (a remote A2A agent) or command (a local ACP agent)",
    ]);
  });
});

describe("tools: entries", () => {
  it("warn when an endpoint's provider cannot serve tools", () => {
    const { warnings } = parseConfig("tools:\n  t:\n    endpoints: [{ provider: openai, service_id: x }]\n", { env: {}, home: "/h" });
    expect(warnings).toContain('tools.t.endpoints[0]: provider "openai" speaks openai, not mcp or rest: calls to it fail');
  });
});
