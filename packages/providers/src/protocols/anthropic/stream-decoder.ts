/** Anthropic Messages SSE events -> canonical stream events. */
import type { StopReason, StreamEvent } from "@bitrouter/core";
import type { SseEvent } from "../../codec.js";
import { STATUS_BY_KIND } from "@bitrouter/core";
import { BaseStreamDecoder, TextChunkShape } from "../stream-decoder.js";
import { isRecord, redactSecrets } from "../util.js";
import { KIND_BY_ERROR_TYPE } from "./errors.js";
import { STOP_FROM_ANTHROPIC, decodeUsage } from "./response.js";

// ── Stream decoder: Anthropic SSE -> canonical events ────────────────────────────────────────

export class AnthropicStreamDecoder extends BaseStreamDecoder {
  /** Anthropic block index -> canonical part index, for the block kinds BitRouter carries. */
  private readonly blocks = new Map<number, { index: number; kind: string; sawArguments: boolean }>();
  /** The usage fields so far: message_delta's cumulative counts update message_start's. */
  private usageFields: Record<string, unknown> = {};
  private stopReason: StopReason = "stop";
  private stopSequence?: string;
  private readonly shape = new TextChunkShape("text", deltaText);

  protected decodeEvent(event: SseEvent): StreamEvent[] {
    const reused = this.shape.reuse(event.data, event.event);
    if (reused) return reused;
    const out = this.decodeWhole(event);
    this.shape.learn(event.data, event.event, out);
    return out;
  }

  private decodeWhole(event: SseEvent): StreamEvent[] {
    let data: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(event.data);
      data = isRecord(parsed) ? parsed : {};
    } catch {
      return this.malformed(event.data);
    }
    const type = typeof data.type === "string" ? data.type : event.event;
    if (type === "ping") return [];
    if (type === "error") {
      const err = isRecord(data.error) ? data.error : {};
      const kind = (typeof err.type === "string" && KIND_BY_ERROR_TYPE[err.type]) || "upstream";
      const message = typeof err.message === "string" ? redactSecrets(err.message) : "upstream stream error";
      return this.fail({ kind, message, status: kind === "overloaded" ? 503 : STATUS_BY_KIND[kind] });
    }
    const out: StreamEvent[] = [];
    if (!this.started) {
      const message = type === "message_start" && isRecord(data.message) ? data.message : {};
      this.start(out, { id: typeof message.id === "string" ? message.id : undefined, model: typeof message.model === "string" ? message.model : undefined });
      if (isRecord(message.usage)) {
        this.usageFields = { ...message.usage };
        this.usage = decodeUsage(this.usageFields);
        out.push({ type: "usage", usage: this.usage });
      }
      if (type === "message_start") return out;
    }
    switch (type) {
      case "content_block_start":
        out.push(...this.blockStart(data));
        break;
      case "content_block_delta":
        out.push(...this.blockDelta(data));
        break;
      case "content_block_stop": {
        const block = this.blocks.get(Number(data.index));
        if (block) {
          if (block.kind === "tool_use" && !block.sawArguments) out.push({ type: "tool_call_delta", index: block.index, argumentsDelta: "{}" });
          out.push({ type: "part_end", index: block.index });
          this.blocks.delete(Number(data.index));
        }
        break;
      }
      case "message_delta": {
        const delta = isRecord(data.delta) ? data.delta : {};
        if (typeof delta.stop_reason === "string") this.stopReason = STOP_FROM_ANTHROPIC[delta.stop_reason] ?? "stop";
        if (typeof delta.stop_sequence === "string") this.stopSequence = delta.stop_sequence;
        if (isRecord(data.usage)) {
          for (const [key, value] of Object.entries(data.usage)) if (value !== null && value !== undefined) this.usageFields[key] = value;
          this.usage = decodeUsage(this.usageFields);
          out.push({ type: "usage", usage: this.usage });
        }
        break;
      }
      case "message_stop": {
        // The finish always carries usage, zeros when the upstream reported none.
        this.usage = decodeUsage(this.usageFields);
        out.push(this.finish(this.stopReason, this.stopSequence));
        break;
      }
    }
    return out;
  }

  private blockStart(data: Record<string, unknown>): StreamEvent[] {
    const block = isRecord(data.content_block) ? data.content_block : {};
    const kind = String(block.type);
    if (kind !== "text" && kind !== "thinking" && kind !== "redacted_thinking" && kind !== "tool_use") return [];
    const index = this.nextIndex++;
    this.blocks.set(Number(data.index), { index, kind, sawArguments: false });
    if (kind === "tool_use") {
      const events: StreamEvent[] = [{ type: "tool_call_start", index, id: String(block.id ?? ""), name: String(block.name ?? "") }];
      if (isRecord(block.input) && Object.keys(block.input).length > 0) {
        this.blocks.get(Number(data.index))!.sawArguments = true;
        events.push({ type: "tool_call_delta", index, argumentsDelta: JSON.stringify(block.input) });
      }
      return events;
    }
    if (kind === "redacted_thinking") return [{ type: "reasoning_signature", index, redactedData: String(block.data ?? "") }];
    if (kind === "text" && typeof block.text === "string" && block.text !== "") return [{ type: "text_delta", index, text: block.text }];
    if (kind === "thinking" && typeof block.thinking === "string" && block.thinking !== "") {
      return [{ type: "reasoning_delta", index, text: block.thinking }];
    }
    return [];
  }

  private blockDelta(data: Record<string, unknown>): StreamEvent[] {
    const block = this.blocks.get(Number(data.index));
    const delta = isRecord(data.delta) ? data.delta : {};
    if (!block) return [];
    switch (delta.type) {
      case "text_delta":
        return typeof delta.text === "string" && delta.text !== "" ? [{ type: "text_delta", index: block.index, text: delta.text }] : [];
      case "thinking_delta":
        return typeof delta.thinking === "string" && delta.thinking !== "" ? [{ type: "reasoning_delta", index: block.index, text: delta.thinking }] : [];
      case "signature_delta":
        return typeof delta.signature === "string" ? [{ type: "reasoning_signature", index: block.index, signature: delta.signature }] : [];
      case "input_json_delta":
        if (typeof delta.partial_json !== "string" || delta.partial_json === "") return [];
        block.sawArguments = true;
        return [{ type: "tool_call_delta", index: block.index, argumentsDelta: delta.partial_json }];
      default:
        return []; // citations_delta and future delta types carry nothing canonical
    }
  }
}

/** What the decoder takes for a text delta's text: a content_block_delta's text_delta `delta.text`. */
function deltaText(data: unknown, event: string | undefined): unknown {
  if (!isRecord(data)) return undefined;
  const type = typeof data.type === "string" ? data.type : event;
  return type === "content_block_delta" && isRecord(data.delta) && data.delta.type === "text_delta" ? data.delta.text : undefined;
}

// ── sniffing: which upstream events metering must decode ───────────────────────────────────────

// message_start carries the id, model and input usage; message_delta the stop reason and output usage.
const OUTCOME_EVENTS = ["message_start", "message_delta", "message_stop"];
const OUTCOMES = new Set([...OUTCOME_EVENTS, "error"]);
const OUTCOME_MARKS = new RegExp(OUTCOME_EVENTS.map((s) => s.replaceAll(".", "\\.")).join("|"));

export function carriesOutcome(event: string | undefined, _data: string): boolean {
  return OUTCOMES.has(event ?? "");
}

export function mayCarryOutcome(text: string): boolean {
  return OUTCOME_MARKS.test(text);
}
