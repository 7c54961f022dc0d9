// Cost in integer micro-USD, for the completion record of every request (metering) and for payment
// quotes. Prices are USD per million tokens, so micro-USD = tokens x price
// exactly. Prices are scaled to integers (12 decimal places) and summed as BigInt, then rounded
// half up once: no float accumulation.
import type { Usage } from "@bitrouter/core";
import type { Pricing } from "@bitrouter/config";

const SCALE_DIGITS = 12;
const SCALE = 10n ** BigInt(SCALE_DIGITS);

/** A price (a JS number from YAML) as an exact integer count of 10^-12 USD per million tokens. */
function scaledPrice(price: number | undefined): bigint {
  if (price === undefined || !Number.isFinite(price) || price <= 0) return 0n;
  // The shortest decimal that round-trips is what the user wrote (0.028, 1.25, 3e-7).
  const [mantissa = "0", exponent = "0"] = price.toString().toLowerCase().split("e");
  const [whole = "0", fraction = ""] = mantissa.split(".");
  const digits = BigInt(whole + fraction);
  const shift = SCALE_DIGITS - (fraction.length - Number(exponent));
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  return (digits + divisor / 2n) / divisor;
}

/** Token counts from upstreams: non-negative integers (anything else counts as 0). */
function tokens(value: number | undefined): bigint {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return 0n;
  return BigInt(Math.trunc(value));
}

/**
 * Cost of one request in micro-USD, rounded half up. Non-cached input = input - cache_read -
 * cache_write at `no_cache`; cache prices fall back to `no_cache`. Text output = output -
 * reasoning at `text`; reasoning at `reasoning`, else `text`.
 */
export function costMicroUsd(pricing: Pricing | undefined, usage: Usage): number {
  const input = pricing?.input_tokens;
  const output = pricing?.output_tokens;
  const noCache = scaledPrice(input?.no_cache);
  const text = scaledPrice(output?.text);

  const cacheRead = tokens(usage.cacheReadTokens);
  const cacheWrite = tokens(usage.cacheWriteTokens);
  const uncached = tokens(usage.inputTokens) - cacheRead - cacheWrite;
  const reasoning = tokens(usage.reasoningTokens);
  const plainOutput = tokens(usage.outputTokens) - reasoning;

  const total =
    (uncached > 0n ? uncached : 0n) * noCache +
    cacheRead * (input?.cache_read === undefined ? noCache : scaledPrice(input.cache_read)) +
    cacheWrite * (input?.cache_write === undefined ? noCache : scaledPrice(input.cache_write)) +
    (plainOutput > 0n ? plainOutput : 0n) * text +
    reasoning * (output?.reasoning === undefined ? text : scaledPrice(output.reasoning));

  return Number((total + SCALE / 2n) / SCALE);
}
