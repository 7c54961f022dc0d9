import type { ErrorInfo } from "@bitrouter/core";
import type { ProviderClient } from "@bitrouter/providers";
import { toErrorInfo } from "@bitrouter/core";
import { isRetryableStatus } from "@bitrouter/providers";

/** The outbound client the router uses (see @bitrouter/providers' client). */
export type UpstreamClient = ProviderClient;

/**
 * Whether a failed attempt may move on to the next endpoint: connection failures, timeouts,
 * 408/409/429 and 5xx. Never other 4xx (the request itself is wrong, another endpoint won't help),
 * never our own internal errors, never a guardrail block, never a caller that went away.
 */
export function isRetryable(error: unknown): boolean {
  if (error && typeof error === "object" && "retryable" in error && typeof (error as { retryable: unknown }).retryable === "boolean") {
    return (error as { retryable: boolean }).retryable;
  }
  const info: ErrorInfo = toErrorInfo(error);
  if (info.kind === "internal" || info.kind === "guardrail" || info.code === "client_closed" || info.code === "aborted") return false;
  if (info.kind === "timeout" || info.kind === "overloaded" || info.kind === "rate_limit") return true;
  return isRetryableStatus(info.status);
}
