/** Anthropic Messages requests: wire -> canonical (inbound) and canonical -> wire (outbound). */
import type {
  CacheControl,
  CanonicalRequest,
  ContentPart,
  FilePart,
  ImagePart,
  JsonObject,
  JsonValue,
  MediaSource,
  Message,
  ReasoningConfig,
  ReasoningEffort,
  TextPart,
  ToolChoice,
  ToolDefinition,
  ToolResultPart,
} from "@bitrouter/core";
import type { EncodeRequestOptions, UpstreamRequest } from "../../codec.js";
import { invalidRequest } from "@bitrouter/core";
import {
  isRecord,
  optionalBoolean,
  optionalNumber,
  optionalString,
  optionalStringArray,
  parseToolArguments,
  requireArray,
  requireRecord,
  requireString,
} from "../util.js";

export const ANTHROPIC_VERSION = "2023-06-01";
/** max_tokens is required on the Anthropic wire; used when neither the request nor the catalog gives one. */
export const ANTHROPIC_FALLBACK_MAX_TOKENS = 4096;
/** Thinking budgets used when a caller asks for a reasoning effort (OpenAI style) instead of a budget. */
export const ANTHROPIC_EFFORT_BUDGETS: Record<ReasoningEffort, number> = { minimal: 1024, low: 2048, medium: 8192, high: 24576 };
/** Anthropic rejects thinking budgets below this. */
const MIN_THINKING_BUDGET = 1024;

// ── Requests: Anthropic wire -> canonical ─────────────────────────────────────────────────────

function decodeCacheControl(value: unknown, param: string): CacheControl | undefined {
  if (value === undefined || value === null) return undefined;
  const cc = requireRecord(value, param);
  if (cc.type !== "ephemeral") throw invalidRequest(`${param}.type must be "ephemeral"`, `${param}.type`);
  const ttl = optionalString(cc.ttl, `${param}.ttl`);
  return ttl === undefined ? { type: "ephemeral" } : { type: "ephemeral", ttl };
}

function withCache<T extends object>(part: T, cacheControl: CacheControl | undefined): T {
  return cacheControl === undefined ? part : { ...part, cacheControl };
}

function decodeTextBlock(block: Record<string, unknown>, param: string): TextPart {
  const text = requireString(block.text, `${param}.text`);
  return withCache<TextPart>({ type: "text", text }, decodeCacheControl(block.cache_control, `${param}.cache_control`));
}

function decodeImageBlock(block: Record<string, unknown>, param: string): ImagePart {
  const source = requireRecord(block.source, `${param}.source`);
  let media: MediaSource;
  if (source.type === "base64") {
    media = {
      kind: "base64",
      mediaType: requireString(source.media_type, `${param}.source.media_type`),
      data: requireString(source.data, `${param}.source.data`),
    };
  } else if (source.type === "url") {
    media = { kind: "url", url: requireString(source.url, `${param}.source.url`) };
  } else {
    throw invalidRequest(`${param}.source.type must be "base64" or "url", got ${JSON.stringify(source.type)}`, `${param}.source.type`);
  }
  return withCache<ImagePart>({ type: "image", source: media }, decodeCacheControl(block.cache_control, `${param}.cache_control`));
}

function decodeDocumentBlock(block: Record<string, unknown>, param: string): FilePart {
  const source = requireRecord(block.source, `${param}.source`);
  let part: FilePart;
  if (source.type === "base64") {
    const mediaType = requireString(source.media_type, `${param}.source.media_type`);
    part = { type: "file", source: { kind: "base64", mediaType, data: requireString(source.data, `${param}.source.data`) }, mediaType };
  } else if (source.type === "url") {
    part = { type: "file", source: { kind: "url", url: requireString(source.url, `${param}.source.url`) }, mediaType: "application/pdf" };
  } else if (source.type === "text") {
    // Plain-text documents travel base64-encoded in canonical form so every part stays a file.
    const text = requireString(source.data, `${param}.source.data`);
    part = { type: "file", source: { kind: "base64", mediaType: "text/plain", data: Buffer.from(text, "utf8").toString("base64") }, mediaType: "text/plain" };
  } else if (source.type === "file") {
    part = { type: "file", source: { kind: "file_id", fileId: requireString(source.file_id, `${param}.source.file_id`) } };
  } else {
    throw invalidRequest(`${param}.source.type must be "base64", "url", "text" or "file", got ${JSON.stringify(source.type)}`, `${param}.source.type`);
  }
  const title = optionalString(block.title, `${param}.title`);
  if (title !== undefined) part.filename = title;
  return withCache(part, decodeCacheControl(block.cache_control, `${param}.cache_control`));
}

function decodeToolResultBlock(block: Record<string, unknown>, param: string): ToolResultPart {
  const toolCallId = requireString(block.tool_use_id, `${param}.tool_use_id`);
  const content: Array<TextPart | ImagePart> = [];
  if (typeof block.content === "string") {
    content.push({ type: "text", text: block.content });
  } else if (block.content !== undefined && block.content !== null) {
    requireArray(block.content, `${param}.content`).forEach((item, i) => {
      const p = `${param}.content[${i}]`;
      const inner = requireRecord(item, p);
      if (inner.type === "text") content.push(decodeTextBlock(inner, p));
      else if (inner.type === "image") content.push(decodeImageBlock(inner, p));
      else throw invalidRequest(`${p}.type must be "text" or "image" inside a tool_result, got ${JSON.stringify(inner.type)}`, `${p}.type`);
    });
  }
  const part: ToolResultPart = { type: "tool_result", toolCallId, content };
  if (optionalBoolean(block.is_error, `${param}.is_error`) === true) part.isError = true;
  return withCache(part, decodeCacheControl(block.cache_control, `${param}.cache_control`));
}

function decodeContentBlock(value: unknown, param: string): ContentPart {
  const block = requireRecord(value, param);
  switch (block.type) {
    case "text":
      return decodeTextBlock(block, param);
    case "image":
      return decodeImageBlock(block, param);
    case "document":
      return decodeDocumentBlock(block, param);
    case "tool_use": {
      const input = block.input === undefined ? {} : requireRecord(block.input, `${param}.input`);
      return {
        type: "tool_call",
        id: requireString(block.id, `${param}.id`),
        name: requireString(block.name, `${param}.name`),
        arguments: JSON.stringify(input),
      };
    }
    case "tool_result":
      return decodeToolResultBlock(block, param);
    case "thinking": {
      const signature = optionalString(block.signature, `${param}.signature`);
      const text = requireString(block.thinking, `${param}.thinking`);
      return signature === undefined ? { type: "reasoning", text } : { type: "reasoning", text, signature };
    }
    case "redacted_thinking":
      return { type: "reasoning", text: "", redactedData: requireString(block.data, `${param}.data`) };
    default:
      throw invalidRequest(
        `${param}.type ${JSON.stringify(block.type)} is not supported (expected text, image, document, tool_use, tool_result, thinking or redacted_thinking)`,
        `${param}.type`,
      );
  }
}

function decodeSystemContent(value: unknown, param: string): TextPart[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value === "" ? undefined : [{ type: "text", text: value }];
  return requireArray(value, param).map((item, i) => {
    const block = requireRecord(item, `${param}[${i}]`);
    if (block.type !== "text") throw invalidRequest(`${param}[${i}].type must be "text"`, `${param}[${i}].type`);
    return decodeTextBlock(block, `${param}[${i}]`);
  });
}

/**
 * Decodes `messages`. System-role messages (newer API versions): before the first turn they join
 * `system`; later ones stay in place (a mid-conversation instruction).
 */
function decodeMessages(value: unknown, system: TextPart[]): Message[] {
  const messages: Message[] = [];
  requireArray(value, "messages").forEach((item, i) => {
    const param = `messages[${i}]`;
    const msg = requireRecord(item, param);
    if (msg.role === "system") {
      const content = decodeSystemContent(msg.content, `${param}.content`) ?? [];
      if (messages.length === 0) system.push(...content);
      else if (content.length > 0) messages.push({ role: "system", content });
      return;
    }
    if (msg.role !== "user" && msg.role !== "assistant") {
      throw invalidRequest(`${param}.role must be "user", "assistant" or "system", got ${JSON.stringify(msg.role)}`, `${param}.role`);
    }
    const content =
      typeof msg.content === "string"
        ? [{ type: "text", text: msg.content } satisfies TextPart]
        : requireArray(msg.content, `${param}.content`).map((block, j) => decodeContentBlock(block, `${param}.content[${j}]`));
    messages.push({ role: msg.role, content });
  });
  return messages;
}

function decodeTools(value: unknown): ToolDefinition[] | undefined {
  if (value === undefined || value === null) return undefined;
  return requireArray(value, "tools").map((item, i) => {
    const param = `tools[${i}]`;
    const tool = requireRecord(item, param);
    if (tool.type !== undefined && tool.type !== null && tool.type !== "custom") {
      throw invalidRequest(
        `${param}.type ${JSON.stringify(tool.type)} is an Anthropic server tool, which BitRouter cannot translate to other providers; only custom tools (name, description, input_schema) are supported`,
        `${param}.type`,
      );
    }
    const def: ToolDefinition = {
      name: requireString(tool.name, `${param}.name`),
      parameters: requireRecord(tool.input_schema, `${param}.input_schema`) as JsonObject,
    };
    const description = optionalString(tool.description, `${param}.description`);
    if (description !== undefined) def.description = description;
    const strict = optionalBoolean(tool.strict, `${param}.strict`);
    if (strict !== undefined) def.strict = strict;
    return withCache(def, decodeCacheControl(tool.cache_control, `${param}.cache_control`));
  });
}

function decodeToolChoice(value: unknown, request: CanonicalRequest): void {
  if (value === undefined || value === null) return;
  const choice = requireRecord(value, "tool_choice");
  switch (choice.type) {
    case "auto":
      request.toolChoice = { type: "auto" };
      break;
    case "any":
      request.toolChoice = { type: "required" };
      break;
    case "none":
      request.toolChoice = { type: "none" };
      break;
    case "tool":
      request.toolChoice = { type: "tool", name: requireString(choice.name, "tool_choice.name") };
      break;
    default:
      throw invalidRequest(`tool_choice.type must be auto, any, tool or none, got ${JSON.stringify(choice.type)}`, "tool_choice.type");
  }
  if (optionalBoolean(choice.disable_parallel_tool_use, "tool_choice.disable_parallel_tool_use") === true) request.parallelToolCalls = false;
}

function decodeThinking(body: Record<string, unknown>): ReasoningConfig | undefined {
  let reasoning: ReasoningConfig | undefined;
  if (body.thinking !== undefined && body.thinking !== null) {
    const thinking = requireRecord(body.thinking, "thinking");
    if (thinking.type === "enabled") {
      const budget = optionalNumber(thinking.budget_tokens, "thinking.budget_tokens");
      reasoning = budget === undefined ? { enabled: true } : { enabled: true, budgetTokens: budget };
    } else if (thinking.type === "disabled") {
      reasoning = { enabled: false };
    } else if (thinking.type === "adaptive") {
      reasoning = { enabled: true };
    } else {
      throw invalidRequest(`thinking.type must be "enabled", "adaptive" or "disabled", got ${JSON.stringify(thinking.type)}`, "thinking.type");
    }
  }
  const config = isRecord(body.output_config) ? body.output_config : undefined;
  const effort = optionalString(config?.effort, "output_config.effort");
  if (effort !== undefined) {
    const mapped: ReasoningEffort = effort === "low" || effort === "medium" ? effort : "high";
    reasoning = { ...reasoning, effort: mapped };
  }
  return reasoning;
}

export function decodeRequest(body: unknown): CanonicalRequest {
  const b = requireRecord(body, "body");
  const system = decodeSystemContent(b.system, "system") ?? [];
  const request: CanonicalRequest = {
    model: requireString(b.model, "model"),
    messages: decodeMessages(b.messages, system),
    stream: optionalBoolean(b.stream, "stream") ?? false,
  };
  if (system.length > 0) request.system = system;
  const tools = decodeTools(b.tools);
  if (tools) request.tools = tools;
  decodeToolChoice(b.tool_choice, request);
  const maxTokens = optionalNumber(b.max_tokens, "max_tokens");
  if (maxTokens !== undefined) {
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw invalidRequest("max_tokens must be a positive integer", "max_tokens");
    request.maxTokens = maxTokens;
  }
  const stop = optionalStringArray(b.stop_sequences, "stop_sequences");
  if (stop && stop.length > 0) request.stop = stop;
  const temperature = optionalNumber(b.temperature, "temperature");
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(b.top_p, "top_p");
  if (topP !== undefined) request.topP = topP;
  const topK = optionalNumber(b.top_k, "top_k");
  if (topK !== undefined) request.topK = topK;
  const reasoning = decodeThinking(b);
  if (reasoning) request.reasoning = reasoning;
  if (b.metadata !== undefined && b.metadata !== null) {
    const user = optionalString(requireRecord(b.metadata, "metadata").user_id, "metadata.user_id");
    if (user !== undefined) request.user = user;
  }
  if (isRecord(b.output_config) && b.output_config.format !== undefined && b.output_config.format !== null) {
    const format = requireRecord(b.output_config.format, "output_config.format");
    if (format.type !== "json_schema") throw invalidRequest('output_config.format.type must be "json_schema"', "output_config.format.type");
    request.responseFormat = { type: "json_schema", name: "response", schema: requireRecord(format.schema, "output_config.format.schema") as JsonObject };
  }
  const extensions = decodeExtensions(b);
  if (extensions) request.extensions = { protocol: "anthropic", fields: extensions };
  return request;
}

/** The top-level request fields the canonical model carries; everything else is an extension. */
const MODELED_FIELDS = new Set([
  "model",
  "messages",
  "system",
  "max_tokens",
  "stop_sequences",
  "temperature",
  "top_p",
  "top_k",
  "thinking",
  "metadata",
  "tools",
  "tool_choice",
  "stream",
  "output_config",
]);

/**
 * Fields for an Anthropic upstream that canonical cannot say (betas' `context_management`, and
 * `output_config` beyond its `format`, e.g. `effort`), kept as the caller wrote them.
 */
function decodeExtensions(b: Record<string, unknown>): JsonObject | undefined {
  let out: JsonObject | undefined;
  for (const [key, value] of Object.entries(b)) {
    if (!MODELED_FIELDS.has(key) && value !== undefined) (out ??= {})[key] = value as JsonValue;
  }
  if (isRecord(b.output_config)) {
    const { format: _format, ...rest } = b.output_config;
    if (Object.keys(rest).length > 0) (out ??= {}).output_config = rest as JsonObject;
  }
  // Canonical reads adaptive thinking as "enabled"; an Anthropic upstream should get what was asked.
  if (isRecord(b.thinking) && b.thinking.type === "adaptive") (out ??= {}).thinking = b.thinking as JsonObject;
  return out;
}

// ── Requests: canonical -> Anthropic wire ─────────────────────────────────────────────────────

function cacheField(cacheControl: CacheControl | undefined): JsonObject {
  if (cacheControl === undefined) return {};
  const cc: JsonObject = { type: cacheControl.type };
  if (cacheControl.ttl !== undefined) cc.ttl = cacheControl.ttl;
  return { cache_control: cc };
}

function encodeText(part: TextPart): JsonObject {
  return { type: "text", text: part.text, ...cacheField(part.cacheControl) };
}

function encodeMediaSource(source: MediaSource): JsonObject {
  return source.kind === "url" ? { type: "url", url: source.url } : { type: "base64", media_type: source.mediaType, data: source.data };
}

function encodeImage(part: ImagePart): JsonObject {
  return { type: "image", source: encodeMediaSource(part.source), ...cacheField(part.cacheControl) };
}

function encodeFile(part: FilePart, param: string): JsonObject {
  const title: JsonObject = part.filename === undefined ? {} : { title: part.filename };
  const cache = cacheField(part.cacheControl);
  const source = part.source;
  if (source.kind === "file_id") return { type: "document", source: { type: "file", file_id: source.fileId }, ...title, ...cache };
  const mediaType = source.kind === "base64" ? source.mediaType : (part.mediaType ?? "application/pdf");
  if (mediaType.startsWith("image/")) return { type: "image", source: encodeMediaSource(source), ...cache };
  if (source.kind === "base64" && mediaType.startsWith("text/plain")) {
    const data = Buffer.from(source.data, "base64").toString("utf8");
    return { type: "document", source: { type: "text", media_type: "text/plain", data }, ...title, ...cache };
  }
  if (mediaType !== "application/pdf") {
    throw invalidRequest(`Anthropic accepts PDF, plain-text and image files only, got ${mediaType}`, param);
  }
  return { type: "document", source: encodeMediaSource(source), ...title, ...cache };
}

/** One text block without cache marker is sent as a plain string (how most callers write it). */
function textOrBlocks(parts: Array<TextPart | ImagePart>): string | JsonObject[] {
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only?.type === "text" && only.cacheControl === undefined) return only.text;
  return parts.map((p) => (p.type === "text" ? encodeText(p) : encodeImage(p)));
}

function encodePart(part: ContentPart, role: Message["role"], param: string): JsonObject | undefined {
  switch (part.type) {
    case "text":
      return encodeText(part);
    case "image":
      return encodeImage(part);
    case "file":
      return encodeFile(part, param);
    case "tool_call":
      return { type: "tool_use", id: part.id, name: part.name, input: parseToolArguments(part.arguments, `${param}.arguments`) };
    case "tool_result": {
      const block: JsonObject = { type: "tool_result", tool_use_id: part.toolCallId };
      if (part.content.length > 0) block.content = textOrBlocks(part.content);
      if (part.isError) block.is_error = true;
      return { ...block, ...cacheField(part.cacheControl) };
    }
    case "reasoning":
      // Anthropic only accepts its own signed thinking back, and only from the assistant.
      if (role !== "assistant") return undefined;
      if (part.redactedData !== undefined) return { type: "redacted_thinking", data: part.redactedData };
      if (part.signature === undefined) return undefined;
      return { type: "thinking", thinking: part.text, signature: part.signature };
  }
}

function encodeMessages(messages: Message[]): JsonObject[] {
  const out: JsonObject[] = [];
  messages.forEach((msg, i) => {
    if (msg.role === "system") {
      out.push({ role: "system", content: textOrBlocks(msg.content) });
      return;
    }
    const blocks: JsonObject[] = [];
    msg.content.forEach((part, j) => {
      const block = encodePart(part, msg.role, `messages[${i}].content[${j}]`);
      if (block) blocks.push(block);
    });
    // A turn left empty (it held only parts Anthropic cannot take) would be rejected: skip it.
    if (blocks.length === 0 && msg.content.length > 0) return;
    // Anthropic requires tool_result blocks to come first in a user turn.
    if (msg.role === "user") blocks.sort((a, b) => Number(b.type === "tool_result") - Number(a.type === "tool_result"));
    const only = blocks.length === 1 ? blocks[0] : undefined;
    const content: JsonValue = only?.type === "text" && only.cache_control === undefined ? (only.text as string) : blocks;
    out.push({ role: msg.role, content });
  });
  return out;
}

function encodeToolChoice(choice: ToolChoice | undefined, parallel: boolean | undefined): JsonObject | undefined {
  let out: JsonObject | undefined;
  if (choice?.type === "auto") out = { type: "auto" };
  else if (choice?.type === "required") out = { type: "any" };
  else if (choice?.type === "none") out = { type: "none" };
  else if (choice?.type === "tool") out = { type: "tool", name: choice.name };
  if (parallel === false) out = { ...(out ?? { type: "auto" }), disable_parallel_tool_use: true };
  return out;
}

function encodeThinking(reasoning: ReasoningConfig | undefined, maxTokens: number): JsonObject | undefined {
  if (!reasoning) return undefined;
  if (reasoning.enabled === false) return { type: "disabled" };
  let budget = reasoning.budgetTokens ?? (reasoning.effort ? ANTHROPIC_EFFORT_BUDGETS[reasoning.effort] : undefined);
  if (budget === undefined && reasoning.enabled !== true) return undefined;
  budget ??= ANTHROPIC_EFFORT_BUDGETS.medium;
  // Anthropic requires MIN_THINKING_BUDGET <= budget_tokens < max_tokens.
  budget = Math.min(budget, maxTokens - 1);
  return budget < MIN_THINKING_BUDGET ? undefined : { type: "enabled", budget_tokens: budget };
}

function withoutEffort(reasoning: ReasoningConfig): ReasoningConfig {
  const { effort: _effort, ...rest } = reasoning;
  return rest;
}

export function encodeRequest(request: CanonicalRequest, options: EncodeRequestOptions): UpstreamRequest {
  const maxTokens = request.maxTokens ?? options.defaultMaxTokens ?? ANTHROPIC_FALLBACK_MAX_TOKENS;
  const body: JsonObject = { model: options.model, max_tokens: maxTokens };
  if (request.system && request.system.length > 0) {
    const system = textOrBlocks(request.system);
    body.system = system;
  }
  body.messages = encodeMessages(request.messages);
  if (request.tools && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => {
      const out: JsonObject = { name: tool.name };
      if (tool.description !== undefined) out.description = tool.description;
      // Anthropic requires an object schema; a parameterless tool may arrive with `{}`.
      out.input_schema = tool.parameters.type === undefined ? { type: "object", ...tool.parameters } : tool.parameters;
      if (tool.strict !== undefined) out.strict = tool.strict;
      return { ...out, ...cacheField(tool.cacheControl) };
    });
    const toolChoice = encodeToolChoice(request.toolChoice, request.parallelToolCalls);
    if (toolChoice) body.tool_choice = toolChoice;
  }
  if (request.stop && request.stop.length > 0) body.stop_sequences = request.stop;
  // Anthropic rejects extended thinking together with forced tool use, so a forced tool wins
  // (the caller's explicit choice), and with sampling changes, so thinking drops temperature and
  // top_k, and a top_p below 0.95.
  const forcedTool = body.tool_choice !== undefined && ["any", "tool"].includes(String((body.tool_choice as JsonObject).type));
  // From an Anthropic caller, its own thinking and effort fields go as written (see decodeExtensions):
  // no budget is made up from an effort Anthropic understands natively.
  const native = request.extensions?.protocol === "anthropic" ? request.extensions.fields : undefined;
  const nativeEffort = isRecord(native?.output_config) && native.output_config.effort !== undefined;
  const reasoning = nativeEffort && request.reasoning ? withoutEffort(request.reasoning) : request.reasoning;
  const thinking = forcedTool ? undefined : isRecord(native?.thinking) ? native.thinking : encodeThinking(reasoning, maxTokens);
  const thinkingOn = thinking?.type === "enabled" || thinking?.type === "adaptive";
  if (request.temperature !== undefined && !thinkingOn) body.temperature = request.temperature;
  if (request.topP !== undefined && (!thinkingOn || request.topP >= 0.95)) body.top_p = request.topP;
  if (request.topK !== undefined && !thinkingOn) body.top_k = request.topK;
  if (thinking) body.thinking = thinking;
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  if (request.responseFormat?.type === "json_schema") {
    body.output_config = { format: { type: "json_schema", schema: closeObjectSchemas(request.responseFormat.schema) as JsonObject } };
  }
  if (request.stream) body.stream = true;
  if (request.extensions?.protocol === "anthropic") {
    // What canonical modeled wins (hooks may have changed it); the rest goes as the caller sent it.
    for (const [key, value] of Object.entries(request.extensions.fields)) {
      if (key === "output_config") body.output_config = { ...(value as JsonObject), ...(body.output_config as JsonObject | undefined) };
      else if (!(key in body)) body[key] = value;
    }
  }
  return { path: "/v1/messages", body, headers: { "anthropic-version": ANTHROPIC_VERSION } };
}

/**
 * Anthropic's structured outputs reject every object schema that does not set
 * `additionalProperties: false` (400 "must be explicitly set to false"), which OpenAI non-strict
 * and Gemini schemas usually omit: set it on each object (sub)schema, keeping key order.
 */
function closeObjectSchemas(schema: JsonValue): JsonValue {
  if (Array.isArray(schema)) return schema.map(closeObjectSchemas);
  if (!isRecord(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if ((key === "properties" || key === "$defs" || key === "definitions") && isRecord(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, closeObjectSchemas(sub)]));
    } else if (["items", "prefixItems", "anyOf", "oneOf", "allOf", "not"].includes(key)) {
      out[key] = closeObjectSchemas(value);
    } else {
      out[key] = value;
    }
  }
  const type = schema.type;
  if (type === "object" || (Array.isArray(type) && type.includes("object")) || isRecord(schema.properties)) out.additionalProperties = false;
  return out;
}
