import type { ErrorInfo } from "@bitrouter/core";
import type { Codec } from "./codec.js";

/**
 * A standalone SSE error event in a codec's protocol, for streams BitRouter did not encode itself
 * (the same-protocol fast path pipes upstream bytes, then must still end a failed stream with the
 * protocol's own error event rather than a clean close that looks like success).
 */
export function encodeStreamError(codec: Codec, error: ErrorInfo): string {
  const { body } = codec.encodeError(error);
  switch (codec.protocol) {
    case "anthropic":
      return `event: error\ndata: ${JSON.stringify(body)}\n\n`;
    case "openai-responses": {
      const inner = (body as { error?: { code?: unknown; message?: unknown; param?: unknown } }).error ?? {};
      const event = { type: "error", code: inner.code ?? null, message: inner.message ?? error.message, param: inner.param ?? null };
      return `event: error\ndata: ${JSON.stringify(event)}\n\n`;
    }
    case "openai-chat":
    case "google":
      return `data: ${JSON.stringify(body)}\n\n`;
  }
}
