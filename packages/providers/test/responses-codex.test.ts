// Responses requests as Codex (0.171) writes them: tool groups (`namespace`), freeform `custom` tools
// with a grammar, `additional_tools` input items, hosted tools, and the tool calls that come back.
import { describe, expect, it } from "vitest";
import type { CanonicalResponse, JsonObject, StreamEvent } from "@bitrouter/core";
import { anthropicCodec } from "../src/protocols/anthropic/index.js";
import { openaiChatCodec } from "../src/protocols/openai-chat/index.js";
import { openaiResponsesCodec as codec } from "../src/protocols/openai-responses/index.js";
import { parseSse } from "./sdk-helpers.js";

const grammar = { type: "grammar", syntax: "lark", definition: "start: SOURCE\nSOURCE: /.+/s" };
const codexRequest = {
  model: "gpt-6.2-sol",
  stream: true,
  tools: [
    { type: "function", name: "view_image", strict: false, parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } },
    { type: "web_search", external_web_access: false },
  ],
  input: [
    {
      type: "additional_tools",
      id: "at_1",
      role: "developer",
      tools: [
        {
          type: "namespace",
          name: "functions",
          description: "",
          tools: [
            { type: "custom", name: "exec", description: "Run JavaScript code", format: grammar },
            {
              type: "function",
              name: "wait",
              strict: false,
              parameters: { type: "object", properties: { cell_id: { type: "string" } }, required: ["cell_id"] },
            },
          ],
        },
        {
          type: "namespace",
          name: "clock",
          description: "",
          tools: [{ type: "function", name: "sleep", strict: false, parameters: { type: "object", properties: { duration_ms: { type: "number" } } } }],
        },
      ],
    },
    { type: "message", id: "msg_1", role: "developer", content: [{ type: "input_text", text: "You are Codex." }] },
    { type: "message", id: "msg_2", role: "user", content: [{ type: "input_text", text: "say hi" }] },
    { type: "custom_tool_call", call_id: "call_x", name: "exec", namespace: "functions", input: 'text("pong")' },
    { type: "custom_tool_call_output", call_id: "call_x", output: "pong" },
    { type: "function_call", call_id: "call_s", name: "sleep", namespace: "clock", arguments: '{"duration_ms":5}' },
    { type: "function_call_output", call_id: "call_s", output: "slept" },
  ],
  tool_choice: "auto",
  parallel_tool_calls: true,
  reasoning: { effort: "low", context: "all_turns" },
  store: false,
  include: ["reasoning.encrypted_content"],
  prompt_cache_key: "k",
  text: { verbosity: "low" },
  client_metadata: { thread_id: "t" },
};

const decoded = () => codec.decodeRequest(structuredClone(codexRequest));

describe("Codex requests translated for other protocols", () => {
  it("flattens tool groups and turns freeform tools into one-string-argument functions", () => {
    const body = anthropicCodec.encodeRequest(decoded(), { model: "claude" }).body as {
      tools: Array<{ name: string; input_schema: JsonObject }>;
      messages: Array<{ role: string; content: unknown }>;
    };
    expect(body.tools.map((t) => t.name)).toEqual(["view_image", "exec", "wait", "sleep"]);
    const exec = body.tools[1]!.input_schema as { properties: { input: { type: string; description: string } }; required: string[] };
    expect(exec.properties.input.type).toBe("string");
    expect(exec.properties.input.description).toContain("start: SOURCE"); // the grammar travels with the tool
    expect(exec.required).toEqual(["input"]);
  });

  it("carries freeform and namespaced calls of the conversation as ordinary tool calls and results", () => {
    const body = openaiChatCodec.encodeRequest(decoded(), { model: "gpt" }).body as {
      messages: Array<{ role: string; tool_calls?: Array<{ function: { name: string; arguments: string } }>; content?: unknown }>;
    };
    const calls = body.messages.flatMap((m) => m.tool_calls ?? []).map((c) => c.function);
    expect(calls).toEqual([
      { name: "exec", arguments: '{"input":"text(\\"pong\\")"}' },
      { name: "sleep", arguments: '{"duration_ms":5}' },
    ]);
    expect(body.messages.filter((m) => m.role === "tool").map((m) => m.content)).toEqual(["pong", "slept"]);
  });

  it("keeps hosted tools aside, with where they were sent", () => {
    expect(decoded().hostedTools).toEqual([{ param: "tools[1]", tool: { type: "web_search", external_web_access: false } }]);
  });

  it("refuses two tools of one name across groups, naming the second", () => {
    const clash = structuredClone(codexRequest);
    clash.tools.push({
      type: "function",
      name: "sleep",
      strict: false,
      parameters: { type: "object", properties: { path: { type: "string" } }, required: [] },
    });
    expect(() => codec.decodeRequest(clash)).toThrow(/tools\[1\]\.tools\[0\].*second tool named "sleep"/);
  });
});

describe("answers to Codex name the tool the way Codex declared it", () => {
  const request = decoded();
  const answer: CanonicalResponse = {
    id: "msg_1",
    model: "claude",
    created: 1,
    content: [
      { type: "tool_call", id: "toolu_1", name: "exec", arguments: '{"input":"text(\\"hi\\")"}' },
      { type: "tool_call", id: "toolu_2", name: "sleep", arguments: '{"duration_ms":5}' },
    ],
    stopReason: "tool_calls",
    usage: { inputTokens: 10, outputTokens: 5 },
  };

  it("non-streaming: a custom_tool_call with the raw text, a function_call with its namespace", () => {
    const out = (codec.encodeResponse(answer, request) as { output: JsonObject[] }).output;
    expect(out[0]).toMatchObject({ type: "custom_tool_call", call_id: "toolu_1", name: "exec", input: 'text("hi")', namespace: "functions" });
    expect(out[1]).toMatchObject({ type: "function_call", call_id: "toolu_2", name: "sleep", arguments: '{"duration_ms":5}', namespace: "clock" });
  });

  it("streaming: the custom call's text arrives as custom_tool_call_input events and in output_item.done", () => {
    const encoder = codec.createStreamEncoder(request);
    const events: StreamEvent[] = [
      { type: "start", id: "msg_1", model: "claude", created: 1 },
      { type: "tool_call_start", index: 0, id: "toolu_1", name: "exec" },
      { type: "tool_call_delta", index: 0, argumentsDelta: '{"input":"te' },
      { type: "tool_call_delta", index: 0, argumentsDelta: 'xt(\\"hi\\")"}' },
      { type: "part_end", index: 0 },
      { type: "finish", stopReason: "tool_calls", usage: { inputTokens: 10, outputTokens: 5 } },
    ];
    const sse = parseSse(events.map((e) => encoder.encode(e)).join("") + encoder.end()).map((e) => ({ data: JSON.parse(e.data) as JsonObject }));
    const types = sse.map((e) => e.data.type);
    expect(types).not.toContain("response.function_call_arguments.delta");
    expect(sse.find((e) => e.data.type === "response.custom_tool_call_input.done")!.data).toMatchObject({ input: 'text("hi")' });
    expect(sse.find((e) => e.data.type === "response.output_item.done")!.data).toMatchObject({
      item: { type: "custom_tool_call", call_id: "toolu_1", name: "exec", input: 'text("hi")', namespace: "functions" },
    });
  });
});

describe("Codex requests re-encoded for a Responses upstream", () => {
  it("regroup namespaces, keep freeform tools, hosted tools and the conversation's call items", () => {
    const body = codec.encodeRequest(decoded(), { model: "gpt-6.2-sol" }).body as { tools: JsonObject[]; input: JsonObject[] };
    expect(body.tools).toEqual([
      { type: "function", name: "view_image", parameters: codexRequest.tools[0]!.parameters, strict: false },
      {
        type: "namespace",
        name: "functions",
        description: "",
        tools: [
          { type: "custom", name: "exec", description: "Run JavaScript code", format: grammar },
          expect.objectContaining({ type: "function", name: "wait" }),
        ],
      },
      { type: "namespace", name: "clock", description: "", tools: [expect.objectContaining({ type: "function", name: "sleep" })] },
      { type: "web_search", external_web_access: false },
    ]);
    expect(body.input.filter((i) => i.type !== undefined && i.type !== "message" && i.role === undefined)).toEqual([
      { type: "custom_tool_call", call_id: "call_x", name: "exec", input: 'text("pong")', namespace: "functions" },
      { type: "custom_tool_call_output", call_id: "call_x", output: "pong" },
      { type: "function_call", call_id: "call_s", name: "sleep", arguments: '{"duration_ms":5}', namespace: "clock" },
      { type: "function_call_output", call_id: "call_s", output: "slept" },
    ]);
  });
});
