/** Gemini streamGenerateContent SSE chunks -> canonical stream events. */
import type { StreamEvent } from "@bitrouter/core";
import type { SseEvent } from "../../codec.js";
import { BaseStreamDecoder } from "../stream-decoder.js";
import { isRecord } from "../util.js";
import { errorFromJson } from "./errors.js";
import { decodeUsage, stopFromGemini } from "./response.js";

// ── Stream decoder: Gemini SSE -> canonical events ───────────────────────────────────────────

export class GeminiStreamDecoder extends BaseStreamDecoder {
  private nextCall = 0;
  /** The canonical part text deltas currently extend, so consecutive chunks merge into one part. */
  private current: { index: number; kind: "text" | "reasoning"; signed?: boolean } | undefined;
  private sawToolCall = false;

  protected decodeEvent(event: SseEvent): StreamEvent[] {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return this.malformed(event.data);
    }
    const root = Array.isArray(data) && data.length === 1 ? data[0] : data;
    if (!isRecord(root)) return [];
    if (isRecord(root.error)) return this.fail(errorFromJson(typeof root.error.code === "number" ? root.error.code : 500, root));
    const out: StreamEvent[] = [];
    if (!this.started) {
      const id = typeof root.responseId === "string" ? root.responseId : undefined;
      this.start(out, { id, model: typeof root.modelVersion === "string" ? root.modelVersion : undefined });
    }
    if (isRecord(root.usageMetadata)) this.usage = decodeUsage(root.usageMetadata);
    const candidate = Array.isArray(root.candidates) && isRecord(root.candidates[0]) ? root.candidates[0] : undefined;
    const parts = candidate && isRecord(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
    for (const part of parts) if (isRecord(part)) out.push(...this.partEvents(part));
    const reason = typeof candidate?.finishReason === "string" ? candidate.finishReason : undefined;
    const blocked = !candidate && isRecord(root.promptFeedback) && typeof root.promptFeedback.blockReason === "string";
    if (reason !== undefined || blocked) {
      if (this.current) out.push({ type: "part_end", index: this.current.index });
      const stopReason = blocked ? "content_filter" : stopFromGemini(reason, this.sawToolCall);
      if (this.usage) out.push({ type: "usage", usage: this.usage });
      out.push(this.finish(stopReason));
    }
    return out;
  }

  /** Starts a new canonical part, closing the text/thought part being extended. */
  private newPart(): { index: number; events: StreamEvent[] } {
    const events: StreamEvent[] = [];
    if (this.current) events.push({ type: "part_end", index: this.current.index });
    this.current = undefined;
    return { index: this.nextIndex++, events };
  }

  private partEvents(part: Record<string, unknown>): StreamEvent[] {
    const signature = typeof part.thoughtSignature === "string" ? part.thoughtSignature : undefined;
    const text = typeof part.text === "string" ? part.text : undefined;
    if (part.thought === true) {
      const events: StreamEvent[] = [];
      // A signature ends a thought: more thought text after it is a new thought.
      if (this.current?.kind !== "reasoning" || (this.current.signed && text)) {
        const next = this.newPart();
        events.push(...next.events);
        this.current = { index: next.index, kind: "reasoning" };
      }
      const index = this.current!.index;
      if (text) events.push({ type: "reasoning_delta", index, text });
      if (signature !== undefined) {
        events.push({ type: "reasoning_signature", index, signature });
        this.current!.signed = true;
      }
      return events;
    }
    const events: StreamEvent[] = [];
    if (signature !== undefined) {
      // The signature of an ordinary part travels as an empty reasoning part just before it.
      const next = this.newPart();
      events.push(...next.events, { type: "reasoning_signature", index: next.index, signature }, { type: "part_end", index: next.index });
    }
    if (text !== undefined) {
      if (text === "") return events;
      if (this.current?.kind !== "text") {
        const next = this.newPart();
        events.push(...next.events);
        this.current = { index: next.index, kind: "text" };
      }
      events.push({ type: "text_delta", index: this.current!.index, text });
    } else if (isRecord(part.functionCall)) {
      const call = part.functionCall;
      this.sawToolCall = true;
      const { index, events: closing } = this.newPart();
      events.push(
        ...closing,
        {
          type: "tool_call_start",
          index,
          id: typeof call.id === "string" && call.id !== "" ? call.id : `call_${this.nextCall++}`,
          name: typeof call.name === "string" ? call.name : "",
        },
        { type: "tool_call_delta", index, argumentsDelta: typeof call.args === "string" ? call.args : JSON.stringify(call.args ?? {}) },
        { type: "part_end", index },
      );
    }
    return events;
  }
}

// ── sniffing: which upstream events metering must decode ───────────────────────────────────────

/** Gemini chunks have no event names: one with usageMetadata, a finishReason or an error. */
export function carriesOutcome(_event: string | undefined, data: string): boolean {
  return data.includes('"usageMetadata"') || data.includes('"finishReason"') || data.includes('"error"');
}

const OUTCOME_MARKS = /usageMetadata|finishReason/;

export function mayCarryOutcome(text: string): boolean {
  return OUTCOME_MARKS.test(text);
}
