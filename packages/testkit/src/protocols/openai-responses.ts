/**
 * OpenAI Responses (`POST /v1/responses`).
 * Stream: typed events, each with `event: <type>` and a `sequence_number` counting from 0:
 * response.created, response.in_progress, then per output item output_item.added, its part/delta/done
 * events and output_item.done, then response.completed (response.incomplete when cut by
 * max_output_tokens). No `[DONE]` sentinel.
 */
import type { Answer, MockErrorType, PromptInfo } from "../script.js";
import { openaiError } from "./openai-chat.js";
import { asArray, asObject, contentText, type Json, type Renderer, sseEvent, textLength } from "./types.js";

function usage(answer: Answer): Json {
  const u = answer.usage;
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cacheRead },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: u.reasoning },
    total_tokens: u.input + u.output,
  };
}

interface Items {
  reasoning?: { id: string; outputIndex: number };
  message?: { id: string; outputIndex: number };
  calls: Array<{ id: string; outputIndex: number; call: Answer["toolCalls"][number] }>;
}

function layout(answer: Answer): Items {
  let next = 0;
  const items: Items = { calls: [] };
  if (answer.reasoning) items.reasoning = { id: `rs_mock${answer.id}`, outputIndex: next++ };
  if (answer.text !== "" || answer.toolCalls.length === 0) items.message = { id: `msg_mock${answer.id}`, outputIndex: next++ };
  for (const call of answer.toolCalls) items.calls.push({ id: `fc_mock${answer.id}_${call.index}`, outputIndex: next++, call });
  return items;
}

function reasoningItem(id: string, text: string): Json {
  return { id, type: "reasoning", summary: text ? [{ type: "summary_text", text }] : [] };
}

function outputText(text: string): Json {
  return { type: "output_text", annotations: [], logprobs: [], text };
}

function messageItem(id: string, text: string, done: boolean): Json {
  return { id, type: "message", status: done ? "completed" : "in_progress", content: done ? [outputText(text)] : [], role: "assistant" };
}

function callItem(id: string, call: Answer["toolCalls"][number], done: boolean): Json {
  return { id, type: "function_call", status: done ? "completed" : "in_progress", arguments: done ? call.arguments : "", call_id: call.id, name: call.name };
}

function responseObject(answer: Answer, status: "in_progress" | "completed" | "incomplete", output: Json[]): Json {
  return {
    id: `resp_mock${answer.id}`,
    object: "response",
    created_at: answer.created,
    status,
    background: false,
    error: null,
    incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: null,
    max_output_tokens: null,
    model: answer.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    usage: status === "in_progress" ? null : usage(answer),
    user: null,
    metadata: {},
  };
}

function finalOutput(answer: Answer, items: Items): Json[] {
  const output: Json[] = [];
  if (items.reasoning) output.push(reasoningItem(items.reasoning.id, answer.reasoning));
  if (items.message) output.push(messageItem(items.message.id, answer.text, true));
  for (const c of items.calls) output.push(callItem(c.id, c.call, true));
  return output;
}

export const openaiResponsesRenderer: Renderer = {
  protocol: "openai-responses",
  toolIdPrefix: "call_mock",

  prompt(body: unknown): PromptInfo {
    const b = asObject(body);
    let lastUserText = "";
    if (typeof b.input === "string") lastUserText = b.input;
    for (const item of asArray(b.input)) {
      const i = asObject(item);
      if (i.role === "user") lastUserText = contentText(i.content);
    }
    return {
      model: typeof b.model === "string" ? b.model : "",
      stream: b.stream === true,
      includeUsage: true,
      lastUserText,
      promptChars: textLength(b.input) + textLength(b.instructions),
    };
  },

  json(answer: Answer): unknown {
    const status = answer.finish === "length" ? "incomplete" : "completed";
    return responseObject(answer, status, finalOutput(answer, layout(answer)));
  },

  stream(answer: Answer): string[] {
    const items = layout(answer);
    const events: string[] = [];
    let seq = 0;
    const emit = (type: string, data: Json): void => {
      events.push(sseEvent(type, { type, sequence_number: seq++, ...data }));
    };
    emit("response.created", { response: responseObject(answer, "in_progress", []) });
    emit("response.in_progress", { response: responseObject(answer, "in_progress", []) });

    if (items.reasoning) {
      const { id, outputIndex } = items.reasoning;
      const at = { item_id: id, output_index: outputIndex, summary_index: 0 };
      emit("response.output_item.added", { output_index: outputIndex, item: reasoningItem(id, "") });
      emit("response.reasoning_summary_part.added", { ...at, part: { type: "summary_text", text: "" } });
      for (const delta of answer.reasoningChunks) emit("response.reasoning_summary_text.delta", { ...at, delta });
      emit("response.reasoning_summary_text.done", { ...at, text: answer.reasoning });
      emit("response.reasoning_summary_part.done", { ...at, part: { type: "summary_text", text: answer.reasoning } });
      emit("response.output_item.done", { output_index: outputIndex, item: reasoningItem(id, answer.reasoning) });
    }
    if (items.message) {
      const { id, outputIndex } = items.message;
      const at = { item_id: id, output_index: outputIndex, content_index: 0 };
      emit("response.output_item.added", { output_index: outputIndex, item: messageItem(id, "", false) });
      emit("response.content_part.added", { ...at, part: outputText("") });
      for (const delta of answer.textChunks) if (delta !== "") emit("response.output_text.delta", { ...at, delta, logprobs: [] });
      emit("response.output_text.done", { ...at, text: answer.text, logprobs: [] });
      emit("response.content_part.done", { ...at, part: outputText(answer.text) });
      emit("response.output_item.done", { output_index: outputIndex, item: messageItem(id, answer.text, true) });
    }
    for (const { id, outputIndex, call } of items.calls) {
      emit("response.output_item.added", { output_index: outputIndex, item: callItem(id, call, false) });
      for (const delta of call.chunks) emit("response.function_call_arguments.delta", { item_id: id, output_index: outputIndex, delta });
      emit("response.function_call_arguments.done", { item_id: id, output_index: outputIndex, name: call.name, arguments: call.arguments });
      emit("response.output_item.done", { output_index: outputIndex, item: callItem(id, call, true) });
    }
    const status = answer.finish === "length" ? "incomplete" : "completed";
    emit(`response.${status}`, { response: responseObject(answer, status, finalOutput(answer, items)) });
    return events;
  },

  error: openaiError,

  streamError(type: MockErrorType, message?: string): string {
    const body = openaiError(type, message).body as { error: { message: string; code: string | null } };
    return sseEvent("error", { type: "error", code: body.error.code, message: body.error.message, param: null, sequence_number: 0 });
  },
};
