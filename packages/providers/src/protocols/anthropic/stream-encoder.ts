/** Canonical stream events -> Anthropic Messages SSE events. */
import type { ErrorInfo, JsonObject, StreamEvent, Usage } from "@bitrouter/core";
import type { StreamEncoder } from "../../codec.js";
import { formatSse } from "../util.js";
import { errorBody } from "./errors.js";
import { STOP_TO_ANTHROPIC, encodeUsage } from "./response.js";

// ── Stream encoder: canonical events -> Anthropic SSE ────────────────────────────────────────

type BlockKind = "text" | "thinking" | "tool_use";

/** One canonical output part on its way to the client: deltas wait here while another block is open. */
interface PendingPart {
  kind: BlockKind;
  /** Text deltas, JSON fragments or thinking deltas not yet sent. */
  chunks: Array<{ type: "delta"; text: string } | { type: "signature"; signature: string }>;
  id?: string;
  name?: string;
  redactedData?: string;
  ended: boolean;
}

export class AnthropicStreamEncoder implements StreamEncoder {
  private start?: { id: string; model: string };
  private messageStarted = false;
  private done = false;
  private usage?: Usage;
  /** Parts by canonical index, in order of first appearance. */
  private readonly parts = new Map<number, PendingPart>();
  private readonly waiting: number[] = [];
  private open: { index: number; block: number } | undefined;
  private nextBlock = 0;
  /** Text/thinking parts closed early (another part started); later deltas continue in a new block. */
  private readonly closedEarly = new Set<number>();

  encode(event: StreamEvent): string {
    if (this.done) return "";
    switch (event.type) {
      case "start":
        this.start = { id: event.id, model: event.model };
        return "";
      case "usage":
        this.usage = event.usage;
        return this.messageStart();
      case "text_delta":
        return this.messageStart() + this.delta(event.index, "text", { type: "delta", text: event.text });
      case "reasoning_delta":
        return this.messageStart() + this.delta(event.index, "thinking", { type: "delta", text: event.text });
      case "reasoning_signature":
        return this.messageStart() + this.signature(event.index, event.signature, event.redactedData);
      case "tool_call_start": {
        let out = this.messageStart();
        out += this.softClose(event.index);
        const part = this.part(event.index, "tool_use");
        part.id = event.id;
        part.name = event.name;
        return out + this.pump();
      }
      case "tool_call_delta":
        return this.messageStart() + this.delta(event.index, "tool_use", { type: "delta", text: event.argumentsDelta });
      case "part_end": {
        const part = this.parts.get(event.index);
        if (part) part.ended = true;
        return this.pump();
      }
      case "finish": {
        if (event.usage) this.usage = event.usage;
        let out = this.messageStart() + this.flushAll();
        const usage = this.usage ?? { inputTokens: 0, outputTokens: 0 };
        out += formatSse(
          {
            type: "message_delta",
            delta: { stop_reason: STOP_TO_ANTHROPIC[event.stopReason], stop_sequence: event.stopSequence ?? null },
            usage: encodeUsage(usage),
          },
          "message_delta",
        );
        out += formatSse({ type: "message_stop" }, "message_stop");
        this.done = true;
        return out;
      }
      case "error": {
        this.done = true;
        return this.messageStart() + this.errorEvent(event.error);
      }
    }
  }

  end(): string {
    if (this.done) return "";
    this.done = true;
    // No finish and no error: the stream was cut short. Say so rather than end like a success.
    return this.messageStart() + this.errorEvent({ kind: "upstream", message: "stream ended early", status: 502 });
  }

  private errorEvent(error: ErrorInfo): string {
    return formatSse({ type: "error", error: { type: errorBody(error).type, message: error.message } }, "error");
  }

  private messageStart(): string {
    if (this.messageStarted) return "";
    this.messageStarted = true;
    const start = this.start ?? { id: "msg_bitrouter", model: "" };
    const usage = encodeUsage(this.usage ?? { inputTokens: 0, outputTokens: 0 });
    return formatSse(
      {
        type: "message_start",
        message: { id: start.id, type: "message", role: "assistant", model: start.model, content: [], stop_reason: null, stop_sequence: null, usage },
      },
      "message_start",
    );
  }

  private part(index: number, kind: BlockKind): PendingPart {
    let part = this.parts.get(index);
    if (!part) {
      part = { kind, chunks: [], ended: false };
      this.parts.set(index, part);
      this.waiting.push(index);
    }
    return part;
  }

  private delta(index: number, kind: BlockKind, chunk: PendingPart["chunks"][number]): string {
    const out = this.prepare(index, kind);
    this.part(index, kind).chunks.push(chunk);
    return out + this.pump();
  }

  private signature(index: number, signature: string | undefined, redactedData: string | undefined): string {
    const out = this.prepare(index, "thinking");
    const part = this.part(index, "thinking");
    if (redactedData !== undefined) part.redactedData = redactedData;
    if (signature !== undefined) part.chunks.push({ type: "signature", signature });
    return out + this.pump();
  }

  /** Before an event for `index`: close a finished-looking open block, or reopen a part closed early. */
  private prepare(index: number, kind: BlockKind): string {
    const out = this.parts.has(index) ? "" : this.softClose(index);
    if (this.closedEarly.delete(index)) {
      // More deltas for a block we closed early: they continue in a fresh block of the same kind.
      this.parts.set(index, { kind, chunks: [], ended: false });
      this.waiting.push(index);
    }
    return out;
  }

  /**
   * A new part is starting: an open text or thinking block is most likely complete (protocols like
   * OpenAI chat never say so), so close it and let the new part stream instead of waiting for finish.
   * Tool-use blocks stay open: their JSON cannot be split across blocks.
   */
  private softClose(newIndex: number): string {
    const open = this.open;
    if (!open || open.index === newIndex) return "";
    const part = this.parts.get(open.index);
    if (!part || part.kind === "tool_use" || part.redactedData !== undefined) return "";
    this.closedEarly.add(open.index);
    part.ended = true;
    return this.pump();
  }

  /** Sends whatever can be sent now without two blocks ever being open at once. */
  private pump(): string {
    let out = "";
    for (;;) {
      if (!this.open) {
        const next = this.waiting.shift();
        if (next === undefined) return out;
        out += this.openBlock(next);
      }
      const open = this.open!;
      const part = this.parts.get(open.index)!;
      out += this.drain(part, open.block);
      if (!part.ended) return out;
      out += formatSse({ type: "content_block_stop", index: open.block }, "content_block_stop");
      this.open = undefined;
    }
  }

  private openBlock(index: number): string {
    const part = this.parts.get(index)!;
    const block = this.nextBlock++;
    this.open = { index, block };
    let contentBlock: JsonObject;
    if (part.kind === "tool_use") contentBlock = { type: "tool_use", id: part.id ?? `toolu_${index}`, name: part.name ?? "", input: {} };
    else if (part.kind === "thinking" && part.redactedData !== undefined && part.chunks.length === 0) {
      contentBlock = { type: "redacted_thinking", data: part.redactedData };
      part.ended = true;
    } else if (part.kind === "thinking") contentBlock = { type: "thinking", thinking: "", signature: "" };
    else contentBlock = { type: "text", text: "" };
    return formatSse({ type: "content_block_start", index: block, content_block: contentBlock }, "content_block_start");
  }

  private drain(part: PendingPart, block: number): string {
    let out = "";
    for (const chunk of part.chunks) {
      let delta: JsonObject;
      if (chunk.type === "signature") delta = { type: "signature_delta", signature: chunk.signature };
      else if (part.kind === "text") delta = { type: "text_delta", text: chunk.text };
      else if (part.kind === "thinking") delta = { type: "thinking_delta", thinking: chunk.text };
      else delta = { type: "input_json_delta", partial_json: chunk.text };
      out += formatSse({ type: "content_block_delta", index: block, delta }, "content_block_delta");
    }
    part.chunks = [];
    return out;
  }

  /** At finish every part is complete: close the open block and send the waiting ones in order. */
  private flushAll(): string {
    for (const part of this.parts.values()) part.ended = true;
    return this.pump();
  }
}
