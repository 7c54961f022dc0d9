/**
 * Fitting a request to the target model's catalog limits, so the provider does not reject what the
 * caller could not know the route would pick: an output limit above the model's `max_output_tokens`
 * is lowered to it, a thinking budget above `max_reasoning_tokens` too, and reasoning parameters
 * sent to a model marked `reasoning: false` are dropped. Each change is described in words (the
 * server logs them at debug level). The same rules for the translated path (canonical request) and
 * the fast path (the wire body), so both send the same thing.
 */
import type { CanonicalRequest, Protocol } from "@bitrouter/core";
import type { RouteTarget } from "./table.js";

type Limits = Pick<RouteTarget, "modelId" | "maxOutputTokens" | "maxReasoningTokens" | "reasoning">;

export interface Fitted<T> {
  value: T;
  /** What was changed, e.g. `max_tokens 64000 -> 16384 (gpt-4o's max_output_tokens)`. Empty: nothing. */
  changes: string[];
}

const lowered = (field: string, from: number, to: number, why: string) => `${field} ${from} -> ${to} (${why})`;

export function fitRequest(request: CanonicalRequest, target: Limits): Fitted<CanonicalRequest> {
  const changes: string[] = [];
  let out = request;
  const max = target.maxOutputTokens;
  if (max !== undefined && out.maxTokens !== undefined && out.maxTokens > max) {
    changes.push(lowered("max tokens", out.maxTokens, max, `${target.modelId}'s max_output_tokens`));
    out = { ...out, maxTokens: max };
  }
  if (out.reasoning && target.reasoning === false) {
    changes.push(`reasoning dropped (${target.modelId} is not a reasoning model)`);
    const { reasoning: _dropped, ...rest } = out;
    out = rest;
  }
  const budget = out.reasoning?.budgetTokens;
  if (budget !== undefined && target.maxReasoningTokens !== undefined && budget > target.maxReasoningTokens) {
    changes.push(lowered("thinking budget", budget, target.maxReasoningTokens, `${target.modelId}'s max_reasoning_tokens`));
    out = { ...out, reasoning: { ...out.reasoning, budgetTokens: target.maxReasoningTokens } };
  }
  return { value: out, changes };
}

type Body = Record<string, unknown>;
const isObject = (v: unknown): v is Body => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The top-level fields of a wire body that fitBody reads and may change. The fast path checks only
 * these (parsed alone) and forwards the caller's bytes unless one of them needs fitting.
 */
export const BODY_LIMIT_FIELDS: Readonly<Record<Protocol, readonly string[]>> = {
  "openai-chat": ["max_tokens", "max_completion_tokens", "reasoning_effort"],
  "openai-responses": ["max_output_tokens", "reasoning"],
  anthropic: ["max_tokens", "thinking"],
  google: ["generationConfig"],
};

/** The fast path's version of fitRequest, on the wire body of `protocol` (changed in place; reads only BODY_LIMIT_FIELDS). */
export function fitBody(protocol: Protocol, body: Body, target: Limits): string[] {
  const changes: string[] = [];
  const clamp = (holder: Body, field: string, limit: number | undefined, why: string) => {
    const value = holder[field];
    if (limit !== undefined && typeof value === "number" && value > limit) {
      changes.push(lowered(field, value, limit, `${target.modelId}'s ${why}`));
      holder[field] = limit;
    }
  };
  const drop = (holder: Body, field: string) => {
    if (holder[field] === undefined) return;
    changes.push(`${field} dropped (${target.modelId} is not a reasoning model)`);
    delete holder[field];
  };
  const noReasoning = target.reasoning === false;
  switch (protocol) {
    case "openai-chat":
      clamp(body, "max_tokens", target.maxOutputTokens, "max_output_tokens");
      clamp(body, "max_completion_tokens", target.maxOutputTokens, "max_output_tokens");
      if (noReasoning) drop(body, "reasoning_effort");
      break;
    case "openai-responses":
      clamp(body, "max_output_tokens", target.maxOutputTokens, "max_output_tokens");
      if (noReasoning) drop(body, "reasoning");
      break;
    case "anthropic":
      clamp(body, "max_tokens", target.maxOutputTokens, "max_output_tokens");
      if (noReasoning) drop(body, "thinking");
      else if (isObject(body.thinking)) clamp((body.thinking = { ...body.thinking }), "budget_tokens", target.maxReasoningTokens, "max_reasoning_tokens");
      break;
    case "google": {
      if (!isObject(body.generationConfig)) break;
      const config = (body.generationConfig = { ...body.generationConfig });
      clamp(config, "maxOutputTokens", target.maxOutputTokens, "max_output_tokens");
      if (noReasoning) drop(config, "thinkingConfig");
      else if (isObject(config.thinkingConfig))
        clamp((config.thinkingConfig = { ...config.thinkingConfig }), "thinkingBudget", target.maxReasoningTokens, "max_reasoning_tokens");
      break;
    }
  }
  return changes;
}
