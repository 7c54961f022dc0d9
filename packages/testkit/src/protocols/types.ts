import type { Answer, MockErrorType, MockProtocol, PromptInfo } from "../script.js";

export interface ErrorAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** How one provider's wire format renders answers and errors. Written from the providers' docs. */
export interface Renderer {
  readonly protocol: MockProtocol;
  /** Prefix of generated tool-call ids (`call`, `toolu`, ...). */
  readonly toolIdPrefix: string;
  /** Model, stream flag and prompt text of a request body (`url` carries Gemini's model and method). */
  prompt(body: unknown, url: URL): PromptInfo;
  /** The non-stream response body. */
  json(answer: Answer): unknown;
  /** The stream, one complete SSE event (with its blank-line terminator) per element. */
  stream(answer: Answer, prompt: PromptInfo): string[];
  /** An error answer in the provider's own shape. */
  error(type: MockErrorType, message?: string, status?: number): ErrorAnswer;
  /** The provider's in-band error event for a stream that already started. */
  streamError(type: MockErrorType, message?: string): string;
}

export type Json = Record<string, unknown>;

export function asObject(value: unknown): Json {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Sum of the lengths of every string found in a value (the prompt-size estimate). */
export function textLength(value: unknown): number {
  if (typeof value === "string") return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + textLength(v), 0);
  if (value !== null && typeof value === "object") {
    let n = 0;
    for (const [key, v] of Object.entries(value)) {
      // Skip fields that are identifiers or settings rather than prompt text.
      if (key === "type" || key === "role" || key === "model" || key === "id" || key === "mime_type" || key === "mimeType") continue;
      n += textLength(v);
    }
    return n;
  }
  return 0;
}

/** The text of a message's content: a string, or the `text` of its text parts joined. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  return asArray(content)
    .map((part) => {
      const p = asObject(part);
      return typeof p.text === "string" ? p.text : "";
    })
    .join("");
}

export function sseData(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
