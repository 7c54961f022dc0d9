/** Canonical stream events -> OpenAI Responses SSE events. */
import type { CanonicalRequest, ErrorInfo, JsonObject, JsonValue, StreamEvent, ToolDefinition, Usage } from "@bitrouter/core";
import type { StreamEncoder } from "../../codec.js";
import { formatSse } from "../util.js";
import { freeformInput, toolsByName } from "./request.js";
import { functionCallItem, itemBase, messageItem, reasoningItem, responseObject, statusFor } from "./response.js";

// ── stream: canonical events -> SSE ───────────────────────────────────────────────────────────

interface OutItem {
  kind: "message" | "reasoning" | "function_call";
  /** Assigned when the item is announced (output_item.added); -1 while it waits in the queue. */
  outputIndex: number;
  id: string;
  text: string;
  open: boolean;
  /** reasoning: whether a summary part was announced (redacted-only reasoning has none). */
  summaryOpen?: boolean;
  encrypted?: string;
  callId?: string;
  name?: string;
  /** function_call: the caller's tool (a freeform tool's call is a custom_tool_call, its text sent whole at the end). */
  tool?: ToolDefinition;
  /** Cached JSON fragment of this item's delta events. */
  deltaJson?: string;
}

/**
 * Canonical events -> Responses SSE. Like the real API, output items never overlap on the wire:
 * one item is "active"; an item that starts while a function call is still open (interleaved
 * parallel tool calls) waits in a queue with its deltas buffered until the active one is done.
 * A new text or reasoning part closes everything open before it.
 */
export class ResponsesStreamEncoder implements StreamEncoder {
  private seq = 0;
  private base: { id: string; created: number; model: string };
  private started = false;
  private state: "open" | "finished" | "errored" = "open";
  /** Announced items, in output order. */
  private readonly items: OutItem[] = [];
  private readonly byIndex = new Map<number, OutItem>();
  private active: OutItem | undefined;
  private readonly queue: OutItem[] = [];
  private usage: Usage | undefined;

  private readonly tools: Map<string, ToolDefinition>;

  constructor(private readonly request: CanonicalRequest) {
    this.base = { id: "resp_bitrouter", created: 0, model: request.model };
    this.tools = toolsByName(request);
  }

  private toolExtra(name: string): Partial<OutItem> {
    const tool = this.tools.get(name);
    return tool ? { tool } : {};
  }

  private emit(type: string, payload: JsonObject): string {
    return formatSse({ type, sequence_number: this.seq++, ...payload }, type);
  }

  private snapshot(status: { status: string; incomplete_details: JsonValue }, error: JsonValue = null): JsonObject {
    return responseObject(
      this.base,
      this.request,
      status,
      this.items.map((i) => this.itemJson(i)),
      this.usage,
      error,
    );
  }

  private ensureStarted(): string {
    if (this.started) return "";
    this.started = true;
    const inProgress = { status: "in_progress", incomplete_details: null };
    return this.emit("response.created", { response: this.snapshot(inProgress) }) + this.emit("response.in_progress", { response: this.snapshot(inProgress) });
  }

  private itemJson(item: OutItem): JsonObject {
    const status = item.open ? "in_progress" : "completed";
    if (item.kind === "message") return messageItem(item.id, item.text, status);
    if (item.kind === "reasoning") return reasoningItem(item.id, item.text, item.encrypted);
    return functionCallItem(item.id, { id: item.callId ?? "", name: item.name ?? "", arguments: item.text }, status, item.tool);
  }

  /** The item for canonical part `index`, created (and announced or queued) on first use. */
  private open(index: number, kind: OutItem["kind"], extra: Partial<OutItem> = {}): { item: OutItem; out: string } {
    let out = this.ensureStarted();
    const existing = this.byIndex.get(index);
    if (existing) return { item: existing, out };
    const prefix = kind === "message" ? "msg" : kind === "reasoning" ? "rs" : "fc";
    const item: OutItem = { kind, outputIndex: -1, id: `${prefix}_${itemBase(this.base.id)}_${index}`, text: "", open: true, ...extra };
    this.byIndex.set(index, item);
    if (kind !== "function_call") out += this.closeAll();
    if (this.active) this.queue.push(item);
    else out += this.announce(item);
    return { item, out };
  }

  /** output_item.added (+ the buffered text of a queued item); closes it at once if it ended meanwhile. */
  private announce(item: OutItem): string {
    item.outputIndex = this.items.length;
    this.items.push(item);
    this.active = item;
    const added: JsonObject =
      item.kind === "message"
        ? { id: item.id, type: "message", status: "in_progress", content: [], role: "assistant" }
        : item.kind === "reasoning"
          ? { id: item.id, type: "reasoning", summary: [] }
          : functionCallItem(item.id, { id: item.callId ?? "", name: item.name ?? "", arguments: "" }, "in_progress", item.tool);
    let out = this.emit("response.output_item.added", { output_index: item.outputIndex, item: added });
    if (item.kind === "message") {
      out += this.emit("response.content_part.added", {
        item_id: item.id,
        output_index: item.outputIndex,
        content_index: 0,
        part: { type: "output_text", annotations: [], logprobs: [], text: "" },
      });
    }
    if (item.text !== "") out += this.deltaEvent(item, item.text);
    if (!item.open) out += this.finishActive();
    return out;
  }

  /** The delta event of an announced item. */
  private deltaEvent(item: OutItem, delta: string): string {
    // The hot path (one event per token): the constant part of the JSON is built once per item.
    if (item.kind === "message") {
      item.deltaJson ??= `,"item_id":${JSON.stringify(item.id)},"output_index":${item.outputIndex},"content_index":0,"delta":`;
      return `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":${this.seq++}${item.deltaJson}${JSON.stringify(delta)},"logprobs":[]}\n\n`;
    }
    if (item.kind === "function_call") {
      if (item.tool?.freeform) return ""; // the text is inside JSON arguments: sent whole when the call ends
      item.deltaJson ??= `,"item_id":${JSON.stringify(item.id)},"output_index":${item.outputIndex},"delta":`;
      return `event: response.function_call_arguments.delta\ndata: {"type":"response.function_call_arguments.delta","sequence_number":${this.seq++}${item.deltaJson}${JSON.stringify(delta)}}\n\n`;
    }
    const at = { item_id: item.id, output_index: item.outputIndex };
    let out = "";
    if (!item.summaryOpen) {
      item.summaryOpen = true;
      out += this.emit("response.reasoning_summary_part.added", { ...at, summary_index: 0, part: { type: "summary_text", text: "" } });
    }
    return out + this.emit("response.reasoning_summary_text.delta", { ...at, summary_index: 0, delta });
  }

  private append(item: OutItem, delta: string): string {
    if (!item.open || delta === "") return "";
    item.text += delta;
    return item === this.active ? this.deltaEvent(item, delta) : "";
  }

  /** The done events of the active item, then the next queued item takes its place. */
  private finishActive(): string {
    const item = this.active;
    if (!item) return "";
    this.active = undefined;
    item.open = false;
    const at = { item_id: item.id, output_index: item.outputIndex };
    let out = "";
    if (item.kind === "message") {
      out += this.emit("response.output_text.done", { ...at, content_index: 0, text: item.text, logprobs: [] });
      out += this.emit("response.content_part.done", {
        ...at,
        content_index: 0,
        part: { type: "output_text", annotations: [], logprobs: [], text: item.text },
      });
    } else if (item.kind === "reasoning" && item.summaryOpen) {
      out += this.emit("response.reasoning_summary_text.done", { ...at, summary_index: 0, text: item.text });
      out += this.emit("response.reasoning_summary_part.done", { ...at, summary_index: 0, part: { type: "summary_text", text: item.text } });
    } else if (item.kind === "function_call" && item.tool?.freeform) {
      const input = freeformInput(item.text);
      out += this.emit("response.custom_tool_call_input.delta", { ...at, delta: input });
      out += this.emit("response.custom_tool_call_input.done", { ...at, input });
    } else if (item.kind === "function_call") {
      out += this.emit("response.function_call_arguments.done", { ...at, arguments: item.text, name: item.name ?? "" });
    }
    out += this.emit("response.output_item.done", { output_index: item.outputIndex, item: this.itemJson(item) });
    const next = this.queue.shift();
    return next ? out + this.announce(next) : out;
  }

  private close(item: OutItem): string {
    if (!item.open) return "";
    if (item !== this.active) {
      item.open = false; // queued: announced and finished when its turn comes
      return "";
    }
    return this.finishActive();
  }

  private closeAll(): string {
    for (const item of this.queue) item.open = false;
    return this.finishActive();
  }

  encode(event: StreamEvent): string {
    if (this.state !== "open") return "";
    switch (event.type) {
      case "start":
        if (this.started) return "";
        this.base = { id: event.id || this.base.id, created: event.created, model: event.model || this.request.model };
        return this.ensureStarted();
      case "text_delta": {
        if (!event.text) return "";
        const { item, out } = this.open(event.index, "message");
        return item.kind === "message" ? out + this.append(item, event.text) : out;
      }
      case "reasoning_delta": {
        if (!event.text) return "";
        const { item, out } = this.open(event.index, "reasoning");
        return item.kind === "reasoning" ? out + this.append(item, event.text) : out;
      }
      case "reasoning_signature": {
        if (event.redactedData === undefined) return "";
        const { item, out } = this.open(event.index, "reasoning");
        if (item.kind === "reasoning") item.encrypted = event.redactedData;
        return out;
      }
      case "tool_call_start":
        return this.open(event.index, "function_call", { callId: event.id, name: event.name, ...this.toolExtra(event.name) }).out;
      case "tool_call_delta": {
        const item = this.byIndex.get(event.index);
        return item?.kind === "function_call" ? this.append(item, event.argumentsDelta) : "";
      }
      case "part_end": {
        const item = this.byIndex.get(event.index);
        return item ? this.close(item) : "";
      }
      case "usage":
        this.usage = event.usage;
        return "";
      case "finish": {
        this.state = "finished";
        if (event.usage) this.usage = event.usage;
        const out = this.ensureStarted() + this.closeAll();
        const status = statusFor(event.stopReason);
        const type = status.status === "completed" ? "response.completed" : "response.incomplete";
        return out + this.emit(type, { response: this.snapshot(status) });
      }
      case "error":
        return this.fail(event.error);
      default:
        return "";
    }
  }

  /** The API's failure shape: an `error` event, then `response.failed` (never a completed response). */
  private fail(error: ErrorInfo): string {
    this.state = "errored";
    const code = error.code ?? error.kind;
    let out = this.ensureStarted();
    out += this.emit("error", { code, message: error.message, param: error.param ?? null });
    return out + this.emit("response.failed", { response: this.snapshot({ status: "failed", incomplete_details: null }, { code, message: error.message }) });
  }

  end(): string {
    if (this.state !== "open") return "";
    return this.fail({ kind: "upstream", message: "stream ended early", status: 502 });
  }
}
