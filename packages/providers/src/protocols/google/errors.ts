/** Google error bodies (`{error: {code, message, status}}`) <-> ErrorInfo. */
import type { ErrorInfo, ErrorKind, JsonObject } from "@bitrouter/core";
import { STATUS_BY_KIND } from "@bitrouter/core";
import { describeUnknownErrorBody, isRecord, kindFromStatus, redactSecrets } from "../util.js";

// ── Errors ────────────────────────────────────────────────────────────────────────────────────

const STATUS_TEXT_BY_KIND: Record<ErrorKind, string> = {
  invalid_request: "INVALID_ARGUMENT",
  authentication: "UNAUTHENTICATED",
  payment_required: "RESOURCE_EXHAUSTED",
  permission: "PERMISSION_DENIED",
  not_found: "NOT_FOUND",
  payload_too_large: "INVALID_ARGUMENT",
  rate_limit: "RESOURCE_EXHAUSTED",
  guardrail: "INVALID_ARGUMENT",
  upstream: "INTERNAL",
  timeout: "DEADLINE_EXCEEDED",
  overloaded: "UNAVAILABLE",
  cancelled: "CANCELLED",
  internal: "INTERNAL",
};

const KIND_BY_STATUS_TEXT: Record<string, ErrorKind> = {
  INVALID_ARGUMENT: "invalid_request",
  FAILED_PRECONDITION: "invalid_request",
  OUT_OF_RANGE: "invalid_request",
  UNAUTHENTICATED: "authentication",
  PERMISSION_DENIED: "permission",
  NOT_FOUND: "not_found",
  RESOURCE_EXHAUSTED: "rate_limit",
  INTERNAL: "upstream",
  UNKNOWN: "upstream",
  UNAVAILABLE: "overloaded",
  DEADLINE_EXCEEDED: "timeout",
};

export function errorJson(error: ErrorInfo): JsonObject {
  const status = error.kind === "guardrail" && error.status === 403 ? "PERMISSION_DENIED" : STATUS_TEXT_BY_KIND[error.kind];
  return { error: { code: error.status, message: error.message, status } };
}

export function encodeError(error: ErrorInfo): { status: number; body: JsonObject } {
  return { status: error.status, body: errorJson(error) };
}

export function errorFromJson(status: number, body: unknown): ErrorInfo {
  // Gemini sometimes wraps the error object in a one-element array.
  const root = Array.isArray(body) && body.length === 1 ? body[0] : body;
  const err = isRecord(root) && isRecord(root.error) ? root.error : undefined;
  const code = typeof err?.code === "number" ? err.code : status;
  const statusText = typeof err?.status === "string" ? err.status : undefined;
  const kind = (statusText && KIND_BY_STATUS_TEXT[statusText]) || kindFromStatus(code);
  const message = redactSecrets(typeof err?.message === "string" ? err.message : describeUnknownErrorBody(status, body));
  return { kind, message, status: STATUS_BY_KIND[kind] };
}

export function decodeError(status: number, body: unknown): ErrorInfo {
  return errorFromJson(status, body);
}

/** A standalone error chunk of a streamGenerateContent stream (data-only SSE). */
export function encodeStreamError(error: ErrorInfo): string {
  return `data: ${JSON.stringify(encodeError(error).body)}\n\n`;
}
