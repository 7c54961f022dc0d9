import { describe, expect, it } from "vitest";
import type { CanonicalRequest, StreamEvent } from "@bitrouter/core";
import { openaiResponsesCodec as codec } from "../src/protocols/openai-responses/index.js";
import { BitrouterError } from "@bitrouter/core";
import { collectParts, decodeStream, encodeStream, parseSse } from "./sdk-helpers.js";

function rejects(body: unknown): BitrouterError {
  try {
    codec.decodeRequest(body);
  } catch (e) {
    expect(e).toBeInstanceOf(BitrouterError);
    return e as BitrouterError;
  }
  throw new Error("expected decodeRequest to throw");
}

describe("openai-responses decodeRequest", () => {
  it("reads a string input, instructions and options", () => {
    const req = codec.decodeRequest({
      model: "gpt-5",
      instructions: "Be terse.",
      input: "Hello",
      max_output_tokens: 50,
      temperature: 0.5,
      top_p: 0.8,
      reasoning: { effort: "minimal", summary: "detailed" },
      text: { format: { type: "json_schema", name: "r", schema: { type: "object" }, strict: true } },
      tool_choice: { type: "function", name: "f" },
      parallel_tool_calls: false,
      user: "u",
      store: false,
      include: ["reasoning.encrypted_content"],
      truncation: "auto",
      metadata: { a: "b" },
      stream: true,
    });
    expect(req).toEqual({
      model: "gpt-5",
      system: [{ type: "text", text: "Be terse." }],
      messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }],
      stream: true,
      toolChoice: { type: "tool", name: "f" },
      parallelToolCalls: false,
      responseFormat: { type: "json_schema", name: "r", schema: { type: "object" }, strict: true },
      maxTokens: 50,
      temperature: 0.5,
      topP: 0.8,
      reasoning: { effort: "minimal", includeThoughts: true },
      user: "u",
    });
  });

  it("reads items: messages of every role, function calls and outputs, reasoning with encrypted content", () => {
    const req = codec.decodeRequest({
      model: "m",
      input: [
        { role: "developer", content: "D" },
        {
          type: "message",
          role: "user",
          content: [
            { type: "input_text", text: "see" },
            { type: "input_image", image_url: "data:image/png;base64,QUJD", detail: "low" },
            { type: "input_file", file_id: "file-1" },
            { type: "input_file", file_url: "https://x.test/a.pdf" },
            { type: "input_image", file_id: "file-img" },
          ],
        },
        { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "plan" }], encrypted_content: "gAAA" },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "calling", annotations: [] }] },
        { type: "function_call", id: "fc_1", call_id: "call_1", name: "f", arguments: '{"a":1}' },
        { type: "function_call", call_id: "call_2", name: "g", arguments: "{}" },
        { type: "function_call_output", call_id: "call_1", output: "one" },
        { type: "function_call_output", call_id: "call_2", output: [{ type: "input_text", text: "two" }] },
        { role: "system", content: [{ type: "input_text", text: "S" }] },
      ],
    });
    expect(req.system).toEqual([
      { type: "text", text: "D" },
      { type: "text", text: "S" },
    ]);
    expect(req.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "see" },
          { type: "image", source: { kind: "base64", mediaType: "image/png", data: "QUJD" }, detail: "low" },
          { type: "file", source: { kind: "file_id", fileId: "file-1" } },
          { type: "file", source: { kind: "url", url: "https://x.test/a.pdf" } },
          { type: "file", source: { kind: "file_id", fileId: "file-img" }, mediaType: "image/*" },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "reasoning", text: "plan", redactedData: "gAAA", id: "rs_1" },
          { type: "text", text: "calling" },
          { type: "tool_call", id: "call_1", name: "f", arguments: '{"a":1}' },
          { type: "tool_call", id: "call_2", name: "g", arguments: "{}" },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", toolCallId: "call_1", content: [{ type: "text", text: "one" }] },
          { type: "tool_result", toolCallId: "call_2", content: [{ type: "text", text: "two" }] },
        ],
      },
    ]);
  });

  it("rejects server-side state, built-in tools and unknown items with the field named", () => {
    expect(rejects({ model: "m", input: "x", previous_response_id: "resp_1" })).toMatchObject({ kind: "invalid_request", param: "previous_response_id" });
    expect(rejects({ model: "m", input: "x", conversation: "conv_1" }).param).toBe("conversation");
    // Hosted tools are kept as written (only a Responses upstream can take them; the router refuses the rest).
    expect(codec.decodeRequest({ model: "m", input: "x", tools: [{ type: "web_search" }] }).hostedTools).toEqual([
      { param: "tools[0]", tool: { type: "web_search" } },
    ]);
    expect(rejects({ model: "m", input: [{ type: "item_reference", id: "msg_1" }] }).param).toBe("input[0].type");
    expect(rejects({ model: "m", input: [{ type: "computer_call_output", call_id: "c" }] }).param).toBe("input[0].type");
    expect(rejects({ model: "m", input: [{ role: "user", content: [{ type: "input_audio" }] }] }).param).toBe("input[0].content[0].type");
    expect(rejects({ model: "m" }).param).toBe("input");
    expect(rejects({ model: "m", input: "x", reasoning: { effort: "max" } }).param).toBe("reasoning.effort");
    // store: true is accepted (nothing is stored either way)
    expect(codec.decodeRequest({ model: "m", input: "x", store: true }).messages).toHaveLength(1);
  });
});

describe("openai-responses encodeRequest", () => {
  it("builds /responses with instructions, items, strict:false tools and store:false", () => {
    const req: CanonicalRequest = {
      model: "v",
      system: [
        { type: "text", text: "A" },
        { type: "text", text: "B" },
      ],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "q" },
            { type: "file", source: { kind: "base64", mediaType: "application/pdf", data: "JVB" }, filename: "a.pdf" },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "reasoning", text: "from another provider", signature: "sig" },
            { type: "text", text: "let me" },
            { type: "tool_call", id: "c1", name: "f", arguments: "{}" },
          ],
        },
        { role: "user", content: [{ type: "tool_result", toolCallId: "c1", content: [{ type: "text", text: "done" }] }] },
      ],
      tools: [{ name: "f", description: "d", parameters: { type: "object" } }],
      toolChoice: { type: "required" },
      maxTokens: 64,
      stop: ["x"],
      reasoning: { effort: "low", includeThoughts: true },
      stream: false,
    };
    const up = codec.encodeRequest(req, { model: "gpt-5" });
    expect(up).toEqual({
      path: "/responses",
      body: {
        model: "gpt-5",
        instructions: "A\n\nB",
        input: [
          {
            role: "user",
            content: [
              { type: "input_text", text: "q" },
              { type: "input_file", file_data: "data:application/pdf;base64,JVB", filename: "a.pdf" },
            ],
          },
          { role: "assistant", content: "let me" },
          { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
          { type: "function_call_output", call_id: "c1", output: "done" },
        ],
        tools: [{ type: "function", name: "f", description: "d", parameters: { type: "object" }, strict: false }],
        tool_choice: "required",
        max_output_tokens: 64,
        reasoning: { effort: "low", summary: "auto" },
        stream: false,
        store: false,
      },
    });
  });
});

describe("openai-responses decodeResponse", () => {
  it("reads output items and usage; incomplete means length", () => {
    const res = codec.decodeResponse({
      id: "resp_1",
      object: "response",
      created_at: 100,
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      model: "gpt-5",
      output: [
        {
          id: "rs_1",
          type: "reasoning",
          summary: [
            { type: "summary_text", text: "a" },
            { type: "summary_text", text: "b" },
          ],
        },
        { id: "msg_1", type: "message", status: "incomplete", role: "assistant", content: [{ type: "output_text", text: "partial", annotations: [] }] },
        { id: "ws_1", type: "web_search_call", status: "completed" },
      ],
      usage: {
        input_tokens: 10,
        input_tokens_details: { cached_tokens: 3 },
        output_tokens: 7,
        output_tokens_details: { reasoning_tokens: 5 },
        total_tokens: 17,
      },
    });
    expect(res).toEqual({
      id: "resp_1",
      model: "gpt-5",
      created: 100,
      content: [
        { type: "reasoning", text: "a\n\nb", id: "rs_1" },
        { type: "text", text: "partial" },
      ],
      stopReason: "length",
      usage: { inputTokens: 10, outputTokens: 7, cacheReadTokens: 3, reasoningTokens: 5 },
    });
  });

  it("function calls mean tool_calls; a failed response is an error", () => {
    const res = codec.decodeResponse({
      id: "r",
      status: "completed",
      output: [{ type: "function_call", id: "fc", call_id: "call_9", name: "f", arguments: { k: "v" }, status: "completed" }],
    });
    expect(res.stopReason).toBe("tool_calls");
    expect(res.content).toEqual([{ type: "tool_call", id: "call_9", name: "f", arguments: '{"k":"v"}' }]);
    expect(() => codec.decodeResponse({ id: "r", status: "failed", error: { code: "server_error", message: "boom" }, output: [] })).toThrow(/boom/);
  });
});

describe("openai-responses stream encoder", () => {
  const request: CanonicalRequest = { model: "m", messages: [], stream: true };
  const start: StreamEvent = { type: "start", id: "resp_abc", model: "m", created: 3 };
  const run = (events: StreamEvent[]) =>
    parseSse(encodeStream(codec, request, events)).map((e) => ({ event: e.event, data: JSON.parse(e.data) as Record<string, unknown> & { type: string } }));

  it("emits the API's event order with matching event names and consecutive sequence numbers", () => {
    const out = run([
      start,
      { type: "text_delta", index: 0, text: "Hi" },
      { type: "text_delta", index: 0, text: "!" },
      { type: "finish", stopReason: "stop", usage: { inputTokens: 1, outputTokens: 2 } },
    ]);
    expect(out.map((e) => e.data.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    for (const e of out) expect(e.event).toBe(e.data.type);
    expect(out.map((e) => e.data.sequence_number)).toEqual(out.map((_, i) => i));
    expect(out[6]!.data).toMatchObject({ text: "Hi!", output_index: 0, content_index: 0 });
    expect(out.at(-1)!.data.response).toMatchObject({
      status: "completed",
      output: [{ type: "message", status: "completed", content: [{ type: "output_text", text: "Hi!", annotations: [] }] }],
      usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 },
    });
  });

  it("reasoning uses summary events; function calls use argument events; empty arguments still close", () => {
    const out = run([
      start,
      { type: "reasoning_delta", index: 0, text: "think" },
      { type: "reasoning_signature", index: 0, redactedData: "enc" },
      { type: "tool_call_start", index: 1, id: "call_1", name: "f" },
      { type: "tool_call_start", index: 2, id: "call_2", name: "g" },
      { type: "tool_call_delta", index: 1, argumentsDelta: '{"a":' },
      { type: "tool_call_delta", index: 2, argumentsDelta: "{}" },
      { type: "tool_call_delta", index: 1, argumentsDelta: "1}" },
      { type: "finish", stopReason: "tool_calls" },
    ]);
    const types = out.map((e) => e.data.type);
    expect(types).toContain("response.reasoning_summary_part.added");
    expect(types).toContain("response.reasoning_summary_text.delta");
    const argsDone = out
      .filter((e) => e.data.type === "response.function_call_arguments.done")
      .map((e) => [e.data.output_index, e.data.arguments, e.data.name]);
    expect(argsDone).toEqual([
      [1, '{"a":1}', "f"],
      [2, "{}", "g"],
    ]);
    const final = out.at(-1)!.data.response as { output: Array<Record<string, unknown>> };
    expect(final.output).toEqual([
      { id: "rs_abc_0", type: "reasoning", summary: [{ type: "summary_text", text: "think" }], encrypted_content: "enc" },
      { id: "fc_abc_1", type: "function_call", status: "completed", arguments: '{"a":1}', call_id: "call_1", name: "f" },
      { id: "fc_abc_2", type: "function_call", status: "completed", arguments: "{}", call_id: "call_2", name: "g" },
    ]);
  });

  it("interleaved parallel tool calls come out as non-overlapping items, nothing lost", () => {
    const out = run([
      start,
      { type: "tool_call_start", index: 0, id: "call_1", name: "f" },
      { type: "tool_call_start", index: 1, id: "call_2", name: "g" },
      { type: "tool_call_delta", index: 1, argumentsDelta: '{"b":' },
      { type: "tool_call_delta", index: 0, argumentsDelta: '{"a":1}' },
      { type: "tool_call_delta", index: 1, argumentsDelta: "2}" },
      { type: "text_delta", index: 2, text: "done" },
      { type: "finish", stopReason: "tool_calls" },
    ]);
    // Between an item's output_item.added and output_item.done, no other item's events appear.
    const owner = out.filter((e) => typeof e.data.output_index === "number").map((e) => e.data.output_index as number);
    expect(owner).toEqual([...owner].sort((a, b) => a - b));
    const args = (i: number) =>
      out
        .filter((e) => e.data.type === "response.function_call_arguments.delta" && e.data.output_index === i)
        .map((e) => e.data.delta)
        .join("");
    expect([args(0), args(1)]).toEqual(['{"a":1}', '{"b":2}']);
    const final = out.at(-1)!.data.response as { output: Array<Record<string, unknown>> };
    expect(final.output.map((o) => [o.type, o.call_id ?? o.content])).toEqual([
      ["function_call", "call_1"],
      ["function_call", "call_2"],
      ["message", [{ type: "output_text", annotations: [], logprobs: [], text: "done" }]],
    ]);
  });

  it("an error after start gives error + response.failed and never response.completed", () => {
    const out = run([start, { type: "error", error: { kind: "overloaded", message: "try later", status: 503 } }]);
    expect(out.map((e) => e.data.type)).toEqual(["response.created", "response.in_progress", "error", "response.failed"]);
    expect(out[2]!.data).toMatchObject({ code: "overloaded", message: "try later", param: null });
    expect(out[3]!.data.response).toMatchObject({ status: "failed", error: { code: "overloaded", message: "try later" } });
  });

  it("events that stop without finish end as failed", () => {
    const out = run([start, { type: "text_delta", index: 0, text: "x" }]);
    expect(out.at(-1)!.data).toMatchObject({ type: "response.failed", response: { error: { message: "stream ended early" } } });
  });
});

describe("openai-responses stream decoder", () => {
  const sse = (events: Array<Record<string, unknown>>) =>
    events.map((e, i) => `event: ${e.type as string}\ndata: ${JSON.stringify({ ...e, sequence_number: i })}\n\n`).join("");
  const response = { id: "resp_1", object: "response", created_at: 7, status: "in_progress", model: "gpt-5", output: [] };

  it("turns the typed events into canonical parts, usage and finish", () => {
    const events = decodeStream(
      codec,
      sse([
        { type: "response.created", response },
        { type: "response.in_progress", response },
        { type: "response.output_item.added", output_index: 0, item: { id: "rs_1", type: "reasoning", summary: [] } },
        { type: "response.reasoning_summary_text.delta", item_id: "rs_1", output_index: 0, summary_index: 0, delta: "a" },
        { type: "response.reasoning_summary_text.delta", item_id: "rs_1", output_index: 0, summary_index: 1, delta: "b" },
        { type: "response.output_item.done", output_index: 0, item: { id: "rs_1", type: "reasoning", summary: [], encrypted_content: "enc" } },
        { type: "response.output_item.added", output_index: 1, item: { id: "msg_1", type: "message", role: "assistant", status: "in_progress", content: [] } },
        { type: "response.content_part.added", item_id: "msg_1", output_index: 1, content_index: 0, part: { type: "output_text", text: "", annotations: [] } },
        { type: "response.output_text.delta", item_id: "msg_1", output_index: 1, content_index: 0, delta: "Hel" },
        { type: "response.output_text.delta", item_id: "msg_1", output_index: 1, content_index: 0, delta: "lo" },
        {
          type: "response.output_item.added",
          output_index: 2,
          item: { id: "fc_1", type: "function_call", call_id: "call_1", name: "f", arguments: "", status: "in_progress" },
        },
        { type: "response.function_call_arguments.delta", item_id: "fc_1", output_index: 2, delta: '{"x":' },
        { type: "response.function_call_arguments.delta", item_id: "fc_1", output_index: 2, delta: "1}" },
        { type: "response.function_call_arguments.done", item_id: "fc_1", output_index: 2, arguments: '{"x":1}' },
        {
          type: "response.completed",
          response: {
            ...response,
            status: "completed",
            usage: {
              input_tokens: 5,
              input_tokens_details: { cached_tokens: 2 },
              output_tokens: 9,
              output_tokens_details: { reasoning_tokens: 4 },
              total_tokens: 14,
            },
          },
        },
      ]),
    );
    expect(events[0]).toEqual({ type: "start", id: "resp_1", model: "gpt-5", created: 7 });
    expect([...collectParts(events).entries()]).toEqual([
      [0, { kind: "reasoning", text: "a\n\nb" }],
      [1, { kind: "text", text: "Hello" }],
      [2, { kind: "tool", text: '{"x":1}', id: "call_1", name: "f" }],
    ]);
    expect(events).toContainEqual({ type: "reasoning_signature", index: 0, redactedData: "enc" });
    const usage = { inputTokens: 5, outputTokens: 9, cacheReadTokens: 2, reasoningTokens: 4 };
    expect(events.at(-1)).toEqual({ type: "finish", stopReason: "tool_calls", usage });
  });

  it("error and response.failed become one error event; a cut stream is an error", () => {
    const failed = decodeStream(
      codec,
      sse([
        { type: "response.created", response },
        { type: "error", code: "rate_limit_exceeded", message: "slow", param: null },
        { type: "response.failed", response: { ...response, status: "failed", error: { code: "rate_limit_exceeded", message: "slow" } } },
      ]),
    );
    expect(failed.filter((e) => e.type === "error")).toEqual([
      { type: "error", error: { kind: "rate_limit", message: "slow", status: 429, code: "rate_limit_exceeded" } },
    ]);
    const cut = decodeStream(
      codec,
      sse([
        { type: "response.created", response },
        { type: "response.output_text.delta", output_index: 0, content_index: 0, delta: "x" },
      ]),
    );
    expect(cut.at(-1)).toMatchObject({ type: "error", error: { message: expect.stringContaining("ended early") } });
  });

  it("incomplete responses finish with length", () => {
    const events = decodeStream(
      codec,
      sse([
        { type: "response.created", response },
        { type: "response.incomplete", response: { ...response, status: "incomplete", incomplete_details: { reason: "max_output_tokens" } } },
      ]),
    );
    expect(events.at(-1)).toEqual({ type: "finish", stopReason: "length" });
  });
});

describe("openai-responses leniency for chat-shaped tools", () => {
  it("accepts {type: function, function: {...}} tools and tool_choice", () => {
    const req = codec.decodeRequest({
      model: "m",
      input: "x",
      tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
      tool_choice: { type: "function", function: { name: "f" } },
    });
    expect(req.tools).toEqual([{ name: "f", parameters: { type: "object" } }]);
    expect(req.toolChoice).toEqual({ type: "tool", name: "f" });
  });
});
