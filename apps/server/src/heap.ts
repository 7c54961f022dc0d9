import { setFlagsFromString } from "node:v8";

let tuned = false;

/**
 * Turns off V8's allocation-site pretenuring for the serving process. V8 learns per allocation
 * site whether its objects survive young-generation collections and, once most do, allocates that
 * site's objects straight in the old generation. A server's requests and its long streams share
 * their sites (the request's controller, lifecycle, headers): after a spell of long-lived streams
 * every later short request was allocated old, and died there. Measured (docs/performance.md,
 * Round 7): after 1,000 idle streams, saturation promoted 221 MB instead of 65 and ran at 5,127
 * instead of 6,518 req/s, with a peak of 256 MB instead of 208; a fresh process is unchanged. Set
 * once, before the first request; V8 reads the flag at each collection.
 */
export function tuneHeapForServing(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString("--no-allocation-site-pretenuring");
}
