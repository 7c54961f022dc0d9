/** Error kinds this package raises; the same names and statuses as ErrorKind in @bitrouter/core. */
export type AuthErrorKind = "authentication" | "permission" | "rate_limit" | "invalid_request" | "not_found" | "overloaded";

const STATUS: Record<AuthErrorKind, number> = {
  authentication: 401,
  permission: 403,
  rate_limit: 429,
  invalid_request: 400,
  not_found: 404,
  /** The store a check needs (spend, revocations) is unreachable: try again, nothing is wrong with the key. */
  overloaded: 503,
};

/**
 * The typed error of @bitrouter/auth. It has the `kind` / `status` / `message` / `code` shape every
 * BitRouter error has, so the server maps it to each protocol's error body without knowing it.
 * `code` names the rule that failed (e.g. `token_expired`). Messages never contain a token, a seed,
 * a private key or a passphrase.
 */
export class AuthError extends Error {
  readonly kind: AuthErrorKind;
  readonly status: number;
  readonly code: string;
  readonly param?: string;

  constructor(kind: AuthErrorKind, code: string, message: string, param?: string) {
    super(message);
    this.name = "AuthError";
    this.kind = kind;
    this.status = STATUS[kind];
    this.code = code;
    if (param !== undefined) this.param = param;
  }
}

/** 401: the credential is missing, malformed, forged, expired, untrusted or revoked. */
export function unauthenticated(code: string, message: string): AuthError {
  return new AuthError("authentication", code, message);
}

/** 400 for bad input to a library/CLI function (flag values, keystore choices). */
export function invalidInput(code: string, message: string, param?: string): AuthError {
  return new AuthError("invalid_request", code, message, param);
}
