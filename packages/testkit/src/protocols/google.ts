/**
 * Google Gemini (`POST /v1beta/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`).
 * Stream: `data:` events (CRLF-terminated, as Google sends them), each a whole GenerateContentResponse;
 * thoughts are parts with `thought: true`; function calls arrive whole (args as an object) in one
 * chunk; the last chunk carries finishReason and usageMetadata. No `[DONE]` sentinel.
 * Usage: candidatesTokenCount excludes thoughts (thoughtsTokenCount), cachedContentTokenCount is a
 * subset of promptTokenCount.
 */
import type { Answer, MockErrorType, PromptInfo } from "../script.js";
import { asArray, asObject, contentText, type ErrorAnswer, type Json, type Renderer, textLength } from "./types.js";

const ERRORS: Record<MockErrorType, { status: number; code: string; message: string }> = {
  invalid_request: { status: 400, code: "INVALID_ARGUMENT", message: "Request contains an invalid argument." },
  authentication: { status: 401, code: "UNAUTHENTICATED", message: "API key not valid. Please pass a valid API key." },
  permission: { status: 403, code: "PERMISSION_DENIED", message: "The caller does not have permission" },
  not_found: { status: 404, code: "NOT_FOUND", message: "models/unknown is not found for API version v1beta" },
  rate_limit: { status: 429, code: "RESOURCE_EXHAUSTED", message: "Resource has been exhausted (e.g. check quota)." },
  server_error: {
    status: 500,
    code: "INTERNAL",
    message: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
  },
  overloaded: { status: 503, code: "UNAVAILABLE", message: "The model is overloaded. Please try again later." },
};

function errorBody(type: MockErrorType, message?: string, status?: number): Json {
  const e = ERRORS[type];
  return { error: { code: status ?? e.status, message: message ?? e.message, status: e.code } };
}

const FINISH: Record<Answer["finish"], string> = { stop: "STOP", length: "MAX_TOKENS", tool_calls: "STOP" };

function usageMetadata(answer: Answer): Json {
  const u = answer.usage;
  const meta: Json = {
    promptTokenCount: u.input,
    candidatesTokenCount: Math.max(0, u.output - u.reasoning),
    totalTokenCount: u.input + u.output,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: u.input }],
  };
  if (u.cacheRead > 0) meta.cachedContentTokenCount = u.cacheRead;
  if (u.reasoning > 0) meta.thoughtsTokenCount = u.reasoning;
  return meta;
}

function callPart(call: Answer["toolCalls"][number]): Json {
  return { functionCall: { name: call.name, args: JSON.parse(call.arguments) as unknown } };
}

function response(answer: Answer, parts: Json[], last: boolean): Json {
  const candidate: Json = { content: { parts, role: "model" } };
  if (last) candidate.finishReason = FINISH[answer.finish];
  candidate.index = 0;
  const r: Json = { candidates: [candidate] };
  if (last) r.usageMetadata = usageMetadata(answer);
  r.modelVersion = answer.model;
  r.responseId = `mock${answer.id}`;
  return r;
}

/** `/v1beta/models/gemini-2.5-flash:streamGenerateContent` -> model and method. */
export function parseGooglePath(pathname: string): { model: string; method: string } | undefined {
  const [, model, method] = /^\/v1(?:beta|alpha)?\/models\/(.+):([A-Za-z]+)$/.exec(pathname) ?? [];
  return model && method ? { model: decodeURIComponent(model), method } : undefined;
}

export const googleRenderer: Renderer = {
  protocol: "google",
  toolIdPrefix: "call_mock",

  prompt(body: unknown, url: URL): PromptInfo {
    const b = asObject(body);
    const contents = asArray(b.contents);
    let lastUserText = "";
    for (const c of contents) {
      const content = asObject(c);
      if (content.role === "user" || content.role === undefined) lastUserText = contentText(content.parts);
    }
    const target = parseGooglePath(url.pathname);
    return {
      model: target?.model ?? "",
      stream: target?.method === "streamGenerateContent",
      includeUsage: true,
      lastUserText,
      promptChars: textLength(contents) + textLength(b.systemInstruction),
    };
  },

  json(answer: Answer): unknown {
    const parts: Json[] = [];
    if (answer.reasoning) parts.push({ text: answer.reasoning, thought: true });
    if (answer.text !== "" || answer.toolCalls.length === 0) parts.push({ text: answer.text });
    for (const c of answer.toolCalls) parts.push(callPart(c));
    return response(answer, parts, true);
  },

  stream(answer: Answer): string[] {
    const chunks: Json[][] = [];
    for (const text of answer.reasoningChunks) chunks.push([{ text, thought: true }]);
    for (const text of answer.textChunks) if (text !== "") chunks.push([{ text }]);
    if (answer.toolCalls.length > 0) chunks.push(answer.toolCalls.map(callPart));
    if (chunks.length === 0) chunks.push([{ text: "" }]);
    return chunks.map((parts, i) => `data: ${JSON.stringify(response(answer, parts, i === chunks.length - 1))}\r\n\r\n`);
  },

  error(type: MockErrorType, message?: string, status?: number): ErrorAnswer {
    return { status: status ?? ERRORS[type].status, body: errorBody(type, message, status) };
  },

  streamError(type: MockErrorType, message?: string): string {
    return `data: ${JSON.stringify(errorBody(type, message))}\r\n\r\n`;
  },
};
