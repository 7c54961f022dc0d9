import type { Protocol } from "@bitrouter/core";

/**
 * Stream sniffing without decoding: whether a chunk of upstream SSE bytes may hold an event that
 * metering reads (usage, the finish, an error; see carriesOutcome in pipeline.ts). False only when
 * none can be in it, so a chunk of whole content events can go to the client as it came, without
 * text decoding, SSE parsing or re-framing. Searches bytes, so it allocates nothing.
 */
export function mayCarryOutcome(protocol: Protocol, chunk: Buffer): boolean {
  if (chunk.includes(ERROR)) return true;
  switch (protocol) {
    case "openai-chat":
      // Every chunk has `"finish_reason":null` until the last, whose reason is a string; with
      // include_usage, every chunk has `"usage":null` until the usage chunk.
      return hasNonNull(chunk, USAGE) || hasNonNull(chunk, FINISH_REASON);
    case "openai-responses":
      return RESPONSES_OUTCOMES.some((needle) => chunk.includes(needle));
    case "anthropic":
      return ANTHROPIC_OUTCOMES.some((needle) => chunk.includes(needle));
    case "google":
      return chunk.includes(USAGE_METADATA) || chunk.includes(FINISH_REASON_GOOGLE);
  }
}

// Needles as bytes, made once: a string needle is encoded again on every search.
const ERROR = Buffer.from("error");
const USAGE = Buffer.from('"usage"');
const FINISH_REASON = Buffer.from('"finish_reason"');
const RESPONSES_OUTCOMES = ["response.created", "response.completed", "response.incomplete", "response.failed"].map((s) => Buffer.from(s));
const ANTHROPIC_OUTCOMES = ["message_start", "message_delta", "message_stop"].map((s) => Buffer.from(s));
const USAGE_METADATA = Buffer.from("usageMetadata");
const FINISH_REASON_GOOGLE = Buffer.from("finishReason");

/** Whether a chunk ends an SSE event (a blank line), so a parser fed up to here holds nothing. */
export function endsEvent(chunk: Buffer): boolean {
  const n = chunk.length;
  return n >= 2 && chunk[n - 1] === 0x0a && (chunk[n - 2] === 0x0a || (n >= 3 && chunk[n - 2] === 0x0d && chunk[n - 3] === 0x0a));
}

/** Whether some `field` (a quoted key) in the chunk is anything but `:null` right after it. */
function hasNonNull(chunk: Buffer, field: Buffer): boolean {
  for (let at = chunk.indexOf(field); at !== -1; at = chunk.indexOf(field, at + field.length)) {
    const value = at + field.length;
    if (chunk[value] !== 0x3a || chunk[value + 1] !== 0x6e) return true; // not `:n(ull)`
  }
  return false;
}
