import type { Protocol } from "@bitrouter/core";
import { PROTOCOL_DESCRIPTORS } from "@bitrouter/providers";

/**
 * Stream sniffing without decoding, on the same-protocol fast path. Which events carry what metering
 * reads (usage, the finish, an error) is each protocol's fact (ProtocolDescriptor.carriesOutcome and
 * mayCarryOutcome in @bitrouter/providers); these add what holds for every protocol.
 */

/** Whether a piped upstream event says something metering needs: only those are decoded on the side. */
export function carriesOutcome(protocol: Protocol, event: string | undefined, data: string): boolean {
  return PROTOCOL_DESCRIPTORS[protocol].carriesOutcome(event, data);
}

/**
 * Whether a chunk of upstream SSE bytes may hold an event that metering reads. False only when none
 * can be in it, so a chunk of whole content events can go to the client as it came, without text
 * decoding, SSE parsing or re-framing. Regexes over the chunk's latin1 text (see ProtocolDescriptor).
 */
export function mayCarryOutcome(protocol: Protocol, chunk: Buffer): boolean {
  const text = chunk.toString("latin1");
  return text.includes("error") || PROTOCOL_DESCRIPTORS[protocol].mayCarryOutcome(text);
}

/** Whether a chunk ends an SSE event (a blank line), so a parser fed up to here holds nothing. */
export function endsEvent(chunk: Buffer): boolean {
  const n = chunk.length;
  return n >= 2 && chunk[n - 1] === 0x0a && (chunk[n - 2] === 0x0a || (n >= 3 && chunk[n - 2] === 0x0d && chunk[n - 3] === 0x0a));
}
