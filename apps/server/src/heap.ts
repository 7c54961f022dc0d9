import { setFlagsFromString } from "node:v8";

let tuned = false;

/**
 * Node flags the serving process is meant to be started with: the few heap policies V8 reads only
 * when the heap is made, so `tuneHeapForServing` cannot set them. The daemon and the repository's
 * `pnpm bitrouter` script pass them; a host that embeds the server passes them on its own command line.
 *
 * - No memory reducer. Some 40-60 s into an idle spell, V8's memory reducer runs full collections
 *   that compact the heap and shrink the young generation, and the next burst pays for it: at
 *   1,000 req/s after 45 s idle spells, five seconds of traffic cost the layered server (auth,
 *   guardrails, metering) 1.47x the plain one's CPU per request; without the reducer, 1.01x; with no
 *   idle spells, 1.19x (docs/performance.md, Round 21). The cost: an idle server keeps its old
 *   generation's garbage, which its peak already bounds.
 */
export const SERVING_NODE_FLAGS: readonly string[] = ["--no-memory-reducer"];

/**
 * V8's heap policy for the serving process, set once before the first request (V8 reads both flags
 * at each collection):
 *
 * - No allocation-site pretenuring. V8 learns per allocation site whether its objects survive
 *   young-generation collections and, once most do, allocates that site's objects straight in the
 *   old generation. A server's requests and its long streams share their sites (the request's
 *   controller, lifecycle, headers): after a spell of long-lived streams every later short request
 *   was allocated old, and died there. Measured (docs/performance.md, Round 7): after 1,000 idle
 *   streams, saturation promoted 221 MB instead of 65 and ran at 5,127 instead of 6,518 req/s,
 *   with a peak of 256 MB instead of 208; a fresh process is unchanged.
 * - The old generation may grow to 1.5x its live size before a full collection, not V8's default
 *   of up to 4x when collections are fast. A proxy's requests in flight at each young collection
 *   are promoted and die soon after, so the old generation is mostly such garbage: at saturation
 *   the process peaked at ~200 MB with a live heap of ~30 MB. With 1.5x: ~135 MB, at the same CPU
 *   per request (the full collections it adds mark only the live heap). Round 8.
 */
export function tuneHeapForServing(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString("--no-allocation-site-pretenuring");
  setFlagsFromString("--heap-growing-percent=50");
}
