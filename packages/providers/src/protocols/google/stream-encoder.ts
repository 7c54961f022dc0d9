/** Canonical stream events -> Gemini streamGenerateContent SSE chunks. */
import type { JsonObject, StreamEvent, Usage } from "@bitrouter/core";
import type { StreamEncoder } from "../../codec.js";
import { formatSse } from "../util.js";
import { errorJson } from "./errors.js";
import type { PendingSignature } from "./request.js";
import { signPart } from "./request.js";
import { STOP_TO_GEMINI, encodeUsage, responseArgs } from "./response.js";

// ── Stream encoder: canonical events -> Gemini SSE ───────────────────────────────────────────

export class GeminiStreamEncoder implements StreamEncoder {
  private id = "";
  private model = "";
  private usage?: Usage;
  private done = false;
  /** Kind of each canonical part, to tell thought text from answer text. */
  private readonly kinds = new Map<number, "text" | "reasoning" | "tool">();
  /** Gemini sends function calls whole: arguments are collected until the call is complete. */
  private readonly calls = new Map<number, { id: string; name: string; args: string }>();
  private signature: PendingSignature = {};

  encode(event: StreamEvent): string {
    if (this.done) return "";
    switch (event.type) {
      case "start":
        this.id = event.id;
        this.model = event.model;
        return "";
      case "usage":
        this.usage = event.usage;
        return "";
      case "text_delta":
        this.kinds.set(event.index, "text");
        return this.chunk([signPart({ text: event.text }, this.signature)]);
      case "reasoning_delta":
        this.kinds.set(event.index, "reasoning");
        return event.text === "" ? "" : this.chunk([{ text: event.text, thought: true }]);
      case "reasoning_signature":
        if (event.signature === undefined) return "";
        if (this.kinds.get(event.index) === "reasoning") return this.chunk([{ text: "", thought: true, thoughtSignature: event.signature }]);
        // A signature with no thought text belongs to the next part (see the module comment).
        this.signature.value = event.signature;
        return "";
      case "tool_call_start":
        this.kinds.set(event.index, "tool");
        this.calls.set(event.index, { id: event.id, name: event.name, args: "" });
        return "";
      case "tool_call_delta": {
        const call = this.calls.get(event.index);
        if (call) call.args += event.argumentsDelta;
        return "";
      }
      case "part_end": {
        const call = this.calls.get(event.index);
        if (!call) return "";
        this.calls.delete(event.index);
        return this.chunk([this.callPart(call)]);
      }
      case "finish": {
        if (event.usage) this.usage = event.usage;
        this.done = true;
        const parts = [...this.calls.keys()].sort((a, b) => a - b).map((i) => this.callPart(this.calls.get(i)!));
        this.calls.clear();
        const final: JsonObject = {
          candidates: [{ content: { role: "model", parts }, finishReason: STOP_TO_GEMINI[event.stopReason], index: 0 }],
          usageMetadata: encodeUsage(this.usage ?? { inputTokens: 0, outputTokens: 0 }),
          modelVersion: this.model,
          responseId: this.id,
        };
        return formatSse(final);
      }
      case "error":
        this.done = true;
        return formatSse(errorJson(event.error));
    }
  }

  end(): string {
    if (this.done) return "";
    this.done = true;
    return formatSse(errorJson({ kind: "upstream", message: "stream ended early", status: 502 }));
  }

  private callPart(call: { id: string; name: string; args: string }): JsonObject {
    return signPart({ functionCall: { id: call.id, name: call.name, args: responseArgs(call.args) } }, this.signature);
  }

  private chunk(parts: JsonObject[]): string {
    return formatSse({
      candidates: [{ content: { role: "model", parts }, index: 0 }],
      modelVersion: this.model,
      responseId: this.id,
    });
  }
}
