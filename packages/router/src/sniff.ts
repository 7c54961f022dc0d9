import type { Protocol } from "@bitrouter/providers";

/**
 * Stream sniffing without decoding: whether a chunk of upstream SSE bytes may hold an event that
 * metering reads (usage, the finish, an error; see carriesOutcome in pipeline.ts). False only when
 * none can be in it, so a chunk of whole content events can go to the client as it came, without
 * text decoding, SSE parsing or re-framing. Searches bytes, so it allocates nothing.
 */
export function mayCarryOutcome(protocol: Protocol, chunk: Buffer): boolean {
  if (chunk.includes("error")) return true;
  switch (protocol) {
    case "openai-chat":
      // Every chunk has `"finish_reason":null` until the last, whose reason is a string.
      return chunk.includes('"usage"') || count(chunk, '"finish_reason"') !== count(chunk, '"finish_reason":null');
    case "openai-responses":
      return chunk.includes("response.created") || chunk.includes("response.completed") || chunk.includes("response.incomplete") || chunk.includes("response.failed");
    case "anthropic":
      return chunk.includes("message_start") || chunk.includes("message_delta") || chunk.includes("message_stop");
    case "google":
      return chunk.includes("usageMetadata") || chunk.includes("finishReason");
  }
}

/** Whether a chunk ends an SSE event (a blank line), so a parser fed up to here holds nothing. */
export function endsEvent(chunk: Buffer): boolean {
  const n = chunk.length;
  return n >= 2 && chunk[n - 1] === 0x0a && (chunk[n - 2] === 0x0a || (n >= 3 && chunk[n - 2] === 0x0d && chunk[n - 3] === 0x0a));
}

function count(haystack: Buffer, needle: string): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) n += 1;
  return n;
}
