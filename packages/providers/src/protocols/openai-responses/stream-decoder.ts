/** OpenAI Responses SSE events -> canonical stream events. */
import type { StreamEvent } from "@bitrouter/core";
import type { SseEvent } from "../../codec.js";
import { BaseStreamDecoder } from "../stream-decoder.js";
import { count, isRecord } from "../util.js";
import { decodeOpenAIError } from "../openai-chat/errors.js";
import { callArguments, decodeUsage, stopFor } from "./response.js";

// ── stream: SSE -> canonical events ───────────────────────────────────────────────────────────

export class ResponsesStreamDecoder extends BaseStreamDecoder {
  /** output_index -> canonical part index. */
  private readonly parts = new Map<number, { index: number; kind: string; gotArgs?: boolean; summaryIndex?: number }>();
  private sawToolCall = false;

  protected decodeEvent(event: SseEvent): StreamEvent[] {
    const data = event.data.trim();
    if (data === "" || data === "[DONE]") return [];
    let e: unknown;
    try {
      e = JSON.parse(data);
    } catch {
      return this.malformed(data);
    }
    if (!isRecord(e)) return [];
    const type = typeof e.type === "string" ? e.type : event.event;
    const out: StreamEvent[] = [];
    if (!this.started) {
      const r = isRecord(e.response) ? e.response : {};
      this.start(out, {
        id: typeof r.id === "string" ? r.id : undefined,
        model: typeof r.model === "string" ? r.model : undefined,
        created: count(r.created_at),
      });
    }
    const outputIndex = count(e.output_index) ?? 0;
    switch (type) {
      case "response.output_item.added": {
        const item = isRecord(e.item) ? e.item : {};
        if (item.type === "function_call" || item.type === "custom_tool_call") this.toolStart(outputIndex, item, out);
        break;
      }
      case "response.output_text.delta":
      case "response.refusal.delta":
        if (typeof e.delta === "string" && e.delta !== "") out.push({ type: "text_delta", index: this.part(outputIndex, "text").index, text: e.delta });
        break;
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta": {
        if (typeof e.delta !== "string" || e.delta === "") break;
        const part = this.part(outputIndex, "reasoning");
        // Several summary parts of one reasoning item form one block, separated by a blank line.
        const summaryIndex = count(e.summary_index) ?? 0;
        const sep = part.summaryIndex !== undefined && part.summaryIndex !== summaryIndex ? "\n\n" : "";
        part.summaryIndex = summaryIndex;
        out.push({ type: "reasoning_delta", index: part.index, text: sep + e.delta });
        break;
      }
      case "response.function_call_arguments.delta": {
        const part = this.parts.get(outputIndex);
        if (part?.kind === "tool" && typeof e.delta === "string" && e.delta !== "") {
          part.gotArgs = true;
          out.push({ type: "tool_call_delta", index: part.index, argumentsDelta: e.delta });
        }
        break;
      }
      case "response.function_call_arguments.done": {
        const part = this.parts.get(outputIndex);
        // Servers that send only the final arguments still give the whole call.
        if (part?.kind === "tool" && !part.gotArgs && typeof e.arguments === "string" && e.arguments !== "") {
          part.gotArgs = true;
          out.push({ type: "tool_call_delta", index: part.index, argumentsDelta: e.arguments });
        }
        break;
      }
      case "response.output_item.done": {
        const item = isRecord(e.item) ? e.item : {};
        if (item.type === "function_call" || item.type === "custom_tool_call") {
          let part = this.parts.get(outputIndex);
          if (!part) part = this.toolStart(outputIndex, item, out);
          const args = callArguments(item);
          if (!part.gotArgs && args !== "") {
            part.gotArgs = true;
            out.push({ type: "tool_call_delta", index: part.index, argumentsDelta: args });
          }
        } else if (item.type === "reasoning" && typeof item.encrypted_content === "string") {
          out.push({ type: "reasoning_signature", index: this.part(outputIndex, "reasoning").index, redactedData: item.encrypted_content });
        }
        const part = this.parts.get(outputIndex);
        if (part) out.push({ type: "part_end", index: part.index });
        break;
      }
      case "response.completed":
      case "response.incomplete": {
        const r = isRecord(e.response) ? e.response : {};
        this.usage = decodeUsage(r.usage) ?? this.usage;
        if (this.usage) out.push({ type: "usage", usage: this.usage });
        out.push(this.finish(stopFor(r.status, r.incomplete_details, this.sawToolCall)));
        break;
      }
      case "response.failed": {
        const r = isRecord(e.response) ? e.response : {};
        this.done = true;
        out.push({ type: "error", error: decodeOpenAIError(0, { error: isRecord(r.error) ? r.error : { message: "the response failed" } }) });
        break;
      }
      case "error":
        this.done = true;
        out.push({ type: "error", error: decodeOpenAIError(0, isRecord(e.error) ? e : { error: e }) });
        break;
      default:
        // created / in_progress / content_part / *.done events carry nothing new for us.
        break;
    }
    return out;
  }

  protected override endOfStream(): StreamEvent[] {
    return this.fail({ kind: "upstream", message: "stream ended early: no response.completed before the connection closed", status: 502 });
  }

  private part(outputIndex: number, kind: string): { index: number; kind: string; gotArgs?: boolean; summaryIndex?: number } {
    let part = this.parts.get(outputIndex);
    if (!part) {
      part = { index: this.nextIndex++, kind };
      this.parts.set(outputIndex, part);
    }
    return part;
  }

  private toolStart(outputIndex: number, item: Record<string, unknown>, out: StreamEvent[]): { index: number; kind: string; gotArgs?: boolean } {
    this.sawToolCall = true;
    const part = this.part(outputIndex, "tool");
    out.push({
      type: "tool_call_start",
      index: part.index,
      id: String(item.call_id ?? item.id ?? `call_${part.index}`),
      name: typeof item.name === "string" ? item.name : "",
    });
    const args = callArguments(item);
    if (args !== "") {
      part.gotArgs = true;
      out.push({ type: "tool_call_delta", index: part.index, argumentsDelta: args });
    }
    return part;
  }
}

// ── sniffing: which upstream events metering must decode ───────────────────────────────────────

// response.created carries the id and model the start event reports.
const OUTCOME_EVENTS = ["response.created", "response.completed", "response.incomplete", "response.failed"];
const OUTCOMES = new Set([...OUTCOME_EVENTS, "error"]);
const OUTCOME_MARKS = new RegExp(OUTCOME_EVENTS.map((s) => s.replaceAll(".", "\\.")).join("|"));

export function carriesOutcome(event: string | undefined, _data: string): boolean {
  return OUTCOMES.has(event ?? "");
}

export function mayCarryOutcome(text: string): boolean {
  return OUTCOME_MARKS.test(text);
}
