import type { CanonicalRequest, CanonicalResponse, StreamEvent, ToolDefinition } from "@bitrouter/core";
import { describe, expect, it } from "vitest";
import type { GuardrailsConfig } from "../src/index.js";
import { GuardrailError, createGuardrails, createToolGuard } from "../src/index.js";
import { ctx, recordingLogger } from "./helpers.js";

const TOOLS_CONFIG: GuardrailsConfig["tools"] = {
  enabled: true,
  providers: {
    openai: {
      filter: { deny: ["shell"] },
      param_restrictions: {
        rules: {
          send_email: { deny: ["bcc", "attachments"], action: "strip" },
          transfer: { deny: ["override_limit"], action: "block" },
        },
      },
    },
    "github-mcp": { filter: { allow: ["create_issue", "list_issues"] } },
  },
};

const schema = (props: string[], required: string[] = []): ToolDefinition["parameters"] => ({
  type: "object",
  properties: Object.fromEntries(props.map((p) => [p, { type: "string", description: `the ${p}` }])),
  required,
  additionalProperties: false,
});

const TOOLS: ToolDefinition[] = [
  { name: "read_file", description: "Reads a file", parameters: schema(["path"], ["path"]) },
  { name: "shell", description: "Runs a command", parameters: schema(["cmd"], ["cmd"]) },
  { name: "send_email", description: "Sends mail", parameters: schema(["to", "bcc", "body", "attachments"], ["to", "bcc"]) },
  { name: "transfer", parameters: schema(["amount", "override_limit"]) },
];

describe("ToolGuard (plain functions, shared with the MCP bridge)", () => {
  const guard = createToolGuard(TOOLS_CONFIG)!;

  it("filterTools: drops denied tools, keeps order, strips denied parameters from schemas", () => {
    const out = guard.filterTools("openai", TOOLS);
    expect(out.map((t) => t.name)).toEqual(["read_file", "send_email", "transfer"]);
    expect(out[0]).toBe(TOOLS[0]); // untouched tools are the same objects
    expect(out[1]?.parameters).toEqual({
      type: "object",
      properties: { to: { type: "string", description: "the to" }, body: { type: "string", description: "the body" } },
      required: ["to"],
      additionalProperties: false,
    });
    expect(Object.keys(out[2]?.parameters.properties as object)).toEqual(["amount"]);
    expect(TOOLS[2]?.parameters.required).toEqual(["to", "bcc"]); // input not mutated
  });

  it("filterTools: an allow list keeps only the listed tools; providers without rules see everything", () => {
    const mcpTools = [
      { name: "create_issue", inputSchema: { type: "object" } },
      { name: "delete_repo", inputSchema: { type: "object" } },
      { name: "list_issues", inputSchema: { type: "object" } },
    ];
    expect(guard.filterTools("github-mcp", mcpTools).map((t) => t.name)).toEqual(["create_issue", "list_issues"]);
    expect(guard.filterTools("anthropic", TOOLS)).toHaveLength(4);
  });

  it("restrictToolCall: strip removes denied params (string and object forms)", () => {
    expect(guard.restrictToolCall("openai", "send_email", '{"to":"a@b.c","bcc":"spy@x.y","body":"hi"}')).toEqual({
      action: "strip",
      arguments: '{"to":"a@b.c","body":"hi"}',
      stripped: ["bcc"],
    });
    expect(guard.restrictToolCall("openai", "send_email", { to: "a", attachments: ["x"] })).toEqual({
      action: "strip",
      arguments: { to: "a" },
      stripped: ["attachments"],
    });
    expect(guard.restrictToolCall("openai", "send_email", '{"to":"a"}')).toEqual({ action: "allow", arguments: '{"to":"a"}' });
  });

  it("restrictToolCall: block refuses, naming the parameter; denied tools and unparseable arguments are refused", () => {
    expect(guard.restrictToolCall("openai", "transfer", '{"amount":5,"override_limit":true}')).toEqual({
      action: "block",
      reason: 'tool "transfer" may not receive parameter(s) override_limit',
    });
    expect(guard.restrictToolCall("openai", "shell", "{}").action).toBe("block");
    expect(guard.restrictToolCall("openai", "send_email", '{"to": "a", "bcc"').action).toBe("block");
    expect(guard.restrictToolCall("openai", "read_file", "not json at all").action).toBe("allow"); // no rule: not inspected
  });

  it("is null when the section is absent or disabled", () => {
    expect(createToolGuard(undefined)).toBeNull();
    expect(createToolGuard({ enabled: false, providers: {} })).toBeNull();
  });
});

describe("tool guardrails on requests and answers", () => {
  const g = createGuardrails({ disabled_patterns: ["pii_emails"], tools: TOOLS_CONFIG }, { logger: recordingLogger() })!;
  const request: CanonicalRequest = {
    model: "gpt-4o",
    stream: false,
    messages: [{ role: "user", content: [{ type: "text", text: "mail the report" }] }],
    tools: TOOLS,
    toolChoice: { type: "auto" },
  };

  it("checkRequest filters the tool list for the target provider only", () => {
    expect(g.checkRequest(request, ctx("openai")).tools?.map((t) => t.name)).toEqual(["read_file", "send_email", "transfer"]);
    expect(g.checkRequest(request, ctx("anthropic"))).toBe(request);
    expect(g.checkRequest(request, ctx())).toBe(request); // no target yet: nothing to apply
  });

  it("a tool_choice naming a denied tool is refused", () => {
    expect(() => g.checkRequest({ ...request, toolChoice: { type: "tool", name: "shell" } }, ctx("openai"))).toThrow(GuardrailError);
  });

  it("when every tool is filtered out, tools and tool_choice are dropped", () => {
    const out = g.checkRequest({ ...request, tools: TOOLS.slice(1, 2), toolChoice: { type: "required" } }, ctx("openai"));
    expect(out.tools).toBeUndefined();
    expect(out.toolChoice).toBeUndefined();
  });

  const answer = (name: string, args: string): CanonicalResponse => ({
    id: "r",
    model: "gpt-4o",
    created: 1,
    stopReason: "tool_calls",
    usage: { inputTokens: 1, outputTokens: 1 },
    content: [{ type: "tool_call", id: "c1", name, arguments: args }],
  });

  it("checkResponse strips denied params from the model's tool calls, and logs it", () => {
    const c = ctx("openai");
    const out = g.checkResponse(answer("send_email", '{"to":"a@b.c","bcc":"x@y.z"}'), c);
    expect(out.content[0]).toMatchObject({ arguments: '{"to":"a@b.c"}' });
    expect(c.counters.guardrail_violations).toBe(1);
  });

  it("checkResponse blocks a call to a denied tool or with a blocked param", () => {
    expect(() => g.checkResponse(answer("shell", '{"cmd":"ls"}'), ctx("openai"))).toThrow(/tool "shell" is not allowed for provider "openai"/);
    expect(() => g.checkResponse(answer("transfer", '{"override_limit":true}'), ctx("openai"))).toThrow(/override_limit/);
  });

  it("streams: a restricted tool's arguments are buffered and released stripped at part_end", () => {
    const guard = g.createStreamGuard(ctx("openai"));
    const events: StreamEvent[] = [
      { type: "tool_call_start", index: 0, id: "c1", name: "send_email" },
      { type: "tool_call_delta", index: 0, argumentsDelta: '{"to":"a@b.c",' },
      { type: "tool_call_delta", index: 0, argumentsDelta: '"bcc":"x@y.z"}' },
      { type: "part_end", index: 0 },
      { type: "tool_call_start", index: 1, id: "c2", name: "read_file" },
      { type: "tool_call_delta", index: 1, argumentsDelta: '{"path":"a.txt"}' },
      { type: "finish", stopReason: "tool_calls" },
    ];
    expect(events.flatMap((e) => guard.push(e))).toEqual([
      { type: "tool_call_start", index: 0, id: "c1", name: "send_email" },
      { type: "tool_call_delta", index: 0, argumentsDelta: '{"to":"a@b.c"}' },
      { type: "part_end", index: 0 },
      { type: "tool_call_start", index: 1, id: "c2", name: "read_file" },
      { type: "tool_call_delta", index: 1, argumentsDelta: '{"path":"a.txt"}' },
      { type: "finish", stopReason: "tool_calls" },
    ]);
  });

  it("streams without part_end: a restricted call is released when the next part starts; late deltas for it block", () => {
    const guard = g.createStreamGuard(ctx("openai"));
    const out = [
      ...guard.push({ type: "tool_call_start", index: 0, id: "c1", name: "send_email" }),
      ...guard.push({ type: "tool_call_delta", index: 0, argumentsDelta: '{"to":"a@b.c","bcc":"x@y.z"}' }),
      ...guard.push({ type: "tool_call_start", index: 1, id: "c2", name: "read_file" }),
    ];
    expect(out).toEqual([
      { type: "tool_call_start", index: 0, id: "c1", name: "send_email" },
      { type: "tool_call_delta", index: 0, argumentsDelta: '{"to":"a@b.c"}' },
      { type: "tool_call_start", index: 1, id: "c2", name: "read_file" },
    ]);
    expect(() => guard.push({ type: "tool_call_delta", index: 0, argumentsDelta: ',"bcc":"late@y.z"}' })).toThrow(GuardrailError);
  });

  it("streams: a call to a denied tool ends the stream at tool_call_start", () => {
    const guard = g.createStreamGuard(ctx("openai"));
    expect(() => guard.push({ type: "tool_call_start", index: 0, id: "c1", name: "shell" })).toThrow(GuardrailError);
  });
});
