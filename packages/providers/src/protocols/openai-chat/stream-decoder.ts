/** OpenAI Chat Completions SSE chunks -> canonical stream events. */
import type { StopReason, StreamEvent } from "@bitrouter/core";
import type { SseEvent } from "../../codec.js";
import type { StreamUsage } from "../../descriptor.js";
import { BaseStreamDecoder, TextChunkShape } from "../stream-decoder.js";
import { count, isRecord, normalizeArguments } from "../util.js";
import { decodeOpenAIError } from "./errors.js";
import { decodeChatUsage, stopFromFinish } from "./response.js";

// ── stream: SSE -> canonical events ───────────────────────────────────────────────────────────

export class ChatStreamDecoder extends BaseStreamDecoder {
  /** The open text or reasoning block, continued by deltas of the same kind. */
  private block: { kind: "text" | "reasoning"; index: number } | undefined;
  /** OpenAI tool_calls[].index (or id) -> canonical part index. */
  private readonly tools = new Map<number | string, number>();
  private lastTool: number | undefined;
  /** canonical index -> tool call id. */
  private readonly toolIds = new Map<number, string>();
  private finishReason: StopReason | undefined;
  private readonly shape = new TextChunkShape("content", chatText);

  protected decodeEvent(event: SseEvent): StreamEvent[] {
    const data = event.data.trim();
    const reused = this.shape.reuse(data, undefined);
    if (reused) return reused;
    const out = this.decodeChunk(data);
    this.shape.learn(data, undefined, out);
    return out;
  }

  private decodeChunk(data: string): StreamEvent[] {
    if (data === "") return [];
    if (data === "[DONE]") return this.finishChat();
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return this.malformed(data);
    }
    if (!isRecord(chunk)) return [];
    if (chunk.error !== undefined && chunk.error !== null) return this.fail(decodeOpenAIError(0, chunk));
    const out: StreamEvent[] = [];
    if (!this.started) {
      const id = typeof chunk.id === "string" ? chunk.id : undefined;
      this.start(out, { id, model: typeof chunk.model === "string" ? chunk.model : undefined, created: count(chunk.created) });
    }
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (isRecord(choice)) {
      const delta = isRecord(choice.delta) ? choice.delta : {};
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === "string" && reasoning !== "") out.push({ type: "reasoning_delta", index: this.blockIndex("reasoning"), text: reasoning });
      if (typeof delta.content === "string" && delta.content !== "") out.push({ type: "text_delta", index: this.blockIndex("text"), text: delta.content });
      if (typeof delta.refusal === "string" && delta.refusal !== "") out.push({ type: "text_delta", index: this.blockIndex("text"), text: delta.refusal });
      if (Array.isArray(delta.tool_calls)) for (const tc of delta.tool_calls) if (isRecord(tc)) this.toolDelta(tc, out);
      if (isRecord(delta.function_call)) this.toolDelta({ index: 0, id: "call_legacy_0", function: delta.function_call }, out);
      if (typeof choice.finish_reason === "string") this.finishReason = stopFromFinish(choice.finish_reason);
    }
    const usage = decodeChatUsage(chunk.usage);
    if (usage) {
      this.usage = usage;
      out.push({ type: "usage", usage });
    }
    return out;
  }

  protected override endOfStream(): StreamEvent[] {
    // Some OpenAI-compatible servers close without [DONE]; a finish_reason still proves completion.
    if (this.finishReason !== undefined) return this.finishChat();
    return this.fail({ kind: "upstream", message: "stream ended early: no finish_reason before the connection closed", status: 502 });
  }

  private blockIndex(kind: "text" | "reasoning"): number {
    if (this.block?.kind !== kind) this.block = { kind, index: this.nextIndex++ };
    return this.block.index;
  }

  private toolDelta(tc: Record<string, unknown>, out: StreamEvent[]): void {
    const fn = isRecord(tc.function) ? tc.function : {};
    const id = typeof tc.id === "string" && tc.id !== "" ? tc.id : undefined;
    const key = typeof tc.index === "number" ? tc.index : id;
    let index = key === undefined ? this.lastTool : this.tools.get(key);
    // Some compatible servers reuse index 0 for every parallel call: a new id means a new call.
    if (index !== undefined && id !== undefined && this.toolIds.get(index) !== id) index = undefined;
    if (index === undefined) {
      index = this.nextIndex++;
      if (key !== undefined) this.tools.set(key, index);
      this.toolIds.set(index, id ?? `call_${index}`);
      this.block = undefined;
      out.push({ type: "tool_call_start", index, id: id ?? `call_${index}`, name: typeof fn.name === "string" ? fn.name : "" });
    }
    this.lastTool = index;
    const args = normalizeArguments(fn.arguments);
    if (args !== "") out.push({ type: "tool_call_delta", index, argumentsDelta: args });
  }

  private finishChat(): StreamEvent[] {
    const out: StreamEvent[] = [];
    this.start(out);
    out.push(this.finish(this.finishReason ?? "stop"));
    return out;
  }
}

/** What the decoder takes for a text delta's text: `choices[0].delta.content` of a chunk that is no error. */
function chatText(chunk: unknown): unknown {
  if (!isRecord(chunk) || (chunk.error !== undefined && chunk.error !== null)) return undefined;
  const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
  return isRecord(choice) && isRecord(choice.delta) ? choice.delta.content : undefined;
}

// ── usage: streams carry it only with stream_options.include_usage ──────────────────────────────

export const chatStreamUsage: StreamUsage = {
  ask(field) {
    const options = field("stream_options");
    if (isRecord(options) && options.include_usage === true) return undefined;
    return { stream_options: { ...(isRecord(options) ? options : {}), include_usage: true } };
  },
  // The last chunk: no choices, only usage.
  isUsageOnly(data) {
    if (!data.includes('"usage"')) return false;
    try {
      const chunk: unknown = JSON.parse(data);
      return isRecord(chunk) && Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunk.usage != null;
    } catch {
      return false;
    }
  },
};

// ── sniffing: which upstream events metering must decode ───────────────────────────────────────

const USAGE = /"usage"\s*:\s*\{/;
const FINISH = /"finish_reason"\s*:\s*"/;

/** A usage chunk, the chunk with a finish_reason, or an error. */
export function carriesOutcome(_event: string | undefined, data: string): boolean {
  return USAGE.test(data) || FINISH.test(data) || data.startsWith('{"error"');
}

// Every chunk has `"finish_reason":null` until the last, whose reason is a string; with
// include_usage, every chunk has `"usage":null` until the usage chunk. Anything but `:null` right
// after the key (a value, spacing) is read.
const OUTCOME_MARKS = /"(?:usage|finish_reason)"(?!:n)/;

export function mayCarryOutcome(text: string): boolean {
  return OUTCOME_MARKS.test(text);
}
