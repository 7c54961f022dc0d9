// The `guardrails:` section of bitrouter.yaml. @bitrouter/config checks its shape when it loads
// the file (zod, with line:col); @bitrouter/guardrails checks its meaning (pattern names, regexes)
// when it builds the guardrails. Both read this one type. Optional fields also accept undefined:
// a parse result or a spread of optional values may carry it, and it means "not set".

export const GUARDRAIL_ACTIONS = ["warn", "redact", "block"] as const;
/** What happens when a pattern matches: log it, replace the match, or refuse the request/answer. */
export type GuardrailAction = (typeof GUARDRAIL_ACTIONS)[number];

/** `upgoing`: requests, to the provider; `downgoing`: answers, from the model. */
export type GuardrailDirection = "upgoing" | "downgoing";
/** A custom pattern's `direction`: one of the two, or both. */
export const CUSTOM_PATTERN_DIRECTIONS = ["upgoing", "downgoing", "both"] as const;

export const PARAM_RESTRICTION_ACTIONS = ["strip", "block"] as const;

export interface GuardrailsConfig {
  /** Master switch; defaults to true when the section is present. */
  enabled?: boolean | undefined;
  /** Built-in or custom pattern names to turn off. */
  disabled_patterns?: string[] | undefined;
  custom_patterns?: CustomPatternConfig[] | undefined;
  /** Action per built-in pattern on requests (to the provider). */
  upgoing?: Record<string, GuardrailAction> | undefined;
  /** Action per built-in pattern on answers (from the model). */
  downgoing?: Record<string, GuardrailAction> | undefined;
  custom_upgoing?: Record<string, GuardrailAction> | undefined;
  custom_downgoing?: Record<string, GuardrailAction> | undefined;
  block_message?: BlockMessageConfig | undefined;
  tools?: ToolGuardrailsConfig | undefined;
}

export interface CustomPatternConfig {
  name: string;
  /** A JavaScript regular expression (no flags, no numbered backreferences). */
  regex: string;
  /** Default `upgoing`; `both` checks requests and answers. */
  direction?: (typeof CUSTOM_PATTERN_DIRECTIONS)[number] | undefined;
}

export interface BlockMessageConfig {
  /** Name the pattern (or tool) that blocked. Default true. */
  include_details?: boolean | undefined;
  /** Append a link to the guardrails documentation. Default true. */
  include_help_link?: boolean | undefined;
}

export interface ToolGuardrailsConfig {
  /** Defaults to true when the section is present. */
  enabled?: boolean | undefined;
  /** Keyed by provider name (a model provider such as `openai`, or an MCP provider). */
  providers?: Record<string, ToolProviderRules> | undefined;
}

export interface ToolProviderRules {
  filter?: { allow?: string[] | undefined; deny?: string[] | undefined } | undefined;
  param_restrictions?: { rules: Record<string, ParamRestriction> } | undefined;
}

export interface ParamRestriction {
  /** Top-level argument names the tool may not receive. */
  deny: string[];
  /** `strip` (default) removes the parameters; `block` refuses the call. */
  action?: (typeof PARAM_RESTRICTION_ACTIONS)[number] | undefined;
}
