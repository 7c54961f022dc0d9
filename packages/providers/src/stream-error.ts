import type { ErrorInfo } from "@bitrouter/core";
import type { Codec } from "./codec.js";
import { PROTOCOL_DESCRIPTORS } from "./protocols/index.js";

/**
 * A standalone SSE error event in a codec's protocol, for streams BitRouter did not encode itself
 * (see ProtocolDescriptor.encodeStreamError).
 */
export function encodeStreamError(codec: Codec, error: ErrorInfo): string {
  return PROTOCOL_DESCRIPTORS[codec.protocol].encodeStreamError(error);
}
