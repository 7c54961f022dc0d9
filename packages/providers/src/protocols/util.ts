/** Small pure helpers shared by the protocols' codecs. */
import type { ErrorKind, JsonObject, JsonValue, MediaSource } from "@bitrouter/core";
import { invalidRequest } from "@bitrouter/core";

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One server-sent event as text; `event` is omitted for data-only protocols. */
export function formatSse(data: unknown, event?: string): string {
  return `${event === undefined ? "" : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** The error kind an upstream HTTP status means when its body names none. */
export function kindFromStatus(status: number): ErrorKind {
  switch (status) {
    case 400:
    case 422:
      return "invalid_request";
    case 401:
      return "authentication";
    case 402:
      return "payment_required";
    case 403:
      return "permission";
    case 404:
      return "not_found";
    case 413:
      return "payload_too_large";
    case 429:
      return "rate_limit";
    case 503:
    case 529:
      return "overloaded";
    case 408:
    case 504:
      return "timeout";
    default:
      return status >= 500 ? "upstream" : "invalid_request";
  }
}

/** A readable message for an upstream error body that is not the protocol's JSON (HTML, text). */
export function describeUnknownErrorBody(status: number, body: unknown): string {
  let text = typeof body === "string" ? body : body === undefined || body === null ? "" : JSON.stringify(body);
  text = text.replace(/\s+/g, " ").trim();
  if (text.length > 200) text = `${text.slice(0, 200)}…`;
  return text ? `upstream returned HTTP ${status}: ${text}` : `upstream returned HTTP ${status}`;
}

/**
 * Parses canonical tool-call arguments (a JSON string) into the object protocols like Anthropic and
 * Gemini put on the wire. Empty arguments mean `{}`. Throws invalid_request naming `param` otherwise.
 */
export function parseToolArguments(args: string, param: string): JsonObject {
  if (args.trim() === "") return {};
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(args) as JsonValue;
  } catch {
    throw invalidRequest(`tool call arguments are not valid JSON: ${args.slice(0, 100)}`, param);
  }
  if (!isRecord(parsed)) throw invalidRequest("tool call arguments must be a JSON object", param);
  return parsed as JsonObject;
}

/** A finite number from an upstream body (a token count, a timestamp), else undefined. */
export function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Current Unix time in seconds, for protocols whose responses carry no timestamp. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

// ── Request validation: each throws invalid_request naming the field and what was expected ──────

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

export function requireRecord(value: unknown, param: string): Record<string, unknown> {
  if (!isRecord(value)) throw invalidRequest(`${param} must be an object, got ${describe(value)}`, param);
  return value;
}

export function requireArray(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) throw invalidRequest(`${param} must be an array, got ${describe(value)}`, param);
  return value;
}

export function requireString(value: unknown, param: string): string {
  if (typeof value !== "string") throw invalidRequest(`${param} must be a string, got ${describe(value)}`, param);
  return value;
}

export function optionalString(value: unknown, param: string): string | undefined {
  return value === undefined || value === null ? undefined : requireString(value, param);
}

export function optionalNumber(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalidRequest(`${param} must be a number, got ${describe(value)}`, param);
  return value;
}

export function optionalBoolean(value: unknown, param: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalidRequest(`${param} must be a boolean, got ${describe(value)}`, param);
  return value;
}

export function optionalStringArray(value: unknown, param: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  return requireArray(value, param).map((item, i) => requireString(item, `${param}[${i}]`));
}

// ── added for the openai codecs ─────────────────────────────────────────────────────────────

/** Splits a `data:<mediaType>;base64,<data>` URL; undefined when `url` is not a base64 data URL. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  if (!url.startsWith("data:")) return undefined;
  const comma = url.indexOf(",");
  if (comma < 0) return undefined;
  const meta = url.slice(5, comma);
  if (!meta.endsWith(";base64")) return undefined;
  return { mediaType: meta.slice(0, -7) || "application/octet-stream", data: url.slice(comma + 1) };
}

/** An http(s) URL stays a URL source; a base64 data URL becomes a base64 source. */
export function mediaSourceFromUrl(url: string): MediaSource {
  const parsed = parseDataUrl(url);
  return parsed ? { kind: "base64", mediaType: parsed.mediaType, data: parsed.data } : { kind: "url", url };
}

/** The URL form of a media source: base64 sources become data URLs. */
export function mediaSourceToUrl(source: MediaSource): string {
  return source.kind === "url" ? source.url : `data:${source.mediaType};base64,${source.data}`;
}

/** Tool-call arguments as the canonical JSON string: some upstreams send an object (or nothing). */
export function normalizeArguments(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  return JSON.stringify(value);
}

/** Masks what looks like an API key, bearer token or JWT so upstream error text never leaks one. */
export function redactSecrets(text: string): string {
  return text
    .replace(/\b(sk|rk|pk)-[A-Za-z0-9_*.-]{8,}/g, "$1-[redacted]")
    .replace(/\bBearer\s+[A-Za-z0-9_.~+/=-]{8,}/gi, "Bearer [redacted]")
    .replace(/\bAIza[0-9A-Za-z_-]{20,}/g, "[redacted]")
    .replace(/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, "[redacted]");
}
// ── end of the openai codecs section ──
