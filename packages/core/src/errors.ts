import type { ErrorInfo, ErrorKind } from "./canonical.js";

/** The HTTP status each error kind answers with unless a more precise one is known. */
export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid_request: 400,
  authentication: 401,
  payment_required: 402,
  permission: 403,
  not_found: 404,
  payload_too_large: 413,
  rate_limit: 429,
  guardrail: 400,
  internal: 500,
  upstream: 502,
  overloaded: 503,
  timeout: 504,
  cancelled: 499,
};

/**
 * BitRouter's base error (ProviderError and GuardrailError extend it). Errors that do not extend it
 * (AuthError) follow its shape: anything with `kind`, `status` and `message` maps to a protocol's
 * error body the same way.
 */
export class BitrouterError extends Error implements ErrorInfo {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly param?: string;
  readonly code?: string;
  /** When the caller may try again (an upstream's `Retry-After`), passed on to the caller. */
  readonly retryAfterMs?: number;

  constructor(info: { kind: ErrorKind; message: string; status?: number; param?: string; code?: string; retryAfterMs?: number; cause?: unknown }) {
    super(info.message, info.cause === undefined ? undefined : { cause: info.cause });
    this.name = "BitrouterError";
    this.kind = info.kind;
    this.status = info.status ?? STATUS_BY_KIND[info.kind];
    if (info.param !== undefined) this.param = info.param;
    if (info.code !== undefined) this.code = info.code;
    if (info.retryAfterMs !== undefined) this.retryAfterMs = info.retryAfterMs;
  }

  toInfo(): ErrorInfo {
    const info: ErrorInfo = { kind: this.kind, message: this.message, status: this.status };
    if (this.param !== undefined) info.param = this.param;
    if (this.code !== undefined) info.code = this.code;
    return info;
  }
}

/** Shorthand for the most common error: the caller's request is malformed. */
export function invalidRequest(message: string, param?: string): BitrouterError {
  return new BitrouterError({ kind: "invalid_request", message, ...(param === undefined ? {} : { param }) });
}

const KINDS = new Set<string>(Object.keys(STATUS_BY_KIND));

/** Normalises anything thrown into an ErrorInfo; unknown errors become `internal` without leaking details. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof BitrouterError) return error.toInfo();
  if (error && typeof error === "object") {
    const e = error as Partial<ErrorInfo>;
    if (typeof e.kind === "string" && KINDS.has(e.kind) && typeof e.message === "string") {
      const info: ErrorInfo = { kind: e.kind, message: e.message, status: typeof e.status === "number" ? e.status : STATUS_BY_KIND[e.kind] };
      if (typeof e.param === "string") info.param = e.param;
      if (typeof e.code === "string") info.code = e.code;
      return info;
    }
  }
  return { kind: "internal", message: "internal error", status: 500 };
}
