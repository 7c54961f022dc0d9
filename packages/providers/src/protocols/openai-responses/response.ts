/** OpenAI Responses response objects and usage: canonical <-> wire. */
import { FREEFORM_INPUT } from "@bitrouter/core";
import type {
  CanonicalRequest,
  CanonicalResponse,
  ContentPart,
  JsonObject,
  JsonValue,
  ReasoningPart,
  StopReason,
  ToolDefinition,
  Usage,
} from "@bitrouter/core";
import { BitrouterError } from "@bitrouter/core";
import { count, isRecord, normalizeArguments, nowSeconds } from "../util.js";
import { decodeOpenAIError, upstreamMalformed } from "../openai-chat/errors.js";
import { encodeFormat, encodeToolChoice, encodeTools, freeformInput, toolsByName } from "./request.js";

// ── response ──────────────────────────────────────────────────────────────────────────────────

function encodeUsage(u: Usage): JsonObject {
  const input: JsonObject = { cached_tokens: u.cacheReadTokens ?? 0 };
  if (u.cacheWriteTokens !== undefined) input.cache_write_tokens = u.cacheWriteTokens;
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: input,
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

export function decodeUsage(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  const usage: Usage = { inputTokens: count(u.input_tokens) ?? 0, outputTokens: count(u.output_tokens) ?? 0 };
  const id = isRecord(u.input_tokens_details) ? u.input_tokens_details : {};
  const od = isRecord(u.output_tokens_details) ? u.output_tokens_details : {};
  if (count(id.cached_tokens)) usage.cacheReadTokens = id.cached_tokens as number;
  if (count(id.cache_write_tokens)) usage.cacheWriteTokens = id.cache_write_tokens as number;
  if (count(od.reasoning_tokens)) usage.reasoningTokens = od.reasoning_tokens as number;
  return usage;
}

/** `status` and `incomplete_details` for a stop reason. */
export function statusFor(stop: StopReason): { status: string; incomplete_details: JsonValue } {
  if (stop === "length") return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  if (stop === "content_filter") return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  return { status: "completed", incomplete_details: null };
}

export function stopFor(status: unknown, incomplete: unknown, sawToolCall: boolean): StopReason {
  if (status === "incomplete") {
    const reason = isRecord(incomplete) ? incomplete.reason : undefined;
    return reason === "content_filter" ? "content_filter" : "length";
  }
  return sawToolCall ? "tool_calls" : "stop";
}

const responseId = (id: string): string => (id.startsWith("resp_") ? id : `resp_${id}`);
export const itemBase = (id: string): string => id.replace(/^(resp_|chatcmpl-|msg_)/, "");

export const messageItem = (id: string, text: string, status: string): JsonObject => ({
  id,
  type: "message",
  status,
  content: [{ type: "output_text", annotations: [], logprobs: [], text }],
  role: "assistant",
});

export const reasoningItem = (id: string, text: string, encrypted: string | undefined): JsonObject => {
  const item: JsonObject = { id, type: "reasoning", summary: text ? [{ type: "summary_text", text }] : [] };
  if (encrypted !== undefined) item.encrypted_content = encrypted;
  return item;
};

/** An output tool-call item: `function_call`, or `custom_tool_call` when the caller's tool is freeform. */
export function functionCallItem(id: string, call: { id: string; name: string; arguments: string }, status: string, tool?: ToolDefinition): JsonObject {
  const item: JsonObject = tool?.freeform
    ? { id, type: "custom_tool_call", status, call_id: call.id, name: call.name, input: freeformInput(call.arguments) }
    : { id, type: "function_call", status, arguments: call.arguments, call_id: call.id, name: call.name };
  if (tool?.namespace !== undefined) item.namespace = tool.namespace;
  return item;
}

/** The Response object's fields that echo the request. */
function requestEcho(req: CanonicalRequest): JsonObject {
  return {
    instructions: req.system && req.system.length > 0 ? req.system.map((s) => s.text).join("\n\n") : null,
    max_output_tokens: req.maxTokens ?? null,
    parallel_tool_calls: req.parallelToolCalls ?? true,
    previous_response_id: null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: req.reasoning?.includeThoughts ? "auto" : null },
    store: false,
    temperature: req.temperature ?? null,
    text: { format: req.responseFormat ? encodeFormat(req.responseFormat) : { type: "text" } },
    tool_choice: req.toolChoice ? encodeToolChoice(req.toolChoice) : "auto",
    tools: encodeTools(req),
    top_p: req.topP ?? null,
    truncation: "disabled",
    user: req.user ?? null,
    metadata: {},
  };
}

export function responseObject(
  base: { id: string; created: number; model: string },
  req: CanonicalRequest,
  status: { status: string; incomplete_details: JsonValue },
  output: JsonObject[],
  usage: Usage | undefined,
  error: JsonValue = null,
): JsonObject {
  return {
    id: responseId(base.id),
    object: "response",
    created_at: base.created,
    status: status.status,
    error,
    incomplete_details: status.incomplete_details,
    model: base.model,
    output,
    ...requestEcho(req),
    usage: usage ? encodeUsage(usage) : null,
  };
}

export function encodeResponsesResponse(res: CanonicalResponse, req: CanonicalRequest): JsonObject {
  const base = itemBase(res.id);
  const tools = toolsByName(req);
  const output: JsonObject[] = [];
  res.content.forEach((part, i) => {
    if (part.type === "text") {
      // Consecutive text parts are one message with several output_text parts.
      const last = output[output.length - 1];
      if (last && last.type === "message" && res.content[i - 1]?.type === "text") {
        (last.content as JsonObject[]).push({ type: "output_text", annotations: [], logprobs: [], text: part.text });
      } else output.push(messageItem(`msg_${base}_${i}`, part.text, "completed"));
    } else if (part.type === "reasoning") output.push(reasoningItem(part.id ?? `rs_${base}_${i}`, part.text, part.redactedData));
    else if (part.type === "tool_call") output.push(functionCallItem(`fc_${base}_${i}`, part, "completed", tools.get(part.name)));
  });
  return responseObject({ id: res.id, created: res.created, model: res.model }, req, statusFor(res.stopReason), output, res.usage);
}

/** Canonical arguments of a call item: a freeform call's text travels as `{"input": text}`. */
export function callArguments(item: Record<string, unknown>): string {
  if (item.type === "custom_tool_call") return typeof item.input === "string" && item.input !== "" ? JSON.stringify({ [FREEFORM_INPUT]: item.input }) : "";
  return normalizeArguments(item.arguments);
}

export function decodeResponsesResponse(body: unknown): CanonicalResponse {
  if (!isRecord(body)) throw upstreamMalformed("the body is not a JSON object");
  if (body.status === "failed" || (isRecord(body.error) && !Array.isArray(body.output))) {
    throw new BitrouterError(decodeOpenAIError(0, { error: isRecord(body.error) ? body.error : { message: "the response failed" } }));
  }
  if (!Array.isArray(body.output)) throw upstreamMalformed("no output array");
  const content: ContentPart[] = [];
  let sawToolCall = false;
  for (const item of body.output) {
    if (!isRecord(item)) continue;
    if (item.type === "message" && Array.isArray(item.content)) {
      // One text part per message item (the stream decoder makes the same blocks).
      const text = item.content
        .map((c) => (isRecord(c) ? (c.type === "refusal" ? c.refusal : c.text) : undefined))
        .filter((t): t is string => typeof t === "string")
        .join("");
      if (text !== "") content.push({ type: "text", text });
    } else if (item.type === "function_call" || item.type === "custom_tool_call") {
      sawToolCall = true;
      content.push({
        type: "tool_call",
        id: String(item.call_id ?? item.id ?? ""),
        name: typeof item.name === "string" ? item.name : "",
        arguments: callArguments(item),
      });
    } else if (item.type === "reasoning") {
      const summary = Array.isArray(item.summary) ? item.summary : [];
      const part: ReasoningPart = { type: "reasoning", text: summary.map((s) => (isRecord(s) && typeof s.text === "string" ? s.text : "")).join("\n\n") };
      if (typeof item.encrypted_content === "string") part.redactedData = item.encrypted_content;
      if (typeof item.id === "string") part.id = item.id;
      content.push(part);
    }
    // Built-in tool items (web_search_call, ...) have no canonical form and are skipped.
  }
  return {
    id: typeof body.id === "string" ? body.id : "",
    model: typeof body.model === "string" ? body.model : "",
    created: count(body.created_at) ?? nowSeconds(),
    content,
    stopReason: stopFor(body.status, body.incomplete_details, sawToolCall),
    usage: responsesResponseUsage(body.usage),
  };
}

export function responsesResponseUsage(value: unknown): Usage {
  return decodeUsage(value) ?? { inputTokens: 0, outputTokens: 0 };
}
