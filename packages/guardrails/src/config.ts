import { closest } from "fastest-levenshtein";
import regjsparser from "regjsparser";
import type { RootNode } from "regjsparser";
import { GuardrailConfigError } from "./errors.js";
import { BUILTIN_PATTERNS, BUILTIN_PATTERN_NAMES } from "./patterns.js";
import { minMatchLength } from "./required.js";
import {
  CUSTOM_PATTERN_DIRECTIONS,
  GUARDRAIL_ACTIONS,
  PARAM_RESTRICTION_ACTIONS,
  type CustomPatternConfig,
  type GuardrailAction,
  type GuardrailDirection as Direction,
  type GuardrailsConfig,
  type ToolGuardrailsConfig,
  type ToolProviderRules,
} from "@bitrouter/core";

// The section's shape (GuardrailsConfig) is defined in @bitrouter/core. @bitrouter/config checks
// that shape when it loads bitrouter.yaml; this file is where its meaning is checked (pattern names,
// regexes, which map a name belongs in). The shape checks here stay for a caller that passes a
// section it parsed itself.

/** One enabled pattern in one direction, with its action. */
export interface ActiveRule {
  readonly name: string;
  readonly source: string;
  readonly action: GuardrailAction;
  readonly custom: boolean;
}

export interface ResolvedGuardrails {
  readonly upgoing: readonly ActiveRule[];
  readonly downgoing: readonly ActiveRule[];
  readonly includeDetails: boolean;
  readonly includeHelpLink: boolean;
  readonly tools: ResolvedToolRules | null;
}

export type ResolvedToolRules = ReadonlyMap<string, ToolProviderRules>;

/** Custom patterns have no built-in default: block, as the user named them for a reason. */
const CUSTOM_DEFAULT_ACTION: GuardrailAction = "block";

/** Validates the section and resolves, per direction, the enabled patterns and their actions. Null when disabled. */
export function resolveGuardrailsConfig(config: GuardrailsConfig | undefined | null): ResolvedGuardrails | null {
  if (!config || config.enabled === false) return null;
  if (typeof config !== "object") throw new GuardrailConfigError("guardrails", "must be a mapping");

  const customs = (config.custom_patterns ?? []).map((p, i) => validateCustom(p, i));
  const customNames = customs.map((c) => c.name);
  const seen = new Set<string>();
  customs.forEach((c, i) => {
    if (seen.has(c.name)) throw new GuardrailConfigError(`guardrails.custom_patterns[${i}].name`, `duplicate custom pattern "${c.name}"`);
    if ((BUILTIN_PATTERN_NAMES as readonly string[]).includes(c.name)) {
      throw new GuardrailConfigError(`guardrails.custom_patterns[${i}].name`, `"${c.name}" is a built-in pattern name; choose another`);
    }
    seen.add(c.name);
  });

  const disabled = new Set<string>();
  (config.disabled_patterns ?? []).forEach((name, i) => {
    checkName(`guardrails.disabled_patterns[${i}]`, name, [...BUILTIN_PATTERN_NAMES, ...customNames]);
    disabled.add(name);
  });

  const upgoing = actionMap(config.upgoing, "upgoing", BUILTIN_PATTERN_NAMES, customNames, "custom_upgoing");
  const downgoing = actionMap(config.downgoing, "downgoing", BUILTIN_PATTERN_NAMES, customNames, "custom_downgoing");
  const customUp = actionMap(config.custom_upgoing, "custom_upgoing", customNames, BUILTIN_PATTERN_NAMES, "upgoing");
  const customDown = actionMap(config.custom_downgoing, "custom_downgoing", customNames, BUILTIN_PATTERN_NAMES, "downgoing");

  // A pattern runs in its own direction, and also in the other one when that direction's map names it.
  const rules = (direction: Direction): ActiveRule[] => {
    const builtinMap = direction === "upgoing" ? upgoing : downgoing;
    const customMap = direction === "upgoing" ? customUp : customDown;
    const out: ActiveRule[] = [];
    for (const c of customs) {
      if (disabled.has(c.name)) continue;
      const own = c.direction === direction || c.direction === "both";
      const action = customMap.get(c.name);
      if (own || action) out.push({ name: c.name, source: c.regex, action: action ?? CUSTOM_DEFAULT_ACTION, custom: true });
    }
    for (const p of BUILTIN_PATTERNS) {
      if (disabled.has(p.name)) continue;
      const action = builtinMap.get(p.name);
      if (p.direction === direction || action) out.push({ name: p.name, source: p.source, action: action ?? p.defaultAction, custom: false });
    }
    return out;
  };

  const block = config.block_message ?? {};
  return {
    upgoing: rules("upgoing"),
    downgoing: rules("downgoing"),
    includeDetails: bool(block.include_details, "guardrails.block_message.include_details", true),
    includeHelpLink: bool(block.include_help_link, "guardrails.block_message.include_help_link", true),
    tools: resolveToolRules(config.tools),
  };
}

function validateCustom(p: CustomPatternConfig, i: number): { name: string; regex: string; direction: Direction | "both" } {
  const at = `guardrails.custom_patterns[${i}]`;
  if (!p || typeof p !== "object") throw new GuardrailConfigError(at, "must be a mapping with name, regex and direction");
  if (typeof p.name !== "string" || !/^[A-Za-z0-9_.-]+$/.test(p.name)) {
    throw new GuardrailConfigError(`${at}.name`, "must be a non-empty name of letters, digits, '_', '.' or '-'");
  }
  const named = `${at}.regex (custom pattern "${p.name}")`;
  if (typeof p.regex !== "string" || p.regex === "") throw new GuardrailConfigError(named, "must be a non-empty regular expression");
  try {
    new RegExp(p.regex);
  } catch (error) {
    const hint = /^\(\?[a-z]+\)/.test(p.regex) ? " (inline flags such as (?i) are not supported: write [Aa] classes)" : "";
    throw new GuardrailConfigError(named, `invalid regular expression: ${(error as Error).message}${hint}`);
  }
  if (new RegExp(`^(?:${p.regex})$`).test("") || minMatchLength(p.regex) === 0) {
    throw new GuardrailConfigError(named, "can match an empty string (alone, or in a text: a lookaround, \\b or ^ by itself), so it would match everywhere");
  }
  if (hasNumberedBackreference(p.regex)) {
    throw new GuardrailConfigError(named, "numbered backreferences (\\1) are not supported (patterns are combined); use a named group and \\k<name>");
  }
  const direction = p.direction ?? "upgoing";
  if (!(CUSTOM_PATTERN_DIRECTIONS as readonly string[]).includes(direction)) {
    throw new GuardrailConfigError(`${at}.direction`, `"${String(direction)}" is not one of ${CUSTOM_PATTERN_DIRECTIONS.join(", ")}`);
  }
  return { name: p.name, regex: p.regex, direction };
}

function hasNumberedBackreference(source: string): boolean {
  let ast: RootNode<{ lookbehind: true; namedGroups: true }>;
  try {
    ast = regjsparser.parse(source, "", { lookbehind: true, namedGroups: true });
  } catch {
    return /\\[1-9]/.test(source); // conservative when the parser does not follow
  }
  const walk = (node: unknown): boolean => {
    if (!node || typeof node !== "object") return false;
    const n = node as { type?: string; matchIndex?: number; body?: unknown };
    if (n.type === "reference" && typeof n.matchIndex === "number") return true;
    return Array.isArray(n.body) ? n.body.some(walk) : false;
  };
  return walk(ast);
}

function actionMap(
  map: Record<string, GuardrailAction> | undefined,
  section: string,
  valid: readonly string[],
  other: readonly string[],
  otherSection: string,
): Map<string, GuardrailAction> {
  const out = new Map<string, GuardrailAction>();
  if (map === undefined || map === null) return out;
  if (typeof map !== "object") throw new GuardrailConfigError(`guardrails.${section}`, "must be a mapping of pattern name to warn | redact | block");
  for (const [name, action] of Object.entries(map)) {
    const field = `guardrails.${section}.${name}`;
    if (!valid.includes(name)) {
      if (other.includes(name)) throw new GuardrailConfigError(field, `"${name}" belongs under guardrails.${otherSection}`);
      checkName(field, name, valid);
    }
    if (!GUARDRAIL_ACTIONS.includes(action)) throw new GuardrailConfigError(field, `"${String(action)}" is not one of ${GUARDRAIL_ACTIONS.join(", ")}`);
    out.set(name, action);
  }
  return out;
}

function checkName(field: string, name: string, valid: readonly string[]): void {
  if (valid.includes(name)) return;
  const hint = valid.length > 0 && typeof name === "string" ? ` (did you mean "${closest(name, [...valid])}"?)` : "";
  throw new GuardrailConfigError(field, `unknown pattern "${String(name)}"${hint}; valid: ${valid.join(", ")}`);
}

function bool(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") throw new GuardrailConfigError(field, "must be true or false");
  return value;
}

function resolveToolRules(tools: ToolGuardrailsConfig | undefined): ResolvedToolRules | null {
  if (!tools || tools.enabled === false) return null;
  const out = new Map<string, ToolProviderRules>();
  for (const [provider, rules] of Object.entries(tools.providers ?? {})) {
    const at = `guardrails.tools.providers.${provider}`;
    if (!rules || typeof rules !== "object") throw new GuardrailConfigError(at, "must be a mapping with filter and/or param_restrictions");
    for (const key of ["allow", "deny"] as const) {
      const list = rules.filter?.[key];
      if (list !== undefined && (!Array.isArray(list) || list.some((t) => typeof t !== "string"))) {
        throw new GuardrailConfigError(`${at}.filter.${key}`, "must be a list of tool names");
      }
    }
    for (const [tool, rule] of Object.entries(rules.param_restrictions?.rules ?? {})) {
      const field = `${at}.param_restrictions.rules.${tool}`;
      if (!rule || !Array.isArray(rule.deny) || rule.deny.some((p) => typeof p !== "string")) {
        throw new GuardrailConfigError(`${field}.deny`, "must be a list of parameter names");
      }
      if (rule.action !== undefined && !PARAM_RESTRICTION_ACTIONS.includes(rule.action)) {
        throw new GuardrailConfigError(`${field}.action`, `"${String(rule.action)}" is not one of ${PARAM_RESTRICTION_ACTIONS.join(", ")}`);
      }
    }
    out.set(provider, rules);
  }
  return out;
}
