/** What went wrong: a bad URL or option, a connection that failed, or a migration that failed. */
export type StoreErrorKind = "config" | "connect" | "migrate";

/** The one error class of @bitrouter/store. Messages name the host and port, never a password. */
export class StoreError extends Error {
  readonly kind: StoreErrorKind;
  constructor(kind: StoreErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
    this.kind = kind;
  }
}
