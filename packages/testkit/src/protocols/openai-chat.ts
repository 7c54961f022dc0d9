/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`).
 * Stream: a first chunk with `role: "assistant"`, content / tool-call chunks (a tool call's first chunk
 * has index, id, type and name with empty arguments; later ones carry argument fragments), a finish
 * chunk with an empty delta, then with `stream_options.include_usage` a usage chunk whose `choices` is
 * [] (every earlier chunk carries `usage: null`), then `data: [DONE]`.
 * Reasoning text is sent as `reasoning_content`, as OpenAI-compatible reasoning servers do.
 */
import type { Answer, MockErrorType, PromptInfo } from "../script.js";
import { asArray, asObject, contentText, type ErrorAnswer, type Json, type Renderer, sseData, textLength } from "./types.js";

const ERRORS: Record<MockErrorType, { status: number; type: string; code: string | null; message: string }> = {
  invalid_request: { status: 400, type: "invalid_request_error", code: null, message: "Invalid request." },
  authentication: { status: 401, type: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key provided." },
  permission: {
    status: 403,
    type: "invalid_request_error",
    code: "unsupported_country_region_territory",
    message: "Country, region, or territory not supported",
  },
  not_found: { status: 404, type: "invalid_request_error", code: "model_not_found", message: "The model does not exist or you do not have access to it." },
  rate_limit: { status: 429, type: "requests", code: "rate_limit_exceeded", message: "Rate limit reached for requests. Please try again in 1s." },
  server_error: { status: 500, type: "server_error", code: null, message: "The server had an error while processing your request. Sorry about that!" },
  overloaded: { status: 503, type: "server_error", code: null, message: "The engine is currently overloaded, please try again later" },
};

/** OpenAI's error body `{ error: { message, type, param, code } }`, shared by Chat and Responses. */
export function openaiError(type: MockErrorType, message?: string, status?: number): ErrorAnswer {
  const e = ERRORS[type];
  const headers: Record<string, string> = { "x-request-id": "req_mock" };
  if (type === "rate_limit") headers["retry-after"] = "1";
  return { status: status ?? e.status, body: { error: { message: message ?? e.message, type: e.type, param: null, code: e.code } }, headers };
}

export function openaiUsage(answer: Answer): Json {
  const u = answer.usage;
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cacheRead, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function finishReason(answer: Answer): string {
  return answer.finish;
}

export const openaiChatRenderer: Renderer = {
  protocol: "openai-chat",
  toolIdPrefix: "call_mock",

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
      includeUsage: asObject(b.stream_options).include_usage === true,
      lastUserText,
      promptChars: textLength(messages),
    };
  },

  json(answer: Answer): unknown {
    const message: Json = {
      role: "assistant",
      content: answer.text === "" && answer.toolCalls.length > 0 ? null : answer.text,
      refusal: null,
      annotations: [],
    };
    if (answer.reasoning) message.reasoning_content = answer.reasoning;
    if (answer.toolCalls.length > 0) {
      message.tool_calls = answer.toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
    }
    return {
      id: `chatcmpl-mock${answer.id}`,
      object: "chat.completion",
      created: answer.created,
      model: answer.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(answer) }],
      usage: openaiUsage(answer),
      service_tier: "default",
      system_fingerprint: "fp_mock",
    };
  },

  stream(answer: Answer, prompt: PromptInfo): string[] {
    const chunk = (delta: Json, finish: string | null = null): string => {
      const c: Json = {
        id: `chatcmpl-mock${answer.id}`,
        object: "chat.completion.chunk",
        created: answer.created,
        model: answer.model,
        service_tier: "default",
        system_fingerprint: "fp_mock",
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      };
      if (prompt.includeUsage) c.usage = null;
      return sseData(c);
    };
    const events: string[] = [];
    const textFirst = answer.text !== "" || answer.toolCalls.length === 0;
    events.push(chunk({ role: "assistant", content: textFirst ? "" : null, refusal: null }));
    for (const piece of answer.reasoningChunks) events.push(chunk({ reasoning_content: piece }));
    for (const piece of answer.textChunks) if (piece !== "") events.push(chunk({ content: piece }));
    for (const call of answer.toolCalls) {
      events.push(chunk({ tool_calls: [{ index: call.index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }));
      for (const piece of call.chunks) events.push(chunk({ tool_calls: [{ index: call.index, function: { arguments: piece } }] }));
    }
    events.push(chunk({}, finishReason(answer)));
    if (prompt.includeUsage) {
      events.push(
        sseData({
          id: `chatcmpl-mock${answer.id}`,
          object: "chat.completion.chunk",
          created: answer.created,
          model: answer.model,
          service_tier: "default",
          system_fingerprint: "fp_mock",
          choices: [],
          usage: openaiUsage(answer),
        }),
      );
    }
    events.push("data: [DONE]\n\n");
    return events;
  },

  error: openaiError,

  streamError(type: MockErrorType, message?: string): string {
    return sseData(openaiError(type, message).body);
  },
};
