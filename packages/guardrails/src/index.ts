export { createGuardrails } from "./guardrails.js";
export type { Guardrails, GuardrailContext, GuardrailLogger, GuardrailViolation, GuardrailsOptions, StreamGuard } from "./guardrails.js";
export { guardrailsHook, type GuardrailsHook } from "./hook.js";
export { createToolGuard } from "./tools.js";
export type { ToolCallVerdict, ToolGuard, ToolLike } from "./tools.js";
export { resolveGuardrailsConfig } from "./config.js";
export type {
  ActiveRule,
  BlockMessageConfig,
  CustomPatternConfig,
  GuardrailsConfig,
  ParamRestriction,
  ResolvedGuardrails,
  ToolGuardrailsConfig,
  ToolProviderRules,
} from "./config.js";
export { BUILTIN_PATTERNS, BUILTIN_PATTERN_NAMES } from "./patterns.js";
export type { BuiltinPattern, BuiltinPatternName, Direction, GuardrailAction } from "./patterns.js";
export { GUARDRAILS_DOCS_URL, GuardrailConfigError, GuardrailError } from "./errors.js";
