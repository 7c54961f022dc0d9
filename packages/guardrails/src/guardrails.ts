import type { CanonicalRequest, CanonicalResponse, ContentPart, JsonValue, MediaSource, Message, StreamEvent, ToolDefinition } from "@bitrouter/core";
import type { GuardrailAction, GuardrailDirection as Direction, GuardrailsConfig } from "@bitrouter/core";
import type { ActiveRule, ResolvedGuardrails } from "./config.js";
import { resolveGuardrailsConfig } from "./config.js";
import { GUARDRAILS_DOCS_URL, GuardrailError } from "./errors.js";
import { Matcher } from "./matcher.js";
import type { OnMatch } from "./scanner.js";
import { JsonStringStreamScanner, StreamScanner, scanText } from "./scanner.js";
import type { ToolGuard } from "./tools.js";
import { toolGuardFromRules } from "./tools.js";

/**
 * The request context fields guardrails use. The router's RequestContext satisfies it; other
 * hosts (tests, the MCP bridge) can build one by hand.
 */
export interface GuardrailContext {
  readonly requestId: string;
  /** `guardrail_violations` is incremented here (it ends up in the ledger row). */
  readonly counters: Record<string, number>;
  /** The endpoint being dispatched to: tool guardrails apply per provider. */
  readonly target?: { readonly provider: string };
}

/** One violation, as logged. Never carries the matched text. */
export interface GuardrailViolation {
  event: "guardrail_violation";
  /** Pattern name, or `tool_filter` / `param_restrictions` for tool guardrails. */
  pattern: string;
  direction: Direction;
  action: GuardrailAction | "strip";
  requestId: string;
  /** Where in the request/answer, e.g. `messages[2].content[0]` or `output[1]`. */
  location: string;
}

/** The logger guardrails report to; pino's `warn(obj, msg)` fits. */
export interface GuardrailLogger {
  warn(fields: GuardrailViolation, message: string): void;
}

export interface GuardrailsOptions {
  logger?: GuardrailLogger;
  /** Link appended to block messages when `include_help_link` (default: GUARDRAILS_DOCS_URL). */
  helpUrl?: string;
  /** Stream look-behind window: at most this many characters are held back per part (default 4096). */
  maxHoldChars?: number;
}

export interface StreamGuard {
  /** Feeds one canonical event; returns the events to forward (possibly none, possibly several). Throws GuardrailError on block. */
  push(event: StreamEvent): StreamEvent[];
  /** Characters currently held back over all parts (bounded by maxHoldChars per part). */
  readonly heldChars: number;
}

export interface Guardrails {
  readonly upgoingRules: readonly ActiveRule[];
  readonly downgoingRules: readonly ActiveRule[];
  /** Tool guardrails, or null when `guardrails.tools` is absent or disabled. */
  readonly tools: ToolGuard | null;
  /** Checks everything the provider will see; returns the request with redactions and tool rules applied. Throws GuardrailError on block. */
  checkRequest(request: CanonicalRequest, ctx: GuardrailContext): CanonicalRequest;
  /** The pattern part of checkRequest (no tool rules): independent of the target provider. */
  scanRequest(request: CanonicalRequest, ctx: GuardrailContext): CanonicalRequest;
  /** The tool-rule part of checkRequest for `ctx.target.provider`. */
  applyToolRules(request: CanonicalRequest, ctx: GuardrailContext): CanonicalRequest;
  /** Checks a complete (non-stream) answer: text, reasoning and tool calls. Throws GuardrailError on block. */
  checkResponse(response: CanonicalResponse, ctx: GuardrailContext): CanonicalResponse;
  /**
   * Whether a wire body (parsed JSON: a caller's request upgoing, an upstream's answer downgoing)
   * may go on as it is: no pattern of that direction matches any string in it, at any depth, object
   * keys and the JSON inside strings (tool arguments) included. Nothing is reported: a body that
   * does not pass takes the canonical path, which reports and redacts. Always false with tool
   * guardrails, which rely on the canonical decoding to find every tool call.
   */
  admitsWire(body: unknown, direction: Direction): boolean;
  /** Per-request state for checking a canonical stream. */
  createStreamGuard(ctx: GuardrailContext): StreamGuard;
  /** Scans one text in one direction (location only labels the log line). */
  scanText(text: string, direction: Direction, ctx: GuardrailContext, location?: string): string;
}

const DEFAULT_MAX_HOLD = 4096;

const defaultLogger: GuardrailLogger = {
  warn(fields, message) {
    process.stderr.write(`${JSON.stringify({ level: "warn", msg: message, ...fields })}\n`);
  },
};

/**
 * Builds the guardrails from the `guardrails:` config section. Returns null when the section is
 * absent or disabled, so the host installs no hook at all (zero cost). Throws
 * GuardrailConfigError on invalid config.
 */
export function createGuardrails(config: GuardrailsConfig | undefined | null, options: GuardrailsOptions = {}): Guardrails | null {
  const resolved = resolveGuardrailsConfig(config);
  return resolved ? new GuardrailsEngine(resolved, options) : null;
}

class GuardrailsEngine implements Guardrails {
  readonly upgoingRules: readonly ActiveRule[];
  readonly downgoingRules: readonly ActiveRule[];
  readonly tools: ToolGuard | null;
  private readonly matchers: Record<Direction, Matcher>;
  private readonly logger: GuardrailLogger;
  private readonly helpUrl: string;
  private readonly maxHold: number;

  constructor(
    private readonly resolved: ResolvedGuardrails,
    options: GuardrailsOptions,
  ) {
    this.upgoingRules = resolved.upgoing;
    this.downgoingRules = resolved.downgoing;
    // What callers send comes back turn after turn (the conversation so far); answers are new.
    this.matchers = { upgoing: new Matcher(resolved.upgoing, { rememberAll: true }), downgoing: new Matcher(resolved.downgoing) };
    this.tools = resolved.tools ? toolGuardFromRules(resolved.tools) : null;
    this.logger = options.logger ?? defaultLogger;
    this.helpUrl = options.helpUrl ?? GUARDRAILS_DOCS_URL;
    this.maxHold = options.maxHoldChars ?? DEFAULT_MAX_HOLD;
  }

  /** Logs and counts a violation; throws when its action is block. */
  report(ctx: GuardrailContext, pattern: string, direction: Direction, action: GuardrailViolation["action"], location: string, reason?: string): void {
    ctx.counters.guardrail_violations = (ctx.counters.guardrail_violations ?? 0) + 1;
    this.logger.warn({ event: "guardrail_violation", pattern, direction, action, requestId: ctx.requestId, location }, "guardrail violation");
    if (action === "block") throw this.blocked(direction, pattern, location, reason ?? `pattern "${pattern}" matched in ${location}`);
  }

  /** The refusal: pattern and location only with include_details; never the matched text. */
  blocked(direction: Direction, pattern: string, location: string, detail: string): GuardrailError {
    const details = this.resolved.includeDetails;
    let message = direction === "upgoing" ? "Request blocked by guardrails" : "Response blocked by guardrails";
    if (details) message += `: ${detail}`;
    message += ".";
    if (this.resolved.includeHelpLink) message += ` See ${this.helpUrl}`;
    return new GuardrailError({ message, direction, ...(details ? { pattern, param: location } : {}) });
  }

  onMatch(ctx: GuardrailContext, direction: Direction, location: string): OnMatch {
    return (rule) => {
      this.report(ctx, rule.name, direction, rule.action, location);
      return rule.action === "redact" ? `[REDACTED:${rule.name}]` : null;
    };
  }

  scanText(text: string, direction: Direction, ctx: GuardrailContext, location = "text"): string {
    return scanText(this.matchers[direction], text, this.onMatch(ctx, direction, location));
  }

  /** Tool-call arguments: string values are scanned inside the parsed JSON, so redaction keeps it valid. */
  scanArguments(args: string, direction: Direction, ctx: GuardrailContext, location: string): string {
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(args) as JsonValue;
    } catch {
      return this.scanText(args, direction, ctx, location);
    }
    const scanned = this.scanJson(parsed, direction, ctx, location);
    return scanned === parsed ? args : JSON.stringify(scanned);
  }

  /** Scans every string value of a JSON value (keys are kept); returns the same object when nothing changed. */
  scanJson(value: JsonValue, direction: Direction, ctx: GuardrailContext, location: string): JsonValue {
    if (typeof value === "string") return this.scanText(value, direction, ctx, location);
    if (Array.isArray(value)) return mapChanged(value, (v) => this.scanJson(v, direction, ctx, location));
    if (value && typeof value === "object") {
      let changed = false;
      const out: { [key: string]: JsonValue } = {};
      for (const [key, v] of Object.entries(value)) {
        out[key] = this.scanJson(v, direction, ctx, location);
        if (out[key] !== v) changed = true;
      }
      return changed ? out : value;
    }
    return value;
  }

  checkRequest(request: CanonicalRequest, ctx: GuardrailContext): CanonicalRequest {
    return this.applyToolRules(this.scanRequest(request, ctx), ctx);
  }

  scanRequest(request: CanonicalRequest, ctx: GuardrailContext): CanonicalRequest {
    const up = "upgoing";
    const system = request.system && mapChanged(request.system, (p, i) => withText(p, this.scanText(p.text, up, ctx, `system[${i}]`)));
    const messages = mapChanged(request.messages, (m, i) => {
      const content = mapChanged(m.content, (part, j) => this.scanPart(part, ctx, `messages[${i}].content[${j}]`));
      return content === m.content ? m : ({ ...m, content } as Message);
    });
    const tools = request.tools && mapChanged(request.tools, (t, i) => this.scanTool(t, ctx, `tools[${i}]`));
    let responseFormat = request.responseFormat;
    if (responseFormat?.type === "json_schema") {
      const rf = responseFormat;
      const schema = this.scanJson(rf.schema, up, ctx, "response_format.schema") as typeof rf.schema;
      const description = rf.description === undefined ? undefined : this.scanText(rf.description, up, ctx, "response_format.description");
      if (schema !== rf.schema || description !== rf.description) responseFormat = { ...rf, schema, ...(description === undefined ? {} : { description }) };
    }
    if (system === request.system && messages === request.messages && tools === request.tools && responseFormat === request.responseFormat) return request;
    return { ...request, messages, ...(system ? { system } : {}), ...(tools ? { tools } : {}), ...(responseFormat ? { responseFormat } : {}) };
  }

  private scanPart(part: ContentPart, ctx: GuardrailContext, at: string): ContentPart {
    const up = "upgoing";
    switch (part.type) {
      case "text":
      case "reasoning":
        return withText(part, this.scanText(part.text, up, ctx, at));
      case "image": {
        const source = this.scanSource(part.source, ctx, at);
        return source === part.source ? part : { ...part, source };
      }
      case "file": {
        const source = part.source.kind === "file_id" ? part.source : this.scanSource(part.source, ctx, at);
        const filename = part.filename === undefined ? undefined : this.scanText(part.filename, up, ctx, `${at}.filename`);
        if (source === part.source && filename === part.filename) return part;
        return { ...part, source, ...(filename === undefined ? {} : { filename }) };
      }
      case "tool_call": {
        const args = this.scanArguments(part.arguments, up, ctx, `${at}.arguments`);
        return args === part.arguments ? part : { ...part, arguments: args };
      }
      case "tool_result": {
        const content = mapChanged(part.content, (c, k) => {
          if (c.type === "text") return withText(c, this.scanText(c.text, up, ctx, `${at}.content[${k}]`));
          const source = this.scanSource(c.source, ctx, `${at}.content[${k}]`);
          return source === c.source ? c : { ...c, source };
        });
        return content === part.content ? part : { ...part, content };
      }
    }
  }

  /** Media URLs can carry credentials (signed URLs, user:pass@); inline base64 data is not text. */
  private scanSource(source: MediaSource, ctx: GuardrailContext, at: string): MediaSource {
    if (source.kind !== "url") return source;
    const url = this.scanText(source.url, "upgoing", ctx, `${at}.url`);
    return url === source.url ? source : { ...source, url };
  }

  private scanTool(tool: ToolDefinition, ctx: GuardrailContext, at: string): ToolDefinition {
    const description = tool.description === undefined ? undefined : this.scanText(tool.description, "upgoing", ctx, `${at}.description`);
    const parameters = this.scanJson(tool.parameters, "upgoing", ctx, `${at}.parameters`) as ToolDefinition["parameters"];
    if (description === tool.description && parameters === tool.parameters) return tool;
    return { ...tool, parameters, ...(description === undefined ? {} : { description }) };
  }

  applyToolRules(request: CanonicalRequest, ctx: GuardrailContext): CanonicalRequest {
    const provider = ctx.target?.provider;
    if (!this.tools || provider === undefined || !request.tools) return request;
    const tools = this.tools.filterTools(provider, request.tools);
    const choice = request.toolChoice;
    if (choice?.type === "tool" && !tools.some((t) => t.name === choice.name)) {
      this.report(ctx, "tool_filter", "upgoing", "block", "tool_choice", `tool "${choice.name}" is not allowed for provider "${provider}"`);
    }
    if (tools.length === request.tools.length && tools.every((t, i) => t === request.tools?.[i])) return request;
    const { tools: _dropped, toolChoice, ...rest } = request;
    // No tools left: a tool_choice would be rejected upstream, so it goes too.
    return tools.length > 0 ? { ...rest, tools, ...(toolChoice ? { toolChoice } : {}) } : rest;
  }

  checkResponse(response: CanonicalResponse, ctx: GuardrailContext): CanonicalResponse {
    const down = "downgoing";
    const content = mapChanged(response.content, (part, i): ContentPart => {
      const at = `output[${i}]`;
      if (part.type === "text" || part.type === "reasoning") return withText(part, this.scanText(part.text, down, ctx, at));
      if (part.type !== "tool_call") return part;
      const scanned = this.scanArguments(part.arguments, down, ctx, `${at}.arguments`);
      const args = this.restrictCall(part.name, scanned, ctx, at);
      return args === part.arguments ? part : { ...part, arguments: args };
    });
    return content === response.content ? response : { ...response, content };
  }

  /** Applies the target provider's tool rules to one complete tool call; returns its (possibly stripped) arguments. */
  restrictCall(name: string, args: string, ctx: GuardrailContext, at: string): string {
    const provider = ctx.target?.provider;
    if (!this.tools || provider === undefined) return args;
    const verdict = this.tools.restrictToolCall(provider, name, args);
    if (verdict.action === "allow") return verdict.arguments;
    const rule = this.tools.isToolAllowed(provider, name) ? "param_restrictions" : "tool_filter";
    if (verdict.action === "block") this.report(ctx, rule, "downgoing", "block", at, verdict.reason);
    else this.report(ctx, rule, "downgoing", "strip", at);
    return verdict.action === "strip" ? verdict.arguments : args;
  }

  admitsWire(body: unknown, direction: Direction): boolean {
    if (this.tools) return false;
    const matcher = this.matchers[direction];
    return matcher.rules.length === 0 || wireClean(matcher, body, 0);
  }

  createStreamGuard(ctx: GuardrailContext): StreamGuard {
    if (this.downgoingRules.length === 0 && !this.tools) return PASS_THROUGH;
    return new CanonicalStreamGuard(this, ctx, this.matchers.downgoing, this.maxHold);
  }
}

/** Nothing is checked downgoing: events pass as they are. */
const PASS_THROUGH: StreamGuard = { push: (event) => [event], heldChars: 0 };

type PartKind = "text" | "reasoning" | "tool";

interface PartState {
  kind: PartKind;
  /** Streamed tool arguments are scanned as JSON; text and reasoning as plain text. */
  scanner: StreamScanner | JsonStringStreamScanner | null;
  /** Tool calls with param restrictions: arguments are buffered whole (they must be parsed to be stripped). */
  buffer: string | null;
  toolName?: string;
}

/**
 * Downgoing checks on a canonical stream, part by part (`index`). Each part has its own bounded
 * window; held text is released before the part's `part_end`, before another part's events
 * (encoders close a block when the next one starts), before a reasoning signature, and before
 * `finish`/`error`.
 */
class CanonicalStreamGuard implements StreamGuard {
  private readonly parts = new Map<number, PartState>();
  private active: number | null = null;
  /** Restricted tool calls already released (index → tool name). */
  private readonly closedRestricted = new Map<number, string>();
  /** Every downgoing rule only warns: nothing is held back, matches are still detected across chunks. */
  private readonly observeOnly: boolean;

  constructor(
    private readonly engine: GuardrailsEngine,
    private readonly ctx: GuardrailContext,
    private readonly matcher: Matcher,
    private readonly maxHold: number,
  ) {
    this.observeOnly = matcher.rules.every((r) => r.action === "warn");
  }

  get heldChars(): number {
    let total = 0;
    for (const part of this.parts.values()) total += (part.scanner?.heldLength ?? 0) + (part.buffer?.length ?? 0);
    return total;
  }

  push(event: StreamEvent): StreamEvent[] {
    switch (event.type) {
      case "text_delta":
      case "reasoning_delta": {
        const kind = event.type === "text_delta" ? "text" : "reasoning";
        const out = this.switchTo(event.index);
        const part = this.part(event.index, kind);
        const text = (part.scanner as StreamScanner).push(event.text);
        // Most deltas pass whole: the event itself goes on, no copy per token.
        if (text !== "") out.push(text === event.text ? event : { ...event, text });
        return out;
      }
      case "tool_call_start": {
        const out = this.switchTo(event.index);
        const provider = this.ctx.target?.provider;
        if (this.engine.tools && provider !== undefined && !this.engine.tools.isToolAllowed(provider, event.name)) {
          this.engine.report(
            this.ctx,
            "tool_filter",
            "downgoing",
            "block",
            `output[${event.index}]`,
            `tool "${event.name}" is not allowed for provider "${provider}"`,
          );
        }
        this.part(event.index, "tool", event.name);
        out.push(event);
        return out;
      }
      case "tool_call_delta": {
        const closed = this.closedRestricted.get(event.index);
        if (closed !== undefined) {
          // Its stripped arguments were already released: more of them cannot be checked.
          this.engine.report(
            this.ctx,
            "param_restrictions",
            "downgoing",
            "block",
            `output[${event.index}]`,
            `arguments of tool "${closed}" continued after another part`,
          );
        }
        const out = this.switchTo(event.index);
        const part = this.part(event.index, "tool");
        if (part.buffer !== null) {
          part.buffer += event.argumentsDelta;
          return out;
        }
        const argumentsDelta = (part.scanner as JsonStringStreamScanner).push(event.argumentsDelta);
        if (argumentsDelta !== "") out.push({ ...event, argumentsDelta });
        return out;
      }
      case "reasoning_signature":
      case "part_end": {
        const out = this.finishPart(event.index);
        out.push(event);
        return out;
      }
      case "finish":
      case "error": {
        const out: StreamEvent[] = [];
        for (const index of [...this.parts.keys()].sort((a, b) => a - b)) out.push(...this.finishPart(index));
        out.push(event);
        return out;
      }
      default:
        return [event];
    }
  }

  private part(index: number, kind: PartKind, toolName?: string): PartState {
    let part = this.parts.get(index);
    if (!part) {
      const onMatch = this.engine.onMatch(this.ctx, "downgoing", `output[${index}]`);
      const provider = this.ctx.target?.provider;
      const buffered =
        kind === "tool" && toolName !== undefined && provider !== undefined && (this.engine.tools?.hasParamRestriction(provider, toolName) ?? false);
      part = {
        kind,
        scanner: buffered
          ? null
          : kind === "tool"
            ? new JsonStringStreamScanner(this.matcher, onMatch, this.maxHold, this.observeOnly)
            : new StreamScanner(this.matcher, onMatch, this.maxHold, this.observeOnly),
        buffer: buffered ? "" : null,
        ...(toolName === undefined ? {} : { toolName }),
      };
      this.parts.set(index, part);
    }
    this.active = index;
    return part;
  }

  /**
   * Another part's event: release what the previous part holds (sequential encoders close its
   * block now), keeping its state in case its deltas resume (interleaved parallel tool calls).
   */
  private switchTo(index: number): StreamEvent[] {
    const previous = this.active === null ? undefined : this.parts.get(this.active);
    if (this.active === null || this.active === index || !previous) return [];
    const from = this.active;
    this.active = index;
    // A restricted tool call is complete when the next part starts (sources without part_end).
    if (previous.buffer !== null) {
      this.closedRestricted.set(from, previous.toolName ?? "");
      return this.finishPart(from);
    }
    if (!previous.scanner) return [];
    const rest = previous.scanner instanceof JsonStringStreamScanner ? previous.scanner.release() : previous.scanner.flush();
    return rest === "" ? [] : [this.delta(previous.kind, from, rest)];
  }

  private delta(kind: PartKind, index: number, text: string): StreamEvent {
    if (kind === "tool") return { type: "tool_call_delta", index, argumentsDelta: text };
    return { type: kind === "text" ? "text_delta" : "reasoning_delta", index, text };
  }

  /** Releases everything held for a part (final scan, tool restrictions) and forgets it. */
  private finishPart(index: number): StreamEvent[] {
    const part = this.parts.get(index);
    if (!part) return [];
    this.parts.delete(index);
    if (this.active === index) this.active = null;
    if (part.buffer !== null) {
      const at = `output[${index}]`;
      const scanned = this.engine.scanArguments(part.buffer, "downgoing", this.ctx, `${at}.arguments`);
      const args = this.engine.restrictCall(part.toolName ?? "", scanned, this.ctx, at);
      return args === "" ? [] : [{ type: "tool_call_delta", index, argumentsDelta: args }];
    }
    const rest = part.scanner?.flush() ?? "";
    return rest === "" ? [] : [this.delta(part.kind, index, rest)];
  }
}

/** Deeper than this a wire body is left to the canonical path (and the walk to a bounded stack). */
const WIRE_MAX_DEPTH = 64;

/** No pattern matches any string of `value`: see Guardrails.admitsWire. */
function wireClean(matcher: Matcher, value: unknown, depth: number): boolean {
  if (typeof value === "string") return !matcher.matches(value) && (!looksLikeJson(value) || wireCleanJson(matcher, value, depth));
  if (value === null || typeof value !== "object") return true;
  if (depth >= WIRE_MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!wireClean(matcher, value[i], depth + 1)) return false;
    return true;
  }
  for (const key in value) {
    if (matcher.matches(key) || !wireClean(matcher, (value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/**
 * A string that holds JSON is also walked parsed: its strings' escapes (`\u002d`) are decoded
 * there, and a pattern anchored to a string's ends must see each inner string alone.
 */
function wireCleanJson(matcher: Matcher, text: string, depth: number): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return true; // not JSON: scanned above as the text it is
  }
  return wireClean(matcher, parsed, depth + 1);
}

function looksLikeJson(text: string): boolean {
  let first = text.charCodeAt(0);
  // Only a text that starts with white space is trimmed (most start with a printable character).
  if (!(first > 0x20 && first < 0x7f)) first = text.trimStart().charCodeAt(0);
  return first === 0x7b || first === 0x5b; // { or [
}

function withText<T extends { text: string }>(part: T, text: string): T {
  return text === part.text ? part : { ...part, text };
}

/** Array map that returns the original array when no element changed (no copies on the common path). */
function mapChanged<T>(items: readonly T[], fn: (item: T, index: number) => T): T[] {
  let out: T[] | null = null;
  let i = 0;
  for (const item of items) {
    const next = fn(item, i);
    if (next !== item && out === null) out = items.slice(0, i);
    if (out !== null) out.push(next);
    i++;
  }
  return out ?? (items as T[]);
}
