/**
 * Anthropic Messages (`POST /v1/messages`).
 * Stream: message_start (empty content, input usage), then per content block content_block_start,
 * its deltas (thinking_delta + signature_delta, text_delta, input_json_delta) and content_block_stop,
 * a ping after the first block start, then message_delta (stop_reason, cumulative usage) and
 * message_stop. Usage: input_tokens excludes cache reads and writes, which are reported separately.
 */
import type { Answer, MockErrorType, PromptInfo } from "../script.js";
import { asArray, asObject, contentText, type ErrorAnswer, type Json, type Renderer, sseEvent, textLength } from "./types.js";

const ERRORS: Record<MockErrorType, { status: number; type: string; message: string }> = {
  invalid_request: { status: 400, type: "invalid_request_error", message: "Invalid request." },
  authentication: { status: 401, type: "authentication_error", message: "invalid x-api-key" },
  permission: { status: 403, type: "permission_error", message: "Your API key does not have permission to use the specified resource." },
  not_found: { status: 404, type: "not_found_error", message: "model: not found" },
  rate_limit: { status: 429, type: "rate_limit_error", message: "Number of request tokens has exceeded your per-minute rate limit." },
  server_error: { status: 500, type: "api_error", message: "Internal server error" },
  overloaded: { status: 529, type: "overloaded_error", message: "Overloaded" },
};

function errorBody(type: MockErrorType, message?: string): Json {
  const e = ERRORS[type];
  return { type: "error", error: { type: e.type, message: message ?? e.message }, request_id: "req_mock" };
}

const STOP: Record<Answer["finish"], string> = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use" };

function usage(answer: Answer, outputTokens: number): Json {
  const u = answer.usage;
  return {
    input_tokens: Math.max(0, u.input - u.cacheRead - u.cacheWrite),
    cache_creation_input_tokens: u.cacheWrite,
    cache_read_input_tokens: u.cacheRead,
    output_tokens: outputTokens,
    service_tier: "standard",
  };
}

const signature = (answer: Answer): string => `mock-signature-${answer.id}`;

export const anthropicRenderer: Renderer = {
  protocol: "anthropic",
  toolIdPrefix: "toolu_mock",

  prompt(body: unknown): PromptInfo {
    const b = asObject(body);
    const messages = asArray(b.messages);
    let lastUserText = "";
    for (const m of messages) {
      const msg = asObject(m);
      if (msg.role === "user") lastUserText = contentText(msg.content);
    }
    return {
      model: typeof b.model === "string" ? b.model : "",
      stream: b.stream === true,
      includeUsage: true,
      lastUserText,
      promptChars: textLength(messages) + textLength(b.system),
    };
  },

  json(answer: Answer): unknown {
    const content: Json[] = [];
    if (answer.reasoning) content.push({ type: "thinking", thinking: answer.reasoning, signature: signature(answer) });
    if (answer.text !== "" || answer.toolCalls.length === 0) content.push({ type: "text", text: answer.text });
    for (const c of answer.toolCalls) content.push({ type: "tool_use", id: c.id, name: c.name, input: JSON.parse(c.arguments) as unknown });
    return {
      id: `msg_mock${answer.id}`,
      type: "message",
      role: "assistant",
      model: answer.model,
      content,
      stop_reason: STOP[answer.finish],
      stop_sequence: null,
      usage: usage(answer, answer.usage.output),
    };
  },

  stream(answer: Answer): string[] {
    const events: string[] = [];
    const emit = (type: string, data: Json): void => {
      events.push(sseEvent(type, { type, ...data }));
    };
    emit("message_start", {
      message: {
        id: `msg_mock${answer.id}`,
        type: "message",
        role: "assistant",
        model: answer.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(answer, 1),
      },
    });
    let index = 0;
    const block = (start: Json, deltas: Json[]): void => {
      emit("content_block_start", { index, content_block: start });
      if (index === 0) emit("ping", {});
      for (const delta of deltas) emit("content_block_delta", { index, delta });
      emit("content_block_stop", { index });
      index++;
    };
    if (answer.reasoning) {
      block({ type: "thinking", thinking: "", signature: "" }, [
        ...answer.reasoningChunks.map((thinking) => ({ type: "thinking_delta", thinking })),
        { type: "signature_delta", signature: signature(answer) },
      ]);
    }
    if (answer.text !== "" || answer.toolCalls.length === 0) {
      block(
        { type: "text", text: "" },
        answer.textChunks.filter((t) => t !== "").map((text) => ({ type: "text_delta", text })),
      );
    }
    for (const c of answer.toolCalls) {
      block(
        { type: "tool_use", id: c.id, name: c.name, input: {} },
        c.chunks.map((partial_json) => ({ type: "input_json_delta", partial_json })),
      );
    }
    const u = usage(answer, answer.usage.output);
    delete u.service_tier;
    emit("message_delta", { delta: { stop_reason: STOP[answer.finish], stop_sequence: null }, usage: u });
    emit("message_stop", {});
    return events;
  },

  error(type: MockErrorType, message?: string, status?: number): ErrorAnswer {
    return { status: status ?? ERRORS[type].status, body: errorBody(type, message), headers: { "request-id": "req_mock" } };
  },

  streamError(type: MockErrorType, message?: string): string {
    const body = errorBody(type, message);
    delete body.request_id;
    return sseEvent("error", body);
  },
};
