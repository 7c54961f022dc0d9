/**
 * Anthropic Messages API codec (`POST /v1/messages`, `anthropic-version: 2023-06-01`).
 * What Anthropic cannot express, and what other protocols cannot express of it, is listed in
 * docs/protocol-mapping.md.
 */
import type {
  CacheControl,
  CanonicalRequest,
  CanonicalResponse,
  ContentPart,
  ErrorInfo,
  ErrorKind,
  FilePart,
  ImagePart,
  JsonObject,
  JsonValue,
  MediaSource,
  Message,
  ReasoningConfig,
  ReasoningEffort,
  StopReason,
  StreamEvent,
  TextPart,
  ToolChoice,
  ToolDefinition,
  ToolResultPart,
  Usage,
} from "@bitrouter/core";
import type { Codec, EncodeRequestOptions, SseEvent, StreamDecoder, StreamEncoder, UpstreamRequest } from "../codec.js";
import { STATUS_BY_KIND, invalidRequest } from "@bitrouter/core";
import {
  describeUnknownErrorBody,
  formatSse,
  isRecord,
  kindFromStatus,
  nowSeconds,
  optionalBoolean,
  optionalNumber,
  optionalString,
  optionalStringArray,
  parseToolArguments,
  redactSecrets,
  requireArray,
  requireRecord,
  requireString,
} from "../protocols/util.js";

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

function decodeRequest(body: unknown): CanonicalRequest {
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
  const only = parts[0];
  if (parts.length === 1 && only.type === "text" && only.cacheControl === undefined) return only.text;
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
    const first = blocks[0];
    const content: JsonValue = blocks.length === 1 && first.type === "text" && first.cache_control === undefined ? (first.text as string) : blocks;
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

function encodeRequest(request: CanonicalRequest, options: EncodeRequestOptions): UpstreamRequest {
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

// ── Responses ─────────────────────────────────────────────────────────────────────────────────

const STOP_FROM_ANTHROPIC: Record<string, StopReason> = {
  end_turn: "stop",
  max_tokens: "length",
  stop_sequence: "stop_sequence",
  tool_use: "tool_calls",
  pause_turn: "stop",
  refusal: "content_filter",
  model_context_window_exceeded: "length",
};

const STOP_TO_ANTHROPIC: Record<StopReason, string> = {
  stop: "end_turn",
  length: "max_tokens",
  stop_sequence: "stop_sequence",
  tool_calls: "tool_use",
  content_filter: "refusal",
  error: "end_turn",
};

/** Anthropic usage fields (possibly partial, as in a message_delta) as canonical usage. */
function decodeUsage(u: Record<string, unknown>): Usage {
  const num = (v: unknown): number => (typeof v === "number" ? v : 0);
  const cacheRead = num(u.cache_read_input_tokens);
  const cacheWrite = num(u.cache_creation_input_tokens);
  const usage: Usage = { inputTokens: num(u.input_tokens) + cacheRead + cacheWrite, outputTokens: num(u.output_tokens) };
  if (cacheRead > 0) usage.cacheReadTokens = cacheRead;
  if (cacheWrite > 0) usage.cacheWriteTokens = cacheWrite;
  const thinking = isRecord(u.output_tokens_details) ? num(u.output_tokens_details.thinking_tokens) : 0;
  if (thinking > 0) usage.reasoningTokens = thinking;
  return usage;
}

function encodeUsage(usage: Usage): JsonObject {
  const cacheRead = usage.cacheReadTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const out: JsonObject = {
    input_tokens: Math.max(0, usage.inputTokens - cacheRead - cacheWrite),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
  };
  if (usage.reasoningTokens !== undefined) out.output_tokens_details = { thinking_tokens: usage.reasoningTokens };
  return out;
}

/** Tool input for a response we serve: arguments a model produced may be malformed; never fail the answer for it. */
function responseToolInput(args: string): JsonObject {
  try {
    const parsed: unknown = args.trim() === "" ? {} : JSON.parse(args);
    return isRecord(parsed) ? (parsed as JsonObject) : {};
  } catch {
    return {};
  }
}

function encodeResponse(response: CanonicalResponse): JsonObject {
  const content: JsonObject[] = [];
  for (const part of response.content) {
    if (part.type === "text") content.push({ type: "text", text: part.text });
    else if (part.type === "tool_call") content.push({ type: "tool_use", id: part.id, name: part.name, input: responseToolInput(part.arguments) });
    else if (part.type === "reasoning") {
      if (part.redactedData !== undefined) content.push({ type: "redacted_thinking", data: part.redactedData });
      else content.push({ type: "thinking", thinking: part.text, signature: part.signature ?? "" });
    }
  }
  return {
    id: response.id,
    type: "message",
    role: "assistant",
    model: response.model,
    content,
    stop_reason: STOP_TO_ANTHROPIC[response.stopReason],
    stop_sequence: response.stopSequence ?? null,
    usage: encodeUsage(response.usage),
  };
}

function decodeResponse(body: unknown): CanonicalResponse {
  const b = requireRecord(body, "response");
  const content: ContentPart[] = [];
  requireArray(b.content, "response.content").forEach((item, i) => {
    const block = requireRecord(item, `response.content[${i}]`);
    if (block.type === "text") content.push({ type: "text", text: requireString(block.text, `response.content[${i}].text`) });
    else if (block.type === "tool_use") {
      content.push({
        type: "tool_call",
        id: requireString(block.id, `response.content[${i}].id`),
        name: requireString(block.name, `response.content[${i}].name`),
        arguments: typeof block.input === "string" ? block.input : JSON.stringify(block.input ?? {}),
      });
    } else if (block.type === "thinking") {
      const part: ContentPart = { type: "reasoning", text: typeof block.thinking === "string" ? block.thinking : "" };
      if (typeof block.signature === "string" && block.signature !== "") part.signature = block.signature;
      content.push(part);
    } else if (block.type === "redacted_thinking") {
      content.push({ type: "reasoning", text: "", redactedData: typeof block.data === "string" ? block.data : "" });
    }
    // Server-tool blocks (server_tool_use, web_search_tool_result, ...) have no canonical form: dropped.
  });
  const response: CanonicalResponse = {
    id: typeof b.id === "string" ? b.id : "",
    model: typeof b.model === "string" ? b.model : "",
    created: nowSeconds(),
    content,
    stopReason: STOP_FROM_ANTHROPIC[String(b.stop_reason)] ?? "stop",
    usage: anthropicResponseUsage(b.usage),
  };
  if (typeof b.stop_sequence === "string") response.stopSequence = b.stop_sequence;
  return response;
}

// ── Errors ────────────────────────────────────────────────────────────────────────────────────

const ERROR_TYPE_BY_KIND: Record<ErrorKind, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  payment_required: "billing_error",
  permission: "permission_error",
  not_found: "not_found_error",
  payload_too_large: "request_too_large",
  rate_limit: "rate_limit_error",
  guardrail: "invalid_request_error",
  upstream: "api_error",
  timeout: "timeout_error",
  overloaded: "overloaded_error",
  internal: "api_error",
};

const KIND_BY_ERROR_TYPE: Record<string, ErrorKind> = {
  invalid_request_error: "invalid_request",
  authentication_error: "authentication",
  billing_error: "payment_required",
  permission_error: "permission",
  not_found_error: "not_found",
  request_too_large: "payload_too_large",
  rate_limit_error: "rate_limit",
  api_error: "upstream",
  timeout_error: "timeout",
  overloaded_error: "overloaded",
};

function errorBody(error: ErrorInfo): { type: string; status: number } {
  // Anthropic answers overload with its own 529; a guardrail block on 403 reads as a permission error.
  if (error.kind === "overloaded") return { type: "overloaded_error", status: 529 };
  if (error.kind === "guardrail" && error.status === 403) return { type: "permission_error", status: 403 };
  return { type: ERROR_TYPE_BY_KIND[error.kind], status: error.status };
}

function encodeError(error: ErrorInfo): { status: number; body: JsonObject } {
  const { type, status } = errorBody(error);
  return { status, body: { type: "error", error: { type, message: error.message } } };
}

function decodeError(status: number, body: unknown): ErrorInfo {
  const err = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const type = typeof err?.type === "string" ? err.type : undefined;
  const kind = (type && KIND_BY_ERROR_TYPE[type]) || kindFromStatus(status);
  const message = redactSecrets(typeof err?.message === "string" ? err.message : describeUnknownErrorBody(status, body));
  return { kind, message, status: kind === "overloaded" ? 503 : STATUS_BY_KIND[kind] };
}

// ── Stream encoder: canonical events -> Anthropic SSE ────────────────────────────────────────

type BlockKind = "text" | "thinking" | "tool_use";

/** One canonical output part on its way to the client: deltas wait here while another block is open. */
interface PendingPart {
  kind: BlockKind;
  /** Text deltas, JSON fragments or thinking deltas not yet sent. */
  chunks: Array<{ type: "delta"; text: string } | { type: "signature"; signature: string }>;
  id?: string;
  name?: string;
  redactedData?: string;
  ended: boolean;
}

class AnthropicStreamEncoder implements StreamEncoder {
  private start?: { id: string; model: string };
  private messageStarted = false;
  private done = false;
  private usage?: Usage;
  /** Parts by canonical index, in order of first appearance. */
  private readonly parts = new Map<number, PendingPart>();
  private readonly waiting: number[] = [];
  private open?: { index: number; block: number };
  private nextBlock = 0;
  /** Text/thinking parts closed early (another part started); later deltas continue in a new block. */
  private readonly closedEarly = new Set<number>();

  encode(event: StreamEvent): string {
    if (this.done) return "";
    switch (event.type) {
      case "start":
        this.start = { id: event.id, model: event.model };
        return "";
      case "usage":
        this.usage = event.usage;
        return this.messageStart();
      case "text_delta":
        return this.messageStart() + this.delta(event.index, "text", { type: "delta", text: event.text });
      case "reasoning_delta":
        return this.messageStart() + this.delta(event.index, "thinking", { type: "delta", text: event.text });
      case "reasoning_signature":
        return this.messageStart() + this.signature(event.index, event.signature, event.redactedData);
      case "tool_call_start": {
        let out = this.messageStart();
        out += this.softClose(event.index);
        const part = this.part(event.index, "tool_use");
        part.id = event.id;
        part.name = event.name;
        return out + this.pump();
      }
      case "tool_call_delta":
        return this.messageStart() + this.delta(event.index, "tool_use", { type: "delta", text: event.argumentsDelta });
      case "part_end": {
        const part = this.parts.get(event.index);
        if (part) part.ended = true;
        return this.pump();
      }
      case "finish": {
        if (event.usage) this.usage = event.usage;
        let out = this.messageStart() + this.flushAll();
        const usage = this.usage ?? { inputTokens: 0, outputTokens: 0 };
        out += formatSse(
          {
            type: "message_delta",
            delta: { stop_reason: STOP_TO_ANTHROPIC[event.stopReason], stop_sequence: event.stopSequence ?? null },
            usage: encodeUsage(usage),
          },
          "message_delta",
        );
        out += formatSse({ type: "message_stop" }, "message_stop");
        this.done = true;
        return out;
      }
      case "error": {
        this.done = true;
        return this.messageStart() + this.errorEvent(event.error);
      }
    }
  }

  end(): string {
    if (this.done) return "";
    this.done = true;
    // No finish and no error: the stream was cut short. Say so rather than end like a success.
    return this.messageStart() + this.errorEvent({ kind: "upstream", message: "stream ended early", status: 502 });
  }

  private errorEvent(error: ErrorInfo): string {
    return formatSse({ type: "error", error: { type: errorBody(error).type, message: error.message } }, "error");
  }

  private messageStart(): string {
    if (this.messageStarted) return "";
    this.messageStarted = true;
    const start = this.start ?? { id: "msg_bitrouter", model: "" };
    const usage = encodeUsage(this.usage ?? { inputTokens: 0, outputTokens: 0 });
    return formatSse(
      {
        type: "message_start",
        message: { id: start.id, type: "message", role: "assistant", model: start.model, content: [], stop_reason: null, stop_sequence: null, usage },
      },
      "message_start",
    );
  }

  private part(index: number, kind: BlockKind): PendingPart {
    let part = this.parts.get(index);
    if (!part) {
      part = { kind, chunks: [], ended: false };
      this.parts.set(index, part);
      this.waiting.push(index);
    }
    return part;
  }

  private delta(index: number, kind: BlockKind, chunk: PendingPart["chunks"][number]): string {
    const out = this.prepare(index, kind);
    this.part(index, kind).chunks.push(chunk);
    return out + this.pump();
  }

  private signature(index: number, signature: string | undefined, redactedData: string | undefined): string {
    const out = this.prepare(index, "thinking");
    const part = this.part(index, "thinking");
    if (redactedData !== undefined) part.redactedData = redactedData;
    if (signature !== undefined) part.chunks.push({ type: "signature", signature });
    return out + this.pump();
  }

  /** Before an event for `index`: close a finished-looking open block, or reopen a part closed early. */
  private prepare(index: number, kind: BlockKind): string {
    const out = this.parts.has(index) ? "" : this.softClose(index);
    if (this.closedEarly.delete(index)) {
      // More deltas for a block we closed early: they continue in a fresh block of the same kind.
      this.parts.set(index, { kind, chunks: [], ended: false });
      this.waiting.push(index);
    }
    return out;
  }

  /**
   * A new part is starting: an open text or thinking block is most likely complete (protocols like
   * OpenAI chat never say so), so close it and let the new part stream instead of waiting for finish.
   * Tool-use blocks stay open: their JSON cannot be split across blocks.
   */
  private softClose(newIndex: number): string {
    const open = this.open;
    if (!open || open.index === newIndex) return "";
    const part = this.parts.get(open.index);
    if (!part || part.kind === "tool_use" || part.redactedData !== undefined) return "";
    this.closedEarly.add(open.index);
    part.ended = true;
    return this.pump();
  }

  /** Sends whatever can be sent now without two blocks ever being open at once. */
  private pump(): string {
    let out = "";
    for (;;) {
      if (!this.open) {
        const next = this.waiting.shift();
        if (next === undefined) return out;
        out += this.openBlock(next);
      }
      const open = this.open!;
      const part = this.parts.get(open.index)!;
      out += this.drain(part, open.block);
      if (!part.ended) return out;
      out += formatSse({ type: "content_block_stop", index: open.block }, "content_block_stop");
      this.open = undefined;
    }
  }

  private openBlock(index: number): string {
    const part = this.parts.get(index)!;
    const block = this.nextBlock++;
    this.open = { index, block };
    let contentBlock: JsonObject;
    if (part.kind === "tool_use") contentBlock = { type: "tool_use", id: part.id ?? `toolu_${index}`, name: part.name ?? "", input: {} };
    else if (part.kind === "thinking" && part.redactedData !== undefined && part.chunks.length === 0) {
      contentBlock = { type: "redacted_thinking", data: part.redactedData };
      part.ended = true;
    } else if (part.kind === "thinking") contentBlock = { type: "thinking", thinking: "", signature: "" };
    else contentBlock = { type: "text", text: "" };
    return formatSse({ type: "content_block_start", index: block, content_block: contentBlock }, "content_block_start");
  }

  private drain(part: PendingPart, block: number): string {
    let out = "";
    for (const chunk of part.chunks) {
      let delta: JsonObject;
      if (chunk.type === "signature") delta = { type: "signature_delta", signature: chunk.signature };
      else if (part.kind === "text") delta = { type: "text_delta", text: chunk.text };
      else if (part.kind === "thinking") delta = { type: "thinking_delta", thinking: chunk.text };
      else delta = { type: "input_json_delta", partial_json: chunk.text };
      out += formatSse({ type: "content_block_delta", index: block, delta }, "content_block_delta");
    }
    part.chunks = [];
    return out;
  }

  /** At finish every part is complete: close the open block and send the waiting ones in order. */
  private flushAll(): string {
    for (const part of this.parts.values()) part.ended = true;
    return this.pump();
  }
}

// ── Stream decoder: Anthropic SSE -> canonical events ────────────────────────────────────────

class AnthropicStreamDecoder implements StreamDecoder {
  private started = false;
  private finished = false;
  /** Anthropic block index -> canonical part index, for the block kinds BitRouter carries. */
  private readonly blocks = new Map<number, { index: number; kind: string; sawArguments: boolean }>();
  private nextIndex = 0;
  private usageFields: Record<string, unknown> = {};
  private stopReason: StopReason = "stop";
  private stopSequence?: string;

  decode(event: SseEvent): StreamEvent[] {
    if (this.finished) return [];
    let data: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(event.data);
      data = isRecord(parsed) ? parsed : {};
    } catch {
      return this.fail({ kind: "upstream", message: `upstream sent an invalid stream event: ${event.data.slice(0, 100)}`, status: 502 });
    }
    const type = typeof data.type === "string" ? data.type : event.event;
    if (type === "ping") return [];
    if (type === "error") {
      const err = isRecord(data.error) ? data.error : {};
      const kind = (typeof err.type === "string" && KIND_BY_ERROR_TYPE[err.type]) || "upstream";
      const message = typeof err.message === "string" ? redactSecrets(err.message) : "upstream stream error";
      return this.fail({ kind, message, status: kind === "overloaded" ? 503 : STATUS_BY_KIND[kind] });
    }
    const out: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      const message = type === "message_start" && isRecord(data.message) ? data.message : {};
      out.push({
        type: "start",
        id: typeof message.id === "string" ? message.id : "",
        model: typeof message.model === "string" ? message.model : "",
        created: nowSeconds(),
      });
      if (isRecord(message.usage)) {
        this.usageFields = { ...message.usage };
        out.push({ type: "usage", usage: decodeUsage(this.usageFields) });
      }
      if (type === "message_start") return out;
    }
    switch (type) {
      case "content_block_start":
        out.push(...this.blockStart(data));
        break;
      case "content_block_delta":
        out.push(...this.blockDelta(data));
        break;
      case "content_block_stop": {
        const block = this.blocks.get(Number(data.index));
        if (block) {
          if (block.kind === "tool_use" && !block.sawArguments) out.push({ type: "tool_call_delta", index: block.index, argumentsDelta: "{}" });
          out.push({ type: "part_end", index: block.index });
          this.blocks.delete(Number(data.index));
        }
        break;
      }
      case "message_delta": {
        const delta = isRecord(data.delta) ? data.delta : {};
        if (typeof delta.stop_reason === "string") this.stopReason = STOP_FROM_ANTHROPIC[delta.stop_reason] ?? "stop";
        if (typeof delta.stop_sequence === "string") this.stopSequence = delta.stop_sequence;
        if (isRecord(data.usage)) {
          for (const [key, value] of Object.entries(data.usage)) if (value !== null && value !== undefined) this.usageFields[key] = value;
          out.push({ type: "usage", usage: decodeUsage(this.usageFields) });
        }
        break;
      }
      case "message_stop": {
        this.finished = true;
        const finish: StreamEvent = { type: "finish", stopReason: this.stopReason, usage: decodeUsage(this.usageFields) };
        if (this.stopSequence !== undefined) finish.stopSequence = this.stopSequence;
        out.push(finish);
        break;
      }
    }
    return out;
  }

  end(): StreamEvent[] {
    if (this.finished) return [];
    return this.fail({ kind: "upstream", message: "stream ended early", status: 502 });
  }

  private fail(error: ErrorInfo): StreamEvent[] {
    this.finished = true;
    const out: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      out.push({ type: "start", id: "", model: "", created: nowSeconds() });
    }
    out.push({ type: "error", error });
    return out;
  }

  private blockStart(data: Record<string, unknown>): StreamEvent[] {
    const block = isRecord(data.content_block) ? data.content_block : {};
    const kind = String(block.type);
    if (kind !== "text" && kind !== "thinking" && kind !== "redacted_thinking" && kind !== "tool_use") return [];
    const index = this.nextIndex++;
    this.blocks.set(Number(data.index), { index, kind, sawArguments: false });
    if (kind === "tool_use") {
      const events: StreamEvent[] = [{ type: "tool_call_start", index, id: String(block.id ?? ""), name: String(block.name ?? "") }];
      if (isRecord(block.input) && Object.keys(block.input).length > 0) {
        this.blocks.get(Number(data.index))!.sawArguments = true;
        events.push({ type: "tool_call_delta", index, argumentsDelta: JSON.stringify(block.input) });
      }
      return events;
    }
    if (kind === "redacted_thinking") return [{ type: "reasoning_signature", index, redactedData: String(block.data ?? "") }];
    if (kind === "text" && typeof block.text === "string" && block.text !== "") return [{ type: "text_delta", index, text: block.text }];
    if (kind === "thinking" && typeof block.thinking === "string" && block.thinking !== "") {
      return [{ type: "reasoning_delta", index, text: block.thinking }];
    }
    return [];
  }

  private blockDelta(data: Record<string, unknown>): StreamEvent[] {
    const block = this.blocks.get(Number(data.index));
    const delta = isRecord(data.delta) ? data.delta : {};
    if (!block) return [];
    switch (delta.type) {
      case "text_delta":
        return typeof delta.text === "string" && delta.text !== "" ? [{ type: "text_delta", index: block.index, text: delta.text }] : [];
      case "thinking_delta":
        return typeof delta.thinking === "string" && delta.thinking !== "" ? [{ type: "reasoning_delta", index: block.index, text: delta.thinking }] : [];
      case "signature_delta":
        return typeof delta.signature === "string" ? [{ type: "reasoning_signature", index: block.index, signature: delta.signature }] : [];
      case "input_json_delta":
        if (typeof delta.partial_json !== "string" || delta.partial_json === "") return [];
        block.sawArguments = true;
        return [{ type: "tool_call_delta", index: block.index, argumentsDelta: delta.partial_json }];
      default:
        return []; // citations_delta and future delta types carry nothing canonical
    }
  }
}

function anthropicResponseUsage(value: unknown): Usage {
  return decodeUsage(isRecord(value) ? value : {});
}

export const anthropicCodec: Codec = {
  protocol: "anthropic",
  decodeRequest: (body) => decodeRequest(body),
  encodeResponse: (response) => encodeResponse(response),
  createStreamEncoder: () => new AnthropicStreamEncoder(),
  encodeError,
  encodeRequest,
  decodeResponse,
  responseUsage: { field: "usage", decode: anthropicResponseUsage },
  createStreamDecoder: () => new AnthropicStreamDecoder(),
  decodeError,
};
