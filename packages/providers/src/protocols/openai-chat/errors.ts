/** OpenAI error bodies <-> ErrorInfo (shared by both OpenAI protocols). */
import type { ErrorInfo, ErrorKind, JsonObject } from "@bitrouter/core";
import { BitrouterError, STATUS_BY_KIND } from "@bitrouter/core";
import { describeUnknownErrorBody, isRecord, kindFromStatus, redactSecrets } from "../util.js";

/** @internal A malformed upstream answer. */
export function upstreamMalformed(message: string): BitrouterError {
  return new BitrouterError({ kind: "upstream", message: `upstream sent a malformed response: ${message}` });
}
// ── errors ────────────────────────────────────────────────────────────────────────────────────

/** OpenAI's error `type` string for each kind (both OpenAI codecs use the same table). */
export const OPENAI_ERROR_TYPE: Record<ErrorKind, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  payload_too_large: "invalid_request_error",
  rate_limit: "rate_limit_error",
  payment_required: "insufficient_quota",
  guardrail: "invalid_request_error",
  upstream: "server_error",
  timeout: "timeout_error",
  overloaded: "server_error",
  cancelled: "invalid_request_error",
  internal: "server_error",
};

/** Codes filled in when an error carries none, so clients can tell apart kinds sharing a type. */
const DEFAULT_CODE: Partial<Record<ErrorKind, string>> = {
  authentication: "invalid_api_key",
  payload_too_large: "request_too_large",
  rate_limit: "rate_limit_exceeded",
  payment_required: "insufficient_quota",
  guardrail: "content_policy_violation",
  overloaded: "overloaded",
  upstream: "upstream_error",
  timeout: "timeout",
  cancelled: "client_closed",
};

const KIND_BY_TYPE: Record<string, ErrorKind> = {
  invalid_request_error: "invalid_request",
  authentication_error: "authentication",
  permission_error: "permission",
  not_found_error: "not_found",
  rate_limit_error: "rate_limit",
  requests: "rate_limit",
  tokens: "rate_limit",
  insufficient_quota: "payment_required",
  server_error: "upstream",
  api_error: "upstream",
  timeout_error: "timeout",
  overloaded_error: "overloaded",
  // codes, for in-stream errors whose type says nothing (Responses `error` events)
  rate_limit_exceeded: "rate_limit",
  invalid_api_key: "authentication",
  model_not_found: "not_found",
  context_length_exceeded: "invalid_request",
  invalid_prompt: "invalid_request",
};

const kindByName = (name: string | undefined): ErrorKind | undefined =>
  name !== undefined && Object.hasOwn(KIND_BY_TYPE, name) ? KIND_BY_TYPE[name] : undefined;

/** @internal The `{message, type, param, code}` object of an OpenAI error body. */
export function openaiErrorObject(error: ErrorInfo): JsonObject {
  const code = error.code ?? DEFAULT_CODE[error.kind] ?? null;
  return { message: error.message, type: OPENAI_ERROR_TYPE[error.kind], param: error.param ?? null, code };
}

/** @internal OpenAI's error body and status for an error. */
export function encodeOpenAIError(error: ErrorInfo): { status: number; body: JsonObject } {
  return { status: error.status, body: { error: openaiErrorObject(error) } };
}

/**
 * @internal An OpenAI-shaped error answer (`{error: {message, type, param, code}}`) or anything else.
 * `status` 0 (or a success status) means "inside a stream": the kind then comes from the type string.
 */
export function decodeOpenAIError(status: number, body: unknown): ErrorInfo {
  const err = !isRecord(body)
    ? undefined
    : isRecord(body.error)
      ? body.error
      : typeof body.error === "string"
        ? { message: body.error } // some compatible servers send a bare string
        : typeof body.message === "string"
          ? body
          : undefined;
  if (!err) {
    const kind = status >= 400 ? kindFromStatus(status) : "upstream";
    return { kind, message: redactSecrets(describeUnknownErrorBody(status, body)), status: STATUS_BY_KIND[kind] };
  }
  const type = typeof err.type === "string" ? err.type : undefined;
  const code = typeof err.code === "string" ? err.code : undefined;
  const kind: ErrorKind = status >= 400 ? kindFromStatus(status) : (kindByName(type) ?? kindByName(code) ?? "upstream");
  const text = typeof err.message === "string" && err.message ? err.message : `upstream error (HTTP ${status})`;
  const info: ErrorInfo = { kind, message: redactSecrets(text), status: STATUS_BY_KIND[kind] };
  if (typeof err.param === "string") info.param = err.param;
  if (typeof err.code === "string" || typeof err.code === "number") info.code = String(err.code);
  return info;
}

/** A standalone error chunk of a Chat Completions stream (data-only SSE). */
export function encodeChatStreamError(error: ErrorInfo): string {
  return `data: ${JSON.stringify(encodeOpenAIError(error).body)}\n\n`;
}
