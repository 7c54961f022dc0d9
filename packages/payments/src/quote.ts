import type { ModelInfo } from "@bitrouter/config";
import { costMicroUsd } from "@bitrouter/router";
import type { CanonicalRequest } from "@bitrouter/core";
import { BitrouterError, invalidRequest } from "@bitrouter/core";

/** Catalog prices are USD; micro-USD has 6 decimals. */
const MICRO_USD_DECIMALS = 6;

/**
 * The most a request can cost, in micro-USD (each network converts it, see microUsdToUnits): every byte of its
 * prompt counted as an input token (a token covers at least one byte, so this is an upper bound) and
 * its `max_tokens` (else the model's catalog limit) as output tokens, at the model's catalog prices.
 * A one-time charge must name its amount before the answer exists, so it charges this ceiling.
 */
export function quoteCeiling(request: CanonicalRequest, model: ModelInfo | undefined, modelName: string): bigint {
  const pricing = model?.pricing;
  const hasPrice = (pricing?.input_tokens?.no_cache ?? 0) > 0 || (pricing?.output_tokens?.text ?? 0) > 0;
  if (!pricing || !hasPrice) {
    throw new BitrouterError({
      kind: "permission",
      message: `model '${modelName}' has no pricing in the catalog, so it cannot be paid for; ask the operator to price it`,
    });
  }
  const maxOutput = request.maxTokens ?? model?.max_output_tokens;
  if (maxOutput === undefined) throw invalidRequest("a paid request must set max_tokens (the charge is its most possible cost)", "max_tokens");
  const prompt = JSON.stringify([request.system ?? [], request.messages, request.tools ?? []]);
  return BigInt(costMicroUsd(pricing, { inputTokens: Buffer.byteLength(prompt), outputTokens: maxOutput }));
}

/**
 * Micro-USD as base units of a USD token with `decimals` (1 token = 1 USD): 6 decimals is one unit
 * per micro-USD, 18 multiplies by 10^12, fewer than 6 rounds up; never zero (a charge moves money).
 */
export function microUsdToUnits(micro: bigint, decimals: number): bigint {
  const units =
    decimals >= MICRO_USD_DECIMALS ? micro * 10n ** BigInt(decimals - MICRO_USD_DECIMALS) : ceilDiv(micro, 10n ** BigInt(MICRO_USD_DECIMALS - decimals));
  return units > 0n ? units : 1n;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
