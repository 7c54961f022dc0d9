/**
 * Fitting a request to the target model's catalog limits, so the provider does not reject what the
 * caller could not know the route would pick: an output limit above the model's `max_output_tokens`
 * is lowered to it, a thinking budget above `max_reasoning_tokens` too, and reasoning parameters
 * sent to a model marked `reasoning: false` are dropped. Each change is described in words (the
 * server logs them at debug level). The same rules for the translated path (canonical request) and
 * the fast path (the wire body), so both send the same thing.
 */
import type { CanonicalRequest, Protocol } from "@bitrouter/core";
import type { FieldPath } from "@bitrouter/providers";
import { PROTOCOL_DESCRIPTORS } from "@bitrouter/providers";
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

/** bodyLimitFields, made once per protocol: the fast path asks on every request. */
const LIMIT_FIELDS = new Map<Protocol, readonly string[]>();

/**
 * The top-level fields of a wire body that fitBody reads and may change (each protocol's
 * `limitFields`). The fast path checks only these (parsed alone) and forwards the caller's bytes
 * unless one of them needs fitting.
 */
export function bodyLimitFields(protocol: Protocol): readonly string[] {
  let fields = LIMIT_FIELDS.get(protocol);
  if (fields === undefined) {
    const { outputTokens, reasoning, thinkingBudget } = PROTOCOL_DESCRIPTORS[protocol].limitFields;
    fields = [...new Set([...outputTokens, reasoning, ...(thinkingBudget ? [thinkingBudget] : [])].map((path) => path[0]))];
    LIMIT_FIELDS.set(protocol, fields);
  }
  return fields;
}

/**
 * The object holding the field at `path` and the field's key, or undefined when an object on the way
 * is missing. Each object on the way is replaced by a shallow copy: the body's nested objects may be
 * shared with the parsed request a later attempt reuses.
 */
function fieldAt(body: Body, path: FieldPath): { holder: Body; key: string } | undefined {
  const [first, ...rest] = path;
  let holder = body;
  let key = first;
  for (const next of rest) {
    const inner = holder[key];
    if (!isObject(inner)) return undefined;
    holder = holder[key] = { ...inner };
    key = next;
  }
  return { holder, key };
}

/** Whether the target model has any limit fitBody and fitRequest apply (a route with no catalog entry has none). */
export function hasLimits(target: Limits): boolean {
  return target.maxOutputTokens !== undefined || target.maxReasoningTokens !== undefined || target.reasoning === false;
}

/** The fast path's version of fitRequest, on the wire body of `protocol` (changed in place; reads only bodyLimitFields). */
export function fitBody(protocol: Protocol, body: Body, target: Limits): string[] {
  const changes: string[] = [];
  const clamp = (path: FieldPath | undefined, limit: number | undefined, why: string) => {
    const at = path && fieldAt(body, path);
    const value = at?.holder[at.key];
    if (!at || limit === undefined || typeof value !== "number" || value <= limit) return;
    changes.push(lowered(at.key, value, limit, `${target.modelId}'s ${why}`));
    at.holder[at.key] = limit;
  };
  const { outputTokens, reasoning, thinkingBudget } = PROTOCOL_DESCRIPTORS[protocol].limitFields;
  for (const path of outputTokens) clamp(path, target.maxOutputTokens, "max_output_tokens");
  if (target.reasoning === false) {
    const at = fieldAt(body, reasoning);
    if (at && at.holder[at.key] !== undefined) {
      changes.push(`${at.key} dropped (${target.modelId} is not a reasoning model)`);
      delete at.holder[at.key];
    }
  } else clamp(thinkingBudget, target.maxReasoningTokens, "max_reasoning_tokens");
  return changes;
}
