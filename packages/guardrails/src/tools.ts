import type { JsonObject, JsonValue } from "@bitrouter/core";
import type { ToolGuardrailsConfig } from "@bitrouter/core";
import type { ResolvedToolRules } from "./config.js";
import { resolveGuardrailsConfig } from "./config.js";

/** A tool definition as a model (canonical `parameters`) or an MCP server (`inputSchema`) describes it. */
export interface ToolLike {
  name: string;
  parameters?: object;
  inputSchema?: object;
}

export type ToolCallVerdict<A> =
  | { action: "allow"; arguments: A }
  | { action: "strip"; arguments: A; stripped: string[] }
  | { action: "block"; reason: string };

/**
 * Tool guardrails (`guardrails.tools`) per provider: which tools a provider may see and call,
 * and which parameters they may carry. Plain functions over the config, shared by the router
 * hook (model providers) and the MCP bridge (tool providers).
 */
export interface ToolGuard {
  /** Whether the provider may be offered / may call this tool. */
  isToolAllowed(provider: string, name: string): boolean;
  /** The tools the provider may see, in their original order, with denied parameters removed from their schemas. */
  filterTools<T extends ToolLike>(provider: string, tools: readonly T[]): T[];
  /** Applies `param_restrictions` to one call. Arguments as a JSON string (canonical) or an object (MCP). */
  restrictToolCall(provider: string, name: string, args: string): ToolCallVerdict<string>;
  restrictToolCall(provider: string, name: string, args: JsonObject): ToolCallVerdict<JsonObject>;
  /** True when the provider has a param restriction for this tool (its streamed arguments must be buffered). */
  hasParamRestriction(provider: string, name: string): boolean;
}

/** Builds the tool guard from a `guardrails.tools` section alone (null when disabled or absent). */
export function createToolGuard(config: ToolGuardrailsConfig | undefined): ToolGuard | null {
  const resolved = resolveGuardrailsConfig({ tools: config })?.tools ?? null;
  return resolved ? toolGuardFromRules(resolved) : null;
}

export function toolGuardFromRules(rules: ResolvedToolRules): ToolGuard {
  const isToolAllowed = (provider: string, name: string): boolean => {
    const filter = rules.get(provider)?.filter;
    if (!filter) return true;
    if (filter.allow && !filter.allow.includes(name)) return false;
    return !(filter.deny ?? []).includes(name);
  };
  const restriction = (provider: string, name: string) => rules.get(provider)?.param_restrictions?.rules?.[name];

  const filterTools = <T extends ToolLike>(provider: string, tools: readonly T[]): T[] => {
    const out: T[] = [];
    for (const tool of tools) {
      if (!isToolAllowed(provider, tool.name)) continue;
      const deny = restriction(provider, tool.name)?.deny;
      out.push(deny && deny.length > 0 ? stripSchema(tool, deny) : tool);
    }
    return out;
  };

  function restrictToolCall(provider: string, name: string, args: string): ToolCallVerdict<string>;
  function restrictToolCall(provider: string, name: string, args: JsonObject): ToolCallVerdict<JsonObject>;
  function restrictToolCall(provider: string, name: string, args: string | JsonObject): ToolCallVerdict<string | JsonObject> {
    if (!isToolAllowed(provider, name)) return { action: "block", reason: `tool "${name}" is not allowed for provider "${provider}"` };
    const rule = restriction(provider, name);
    if (!rule || rule.deny.length === 0) return { action: "allow", arguments: args };
    let object: JsonValue;
    if (typeof args === "string") {
      try {
        object = args.trim() === "" ? {} : (JSON.parse(args) as JsonValue);
      } catch {
        // Unparseable arguments cannot be proven free of the denied parameters.
        return { action: "block", reason: `arguments of tool "${name}" are not valid JSON` };
      }
    } else {
      object = args;
    }
    if (!object || typeof object !== "object" || Array.isArray(object)) return { action: "allow", arguments: args };
    const present = rule.deny.filter((p) => Object.hasOwn(object as JsonObject, p));
    if (present.length === 0) return { action: "allow", arguments: args };
    if ((rule.action ?? "strip") === "block") {
      return { action: "block", reason: `tool "${name}" may not receive parameter(s) ${present.join(", ")}` };
    }
    const kept: JsonObject = {};
    for (const [key, value] of Object.entries(object)) if (!present.includes(key)) kept[key] = value;
    return { action: "strip", arguments: typeof args === "string" ? JSON.stringify(kept) : kept, stripped: present };
  }

  return {
    isToolAllowed,
    filterTools,
    restrictToolCall,
    hasParamRestriction: (provider, name) => (restriction(provider, name)?.deny.length ?? 0) > 0,
  };
}

/** Removes denied top-level properties (and their `required` entries) from the tool's schema. */
function stripSchema<T extends ToolLike>(tool: T, deny: readonly string[]): T {
  const key = tool.parameters ? "parameters" : tool.inputSchema ? "inputSchema" : null;
  if (!key) return tool;
  const schema = tool[key] as Record<string, unknown>;
  const properties = schema.properties;
  if (!properties || typeof properties !== "object" || Array.isArray(properties)) return tool;
  if (!deny.some((p) => Object.hasOwn(properties, p))) return tool;
  const keptProps: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(properties)) if (!deny.includes(name)) keptProps[name] = value;
  const next: Record<string, unknown> = { ...schema, properties: keptProps };
  if (Array.isArray(schema.required)) next.required = schema.required.filter((r) => typeof r !== "string" || !deny.includes(r));
  return { ...tool, [key]: next };
}
