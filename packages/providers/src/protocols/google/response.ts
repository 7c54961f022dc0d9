/** Gemini generateContent responses, finish reasons and usage: canonical <-> wire. */
import type { CanonicalResponse, ContentPart, JsonObject, StopReason, Usage } from "@bitrouter/core";
import { isRecord, nowSeconds, requireRecord } from "../util.js";
import { pushPart } from "./request.js";

// ── Responses ─────────────────────────────────────────────────────────────────────────────────

const FILTER_REASONS = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE"]);

export function stopFromGemini(reason: string | undefined, hasToolCalls: boolean): StopReason {
  if (reason === "MAX_TOKENS") return "length";
  if (reason !== undefined && FILTER_REASONS.has(reason)) return "content_filter";
  if (reason === "MALFORMED_FUNCTION_CALL" || reason === "UNEXPECTED_TOOL_CALL") return "error";
  return hasToolCalls ? "tool_calls" : "stop";
}

export const STOP_TO_GEMINI: Record<StopReason, string> = {
  stop: "STOP",
  stop_sequence: "STOP",
  tool_calls: "STOP",
  length: "MAX_TOKENS",
  content_filter: "SAFETY",
  error: "OTHER",
};

export function decodeUsage(u: Record<string, unknown>): Usage {
  const num = (v: unknown): number => (typeof v === "number" ? v : 0);
  const thoughts = num(u.thoughtsTokenCount);
  const usage: Usage = { inputTokens: num(u.promptTokenCount), outputTokens: num(u.candidatesTokenCount) + thoughts };
  const cached = num(u.cachedContentTokenCount);
  if (cached > 0) usage.cacheReadTokens = cached;
  if (thoughts > 0) usage.reasoningTokens = thoughts;
  return usage;
}

export function encodeUsage(usage: Usage): JsonObject {
  const thoughts = usage.reasoningTokens ?? 0;
  const out: JsonObject = {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: Math.max(0, usage.outputTokens - thoughts),
    totalTokenCount: usage.inputTokens + usage.outputTokens,
  };
  // Gemini has no cache-write count: written tokens stay inside promptTokenCount.
  if (usage.cacheReadTokens !== undefined) out.cachedContentTokenCount = usage.cacheReadTokens;
  if (usage.reasoningTokens !== undefined) out.thoughtsTokenCount = usage.reasoningTokens;
  return out;
}

/** Response parts to canonical parts; `nextCallId` numbers function calls that came without an id. */
function decodeResponseParts(parts: unknown[], nextCallId: () => string): ContentPart[] {
  const out: ContentPart[] = [];
  for (const value of parts) {
    if (!isRecord(value)) continue;
    const signature = typeof value.thoughtSignature === "string" ? value.thoughtSignature : undefined;
    if (value.thought === true) {
      const part: ContentPart = { type: "reasoning", text: typeof value.text === "string" ? value.text : "" };
      if (signature !== undefined) part.signature = signature;
      out.push(part);
      continue;
    }
    if (signature !== undefined) out.push({ type: "reasoning", text: "", signature });
    if (typeof value.text === "string") out.push({ type: "text", text: value.text });
    else if (isRecord(value.functionCall)) {
      const call = value.functionCall;
      out.push({
        type: "tool_call",
        id: typeof call.id === "string" && call.id !== "" ? call.id : nextCallId(),
        name: typeof call.name === "string" ? call.name : "",
        arguments: typeof call.args === "string" ? call.args : JSON.stringify(call.args ?? {}),
      });
    }
  }
  return out;
}

export function decodeResponse(body: unknown): CanonicalResponse {
  const b = requireRecord(body, "response");
  const candidate = Array.isArray(b.candidates) && isRecord(b.candidates[0]) ? b.candidates[0] : undefined;
  let n = 0;
  const parts = candidate && isRecord(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
  const content = decodeResponseParts(parts, () => `call_${n++}`);
  const blocked = isRecord(b.promptFeedback) && typeof b.promptFeedback.blockReason === "string";
  const reason = typeof candidate?.finishReason === "string" ? candidate.finishReason : undefined;
  return {
    id: typeof b.responseId === "string" ? b.responseId : "",
    model: typeof b.modelVersion === "string" ? b.modelVersion : "",
    created: nowSeconds(),
    content,
    stopReason:
      !candidate && blocked
        ? "content_filter"
        : stopFromGemini(
            reason,
            content.some((p) => p.type === "tool_call"),
          ),
    usage: geminiResponseUsage(b.usageMetadata),
  };
}

function encodeResponseParts(content: ContentPart[]): JsonObject[] {
  const parts: JsonObject[] = [];
  const signature: { value?: string } = {};
  for (const part of content) {
    if (part.type === "text") pushPart(parts, { text: part.text }, signature);
    else if (part.type === "tool_call") pushPart(parts, { functionCall: { id: part.id, name: part.name, args: responseArgs(part.arguments) } }, signature);
    else if (part.type === "reasoning") {
      if (part.text === "" && part.signature !== undefined) signature.value = part.signature;
      else if (part.text !== "") parts.push({ text: part.text, thought: true, ...(part.signature ? { thoughtSignature: part.signature } : {}) });
    }
  }
  return parts;
}

/** Arguments a model produced may be malformed; a served response never fails for it. */
export function responseArgs(args: string): JsonObject {
  try {
    const parsed: unknown = args.trim() === "" ? {} : JSON.parse(args);
    return isRecord(parsed) ? (parsed as JsonObject) : {};
  } catch {
    return {};
  }
}

export function encodeResponse(response: CanonicalResponse): JsonObject {
  return {
    candidates: [{ content: { role: "model", parts: encodeResponseParts(response.content) }, finishReason: STOP_TO_GEMINI[response.stopReason], index: 0 }],
    usageMetadata: encodeUsage(response.usage),
    modelVersion: response.model,
    responseId: response.id,
  };
}
export function geminiResponseUsage(value: unknown): Usage {
  return decodeUsage(isRecord(value) ? value : {});
}
