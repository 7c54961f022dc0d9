/** Canonical stream events -> OpenAI Chat Completions SSE chunks. */
import type { CanonicalRequest, JsonObject, StreamEvent, Usage } from "@bitrouter/core";
import type { StreamEncoder } from "../../codec.js";
import { formatSse } from "../util.js";
import { openaiErrorObject } from "./errors.js";
import { FINISH_BY_STOP, encodeChatUsage } from "./response.js";

// ── stream: canonical events -> SSE ───────────────────────────────────────────────────────────

export class ChatStreamEncoder implements StreamEncoder {
  private id = "";
  private model: string;
  private created = 0;
  private started = false;
  /** canonical part index -> OpenAI tool_calls[].index (counts tool calls only). */
  private readonly toolIndex = new Map<number, number>();
  private usage: Usage | undefined;
  private state: "open" | "finished" | "errored" = "open";

  constructor(private readonly request: CanonicalRequest) {
    this.model = request.model;
  }

  /** `data: {"id":…,"choices":[{"index":0,"delta":` — constant for the whole stream, built once. */
  private prefix: string | undefined;

  private chunk(delta: JsonObject, finishReason: string | null = null): string {
    return this.frame(JSON.stringify(delta), finishReason);
  }

  /** A chunk whose delta is already JSON text. */
  private frame(delta: string, finishReason: string | null = null): string {
    // Hand-assembled (same bytes as JSON.stringify of the chunk): this runs once per token.
    this.prefix ??= `data: {"id":${JSON.stringify(this.id)},"object":"chat.completion.chunk","created":${this.created},"model":${JSON.stringify(this.model)},"choices":[{"index":0,"delta":`;
    return `${this.prefix}${delta},"logprobs":null,"finish_reason":${finishReason === null ? "null" : JSON.stringify(finishReason)}}]}\n\n`;
  }

  /** The first chunk must carry role "assistant"; synthesise it if events come without `start`. */
  private ensureStarted(): string {
    if (this.started) return "";
    this.started = true;
    return this.chunk({ role: "assistant", content: "" });
  }

  encode(event: StreamEvent): string {
    if (this.state !== "open") return "";
    switch (event.type) {
      case "start":
        if (this.started) return "";
        this.id = event.id;
        this.model = event.model || this.request.model;
        this.created = event.created;
        return this.ensureStarted();
      case "text_delta":
        // The delta's JSON by hand (the bytes JSON.stringify({ content }) gives): once per token.
        return event.text ? this.ensureStarted() + this.frame(`{"content":${JSON.stringify(event.text)}}`) : "";
      case "reasoning_delta":
        return event.text ? this.ensureStarted() + this.chunk({ reasoning_content: event.text }) : "";
      case "tool_call_start": {
        const index = this.toolIndex.size;
        this.toolIndex.set(event.index, index);
        return this.ensureStarted() + this.chunk({ tool_calls: [{ index, id: event.id, type: "function", function: { name: event.name, arguments: "" } }] });
      }
      case "tool_call_delta": {
        const index = this.toolIndex.get(event.index);
        if (index === undefined || !event.argumentsDelta) return "";
        return this.chunk({ tool_calls: [{ index, function: { arguments: event.argumentsDelta } }] });
      }
      case "usage":
        this.usage = event.usage;
        return "";
      case "finish": {
        this.state = "finished";
        const usage = event.usage ?? this.usage;
        let out = this.ensureStarted() + this.chunk({}, FINISH_BY_STOP[event.stopReason]);
        if (this.request.includeUsage && usage) {
          out += formatSse({
            id: this.id,
            object: "chat.completion.chunk",
            created: this.created,
            model: this.model,
            choices: [],
            usage: encodeChatUsage(usage),
          });
        }
        return out;
      }
      case "error":
        this.state = "errored";
        return formatSse({ error: openaiErrorObject(event.error) });
      default:
        return "";
    }
  }

  end(): string {
    if (this.state === "finished") return "data: [DONE]\n\n";
    if (this.state === "errored") return "";
    // Events ran out without a finish: never close like a success.
    this.state = "errored";
    return formatSse({ error: openaiErrorObject({ kind: "upstream", message: "stream ended early", status: 502 }) });
  }
}
