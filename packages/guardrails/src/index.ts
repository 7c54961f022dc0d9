export { createGuardrails } from "./guardrails.js";
export type { Guardrails, GuardrailContext, GuardrailLogger, GuardrailViolation, GuardrailsOptions, StreamGuard } from "./guardrails.js";
export { guardrailsHook, type GuardrailsHook } from "./hook.js";
export { createToolGuard } from "./tools.js";
export type { ToolCallVerdict, ToolGuard, ToolLike } from "./tools.js";
export { resolveGuardrailsConfig } from "./config.js";
export type { ActiveRule, ResolvedGuardrails, ResolvedToolRules } from "./config.js";
// The config section's shape is a shared contract (@bitrouter/config checks it too): defined in core.
export type {
  BlockMessageConfig,
  CustomPatternConfig,
  GuardrailAction,
  GuardrailDirection as Direction,
  GuardrailsConfig,
  ParamRestriction,
  ToolGuardrailsConfig,
  ToolProviderRules,
} from "@bitrouter/core";
export { BUILTIN_PATTERNS, BUILTIN_PATTERN_NAMES } from "./patterns.js";
export type { BuiltinPattern, BuiltinPatternName } from "./patterns.js";
export { GUARDRAILS_DOCS_URL, GuardrailConfigError, GuardrailError } from "./errors.js";
