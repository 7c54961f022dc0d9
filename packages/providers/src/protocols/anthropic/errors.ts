/** Anthropic error bodies (`{type: "error", error: {type, message}}`) <-> ErrorInfo. */
import type { ErrorInfo, ErrorKind, JsonObject } from "@bitrouter/core";
import { STATUS_BY_KIND } from "@bitrouter/core";
import { describeUnknownErrorBody, isRecord, kindFromStatus, redactSecrets } from "../util.js";

// ── Errors ────────────────────────────────────────────────────────────────────────────────────

const ERROR_TYPE_BY_KIND: Record<ErrorKind, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  payment_required: "billing_error",
  permission: "permission_error",
  not_found: "not_found_error",
  payload_too_large: "request_too_large",
  rate_limit: "rate_limit_error",
  guardrail: "invalid_request_error",
  upstream: "api_error",
  timeout: "timeout_error",
  overloaded: "overloaded_error",
  cancelled: "invalid_request_error",
  internal: "api_error",
};

export const KIND_BY_ERROR_TYPE: Record<string, ErrorKind> = {
  invalid_request_error: "invalid_request",
  authentication_error: "authentication",
  billing_error: "payment_required",
  permission_error: "permission",
  not_found_error: "not_found",
  request_too_large: "payload_too_large",
  rate_limit_error: "rate_limit",
  api_error: "upstream",
  timeout_error: "timeout",
  overloaded_error: "overloaded",
};

export function errorBody(error: ErrorInfo): { type: string; status: number } {
  // Anthropic answers overload with its own 529; a guardrail block on 403 reads as a permission error.
  if (error.kind === "overloaded") return { type: "overloaded_error", status: 529 };
  if (error.kind === "guardrail" && error.status === 403) return { type: "permission_error", status: 403 };
  return { type: ERROR_TYPE_BY_KIND[error.kind], status: error.status };
}

export function encodeError(error: ErrorInfo): { status: number; body: JsonObject } {
  const { type, status } = errorBody(error);
  return { status, body: { type: "error", error: { type, message: error.message } } };
}

export function decodeError(status: number, body: unknown): ErrorInfo {
  const err = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const type = typeof err?.type === "string" ? err.type : undefined;
  const kind = (type && KIND_BY_ERROR_TYPE[type]) || kindFromStatus(status);
  const message = redactSecrets(typeof err?.message === "string" ? err.message : describeUnknownErrorBody(status, body));
  return { kind, message, status: kind === "overloaded" ? 503 : STATUS_BY_KIND[kind] };
}

/** A standalone `error` event of a Messages stream. */
export function encodeStreamError(error: ErrorInfo): string {
  return `event: error\ndata: ${JSON.stringify(encodeError(error).body)}\n\n`;
}
