/**
 * OpenAI Chat Completions (`POST {base}/chat/completions`) <-> canonical.
 *
 * Lossy spots are listed in docs/protocol-mapping.md ("OpenAI codecs"). The validation helpers at
 * the top are shared with the Responses codec (openai-responses.ts).
 */
import type {
  CanonicalRequest,
  CanonicalResponse,
  ContentPart,
  ErrorInfo,
  ErrorKind,
  FilePart,
  ImagePart,
  JsonObject,
  JsonValue,
  Message,
  ReasoningConfig,
  ResponseFormat,
  StopReason,
  StreamEvent,
  TextPart,
  ToolChoice,
  ToolDefinition,
  ToolResultPart,
  Usage,
  UserMessage,
} from "@bitrouter/core";
import type { Codec, DecodeRequestOptions, EncodeRequestOptions, SseEvent, StreamDecoder, StreamEncoder, UpstreamRequest } from "../codec.js";
import { BitrouterError, STATUS_BY_KIND, invalidRequest } from "@bitrouter/core";
import {
  describeUnknownErrorBody,
  formatSse,
  isRecord,
  kindFromStatus,
  mediaSourceFromUrl,
  mediaSourceToUrl,
  normalizeArguments,
  optionalBoolean,
  optionalNumber,
  optionalString,
  parseDataUrl,
  redactSecrets,
  requireArray,
  requireRecord,
  requireString,
} from "./util.js";

// ── validation helpers (shared with openai-responses.ts) ─────────────────────────────────────

/** @internal */
export function optInteger(v: unknown, param: string): number | undefined {
  const n = optionalNumber(v, param);
  if (n !== undefined && !Number.isInteger(n)) throw invalidRequest(`${param} must be an integer, got ${n}`, param);
  return n;
}

/** @internal A JSON Schema object (missing -> the empty-object schema OpenAI assumes). */
export function schemaObject(v: unknown, param: string): JsonObject {
  if (v === undefined || v === null) return { type: "object", properties: {} };
  return requireRecord(v, param) as JsonObject;
}

const EFFORTS = new Set(["minimal", "low", "medium", "high"]);

/** @internal OpenAI `reasoning_effort` / `reasoning.effort`; "none" disables, "xhigh" is the top level we have. */
export function decodeEffort(v: unknown, param: string): ReasoningConfig | undefined {
  const effort = optionalString(v, param);
  if (effort === undefined) return undefined;
  if (effort === "none") return { enabled: false };
  if (effort === "xhigh") return { effort: "high" };
  if (!EFFORTS.has(effort)) throw invalidRequest(`${param} must be one of none, minimal, low, medium, high, xhigh; got "${effort}"`, param);
  return { effort: effort as ReasoningConfig["effort"] & string };
}

/** @internal A file's media type when the wire gave raw base64 without a data URL. */
export function fileMediaType(filename: string | undefined): string {
  return filename?.toLowerCase().endsWith(".pdf") ? "application/pdf" : "application/octet-stream";
}

/** @internal A base64 file payload: a data URL, or bare base64 (media type from the file name). */
export function fileDataSource(data: string, filename: string | undefined): FilePart["source"] {
  const parsed = parseDataUrl(data);
  return parsed ? { kind: "base64", mediaType: parsed.mediaType, data: parsed.data } : { kind: "base64", mediaType: fileMediaType(filename), data };
}

/** @internal A malformed upstream answer. */
export function upstreamMalformed(message: string): BitrouterError {
  return new BitrouterError({ kind: "upstream", message: `upstream sent a malformed response: ${message}` });
}

// ── errors ────────────────────────────────────────────────────────────────────────────────────

/** OpenAI's error `type` string for each kind (both OpenAI codecs use the same table). */
export const OPENAI_ERROR_TYPE: Record<ErrorKind, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  not_found: "not_found_error",
  payload_too_large: "invalid_request_error",
  rate_limit: "rate_limit_error",
  payment_required: "insufficient_quota",
  guardrail: "invalid_request_error",
  upstream: "server_error",
  timeout: "timeout_error",
  overloaded: "server_error",
  internal: "server_error",
};

/** Codes filled in when an error carries none, so clients can tell apart kinds sharing a type. */
const DEFAULT_CODE: Partial<Record<ErrorKind, string>> = {
  authentication: "invalid_api_key",
  payload_too_large: "request_too_large",
  rate_limit: "rate_limit_exceeded",
  payment_required: "insufficient_quota",
  guardrail: "content_policy_violation",
  overloaded: "overloaded",
  upstream: "upstream_error",
  timeout: "timeout",
};

const KIND_BY_TYPE: Record<string, ErrorKind> = {
  invalid_request_error: "invalid_request",
  authentication_error: "authentication",
  permission_error: "permission",
  not_found_error: "not_found",
  rate_limit_error: "rate_limit",
  requests: "rate_limit",
  tokens: "rate_limit",
  insufficient_quota: "payment_required",
  server_error: "upstream",
  api_error: "upstream",
  timeout_error: "timeout",
  overloaded_error: "overloaded",
  // codes, for in-stream errors whose type says nothing (Responses `error` events)
  rate_limit_exceeded: "rate_limit",
  invalid_api_key: "authentication",
  model_not_found: "not_found",
  context_length_exceeded: "invalid_request",
  invalid_prompt: "invalid_request",
};

const kindByName = (name: string | undefined): ErrorKind | undefined =>
  name !== undefined && Object.hasOwn(KIND_BY_TYPE, name) ? KIND_BY_TYPE[name] : undefined;

/** @internal The `{message, type, param, code}` object of an OpenAI error body. */
export function openaiErrorObject(error: ErrorInfo): JsonObject {
  const code = error.code ?? DEFAULT_CODE[error.kind] ?? null;
  return { message: error.message, type: OPENAI_ERROR_TYPE[error.kind], param: error.param ?? null, code };
}

/** @internal OpenAI's error body and status for an error. */
export function encodeOpenAIError(error: ErrorInfo): { status: number; body: JsonObject } {
  return { status: error.status, body: { error: openaiErrorObject(error) } };
}

/**
 * @internal An OpenAI-shaped error answer (`{error: {message, type, param, code}}`) or anything else.
 * `status` 0 (or a success status) means "inside a stream": the kind then comes from the type string.
 */
export function decodeOpenAIError(status: number, body: unknown): ErrorInfo {
  const err = !isRecord(body)
    ? undefined
    : isRecord(body.error)
      ? body.error
      : typeof body.error === "string"
        ? { message: body.error } // some compatible servers send a bare string
        : typeof body.message === "string"
          ? body
          : undefined;
  if (!err) {
    const kind = status >= 400 ? kindFromStatus(status) : "upstream";
    return { kind, message: redactSecrets(describeUnknownErrorBody(status, body)), status: STATUS_BY_KIND[kind] };
  }
  const type = typeof err.type === "string" ? err.type : undefined;
  const code = typeof err.code === "string" ? err.code : undefined;
  const kind: ErrorKind = status >= 400 ? kindFromStatus(status) : (kindByName(type) ?? kindByName(code) ?? "upstream");
  const text = typeof err.message === "string" && err.message ? err.message : `upstream error (HTTP ${status})`;
  const info: ErrorInfo = { kind, message: redactSecrets(text), status: STATUS_BY_KIND[kind] };
  if (typeof err.param === "string") info.param = err.param;
  if (typeof err.code === "string" || typeof err.code === "number") info.code = String(err.code);
  return info;
}

// ── request: wire -> canonical ────────────────────────────────────────────────────────────────

/**
 * Anthropic-style `cache_control` on a content part: not OpenAI's, but the convention OpenAI-compatible
 * gateways accept so chat clients can use Anthropic prompt caching. Kept in canonical, never sent to OpenAI.
 */
function withCacheControl<T extends TextPart | ImagePart>(part: T, raw: Record<string, unknown>): T {
  const cc = raw.cache_control;
  if (isRecord(cc) && cc.type === "ephemeral") part.cacheControl = typeof cc.ttl === "string" ? { type: "ephemeral", ttl: cc.ttl } : { type: "ephemeral" };
  return part;
}

function contentArray(content: unknown, param: string): unknown[] {
  if (!Array.isArray(content))
    throw invalidRequest(`${param} must be a string or an array of content parts, got ${content === null ? "null" : typeof content}`, param);
  return content;
}

function textOnlyParts(content: unknown, param: string): TextPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return contentArray(content, param).map((raw, j) => {
    const p = requireRecord(raw, `${param}[${j}]`);
    if (p.type !== "text") throw invalidRequest(`${param}[${j}].type must be "text" here, got ${JSON.stringify(p.type)}`, `${param}[${j}].type`);
    return withCacheControl({ type: "text", text: requireString(p.text, `${param}[${j}].text`) }, p);
  });
}

function userParts(content: unknown, param: string): ContentPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return contentArray(content, param).map((raw, j): ContentPart => {
    const pp = `${param}[${j}]`;
    const p = requireRecord(raw, pp);
    switch (p.type) {
      case "text":
        return withCacheControl({ type: "text", text: requireString(p.text, `${pp}.text`) }, p);
      case "image_url": {
        // Some clients send the URL directly instead of {url, detail}.
        const img = typeof p.image_url === "string" ? { url: p.image_url } : requireRecord(p.image_url, `${pp}.image_url`);
        const part: ImagePart = { type: "image", source: mediaSourceFromUrl(requireString(img.url, `${pp}.image_url.url`)) };
        const detail = optionalString(img.detail, `${pp}.image_url.detail`);
        if (detail !== undefined) part.detail = detail;
        return withCacheControl(part, p);
      }
      case "file": {
        const f = requireRecord(p.file, `${pp}.file`);
        const filename = optionalString(f.filename, `${pp}.file.filename`);
        const fileId = optionalString(f.file_id, `${pp}.file.file_id`);
        const data = optionalString(f.file_data, `${pp}.file.file_data`);
        let part: FilePart;
        if (fileId !== undefined) part = { type: "file", source: { kind: "file_id", fileId } };
        else if (data !== undefined) {
          const source = fileDataSource(data, filename);
          part = { type: "file", source, mediaType: (source as { mediaType: string }).mediaType };
        } else throw invalidRequest(`${pp}.file needs file_id or file_data`, `${pp}.file`);
        if (filename !== undefined) part.filename = filename;
        return part;
      }
      case "input_audio":
        throw invalidRequest(`${pp}.type "input_audio" is not supported: audio input cannot be translated to other providers`, `${pp}.type`);
      default:
        throw invalidRequest(`${pp}.type must be text, image_url or file; got ${JSON.stringify(p.type)}`, `${pp}.type`);
    }
  });
}

function toolResultContent(content: unknown, param: string): Array<TextPart | ImagePart> {
  if (content === undefined || content === null) return [];
  return textOnlyParts(content, param);
}

function assistantParts(m: Record<string, unknown>, param: string, legacyIds: Map<string, string>): ContentPart[] {
  const parts: ContentPart[] = [];
  const content = m.content;
  if (typeof content === "string") {
    if (content !== "") parts.push({ type: "text", text: content });
  } else if (content !== undefined && content !== null) {
    requireArray(content, `${param}.content`).forEach((raw, j) => {
      const pp = `${param}.content[${j}]`;
      const p = requireRecord(raw, pp);
      if (p.type === "text") parts.push({ type: "text", text: requireString(p.text, `${pp}.text`) });
      else if (p.type === "refusal") parts.push({ type: "text", text: requireString(p.refusal, `${pp}.refusal`) });
      else throw invalidRequest(`${pp}.type must be text or refusal, got ${JSON.stringify(p.type)}`, `${pp}.type`);
    });
  }
  const refusal = optionalString(m.refusal, `${param}.refusal`);
  if (refusal) parts.push({ type: "text", text: refusal });
  if (m.tool_calls !== undefined && m.tool_calls !== null) {
    requireArray(m.tool_calls, `${param}.tool_calls`).forEach((raw, j) => {
      const pp = `${param}.tool_calls[${j}]`;
      const tc = requireRecord(raw, pp);
      if (tc.type !== undefined && tc.type !== "function") throw invalidRequest(`${pp}.type must be "function", got ${JSON.stringify(tc.type)}`, `${pp}.type`);
      const fn = requireRecord(tc.function, `${pp}.function`);
      parts.push({
        type: "tool_call",
        id: requireString(tc.id, `${pp}.id`),
        name: requireString(fn.name, `${pp}.function.name`),
        arguments: normalizeArguments(fn.arguments),
      });
    });
  }
  if (isRecord(m.function_call)) {
    // Legacy function calling has no call ids: synthesise one and pair the next `function` message with it.
    const name = requireString(m.function_call.name, `${param}.function_call.name`);
    const id = `call_legacy_${legacyIds.size}_${name}`;
    legacyIds.set(name, id);
    parts.push({ type: "tool_call", id, name, arguments: normalizeArguments(m.function_call.arguments) });
  }
  return parts;
}

function decodeMessages(raw: unknown, system: TextPart[]): Message[] {
  const list = requireArray(raw, "messages");
  if (list.length === 0) throw invalidRequest("messages must contain at least one message", "messages");
  const messages: Message[] = [];
  const legacyIds = new Map<string, string>();
  // Consecutive tool results merge into one user message (the canonical/Anthropic shape).
  let toolRun: UserMessage | undefined;
  const pushToolResult = (part: ToolResultPart): void => {
    if (toolRun) toolRun.content.push(part);
    else messages.push((toolRun = { role: "user", content: [part] }));
  };
  list.forEach((item, i) => {
    const p = `messages[${i}]`;
    const m = requireRecord(item, p);
    const role = m.role;
    if (role !== "tool" && role !== "function") toolRun = undefined;
    switch (role) {
      case "system":
      case "developer":
        // Wherever it appears, an instruction message becomes canonical system text (in order).
        system.push(...textOnlyParts(m.content, `${p}.content`));
        break;
      case "user":
        messages.push({ role: "user", content: userParts(m.content, `${p}.content`) });
        break;
      case "assistant":
        messages.push({ role: "assistant", content: assistantParts(m, p, legacyIds) });
        break;
      case "tool":
        pushToolResult({
          type: "tool_result",
          toolCallId: requireString(m.tool_call_id, `${p}.tool_call_id`),
          content: toolResultContent(m.content, `${p}.content`),
        });
        break;
      case "function": {
        const name = requireString(m.name, `${p}.name`);
        pushToolResult({
          type: "tool_result",
          toolCallId: legacyIds.get(name) ?? `call_legacy_${name}`,
          name,
          content: toolResultContent(m.content, `${p}.content`),
        });
        break;
      }
      default:
        throw invalidRequest(`${p}.role must be system, developer, user, assistant, tool or function; got ${JSON.stringify(role)}`, `${p}.role`);
    }
  });
  return messages;
}

function decodeTools(b: Record<string, unknown>): ToolDefinition[] | undefined {
  if (b.tools !== undefined && b.tools !== null) {
    return requireArray(b.tools, "tools").map((raw, i) => {
      const t = requireRecord(raw, `tools[${i}]`);
      if (t.type !== "function")
        throw invalidRequest(`tools[${i}].type must be "function", got ${JSON.stringify(t.type)}: only function tools can be translated`, `tools[${i}].type`);
      const fn = requireRecord(t.function, `tools[${i}].function`);
      return toolDefinition(fn, `tools[${i}].function`);
    });
  }
  if (b.functions !== undefined && b.functions !== null) {
    return requireArray(b.functions, "functions").map((raw, i) => toolDefinition(requireRecord(raw, `functions[${i}]`), `functions[${i}]`));
  }
  return undefined;
}

/** @internal `{name, description, parameters, strict}` of a function tool. */
export function toolDefinition(fn: Record<string, unknown>, param: string): ToolDefinition {
  const tool: ToolDefinition = { name: requireString(fn.name, `${param}.name`), parameters: schemaObject(fn.parameters, `${param}.parameters`) };
  const description = optionalString(fn.description, `${param}.description`);
  if (description !== undefined) tool.description = description;
  const strict = optionalBoolean(fn.strict, `${param}.strict`);
  if (strict !== undefined) tool.strict = strict;
  return tool;
}

function decodeToolChoice(b: Record<string, unknown>): ToolChoice | undefined {
  const tc = b.tool_choice ?? b.function_call;
  const param = b.tool_choice !== undefined && b.tool_choice !== null ? "tool_choice" : "function_call";
  if (tc === undefined || tc === null) return undefined;
  if (tc === "auto" || tc === "none" || tc === "required") return { type: tc };
  if (isRecord(tc)) {
    if (isRecord(tc.function)) return { type: "tool", name: requireString(tc.function.name, `${param}.function.name`) };
    // `function_call: {name}` (legacy), and the Responses shape `{type: "function", name}` some clients send here.
    if (param === "function_call" || (tc.type === "function" && typeof tc.name === "string"))
      return { type: "tool", name: requireString(tc.name, `${param}.name`) };
  }
  throw invalidRequest(`${param} must be "auto", "none", "required" or {type: "function", function: {name}}; got ${JSON.stringify(tc)}`, param);
}

function decodeResponseFormat(v: unknown): ResponseFormat | undefined {
  if (v === undefined || v === null) return undefined;
  const rf = requireRecord(v, "response_format");
  if (rf.type === "text" || rf.type === "json_object") return { type: rf.type };
  if (rf.type === "json_schema") {
    const js = requireRecord(rf.json_schema, "response_format.json_schema");
    return jsonSchemaFormat(js, "response_format.json_schema");
  }
  throw invalidRequest(`response_format.type must be text, json_object or json_schema; got ${JSON.stringify(rf.type)}`, "response_format.type");
}

/** @internal `{name, schema, strict, description}` of a json_schema response format. */
export function jsonSchemaFormat(js: Record<string, unknown>, param: string): ResponseFormat {
  const format: ResponseFormat = {
    type: "json_schema",
    name: requireString(js.name, `${param}.name`),
    schema: js.schema === undefined || js.schema === null ? {} : (requireRecord(js.schema, `${param}.schema`) as JsonObject),
  };
  const strict = optionalBoolean(js.strict, `${param}.strict`);
  if (strict !== undefined) format.strict = strict;
  const description = optionalString(js.description, `${param}.description`);
  if (description !== undefined) format.description = description;
  return format;
}

function decodeStop(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return [v];
  return requireArray(v, "stop").map((s, i) => requireString(s, `stop[${i}]`));
}

/** Copies defined values only, so canonical objects carry no `undefined` keys. */
function assignDefined<T extends object>(target: T, values: Partial<T>): T {
  for (const [k, v] of Object.entries(values)) if (v !== undefined) (target as Record<string, unknown>)[k] = v;
  return target;
}

function decodeChatRequest(body: unknown, options?: DecodeRequestOptions): CanonicalRequest {
  const b = requireRecord(body, "body");
  const model = options?.model ?? requireString(b.model, "model");
  if (b.n !== undefined && b.n !== null && b.n !== 1) {
    throw invalidRequest(`n=${JSON.stringify(b.n)} is not supported: only one choice per request (n must be 1)`, "n");
  }
  const system: TextPart[] = [];
  const messages = decodeMessages(b.messages, system);
  const stream = options?.stream ?? optionalBoolean(b.stream, "stream") ?? false;
  const streamOptions = b.stream_options === undefined || b.stream_options === null ? undefined : requireRecord(b.stream_options, "stream_options");
  const req: CanonicalRequest = { model, messages, stream };
  return assignDefined(req, {
    system: system.length > 0 ? system : undefined,
    tools: decodeTools(b),
    toolChoice: decodeToolChoice(b),
    parallelToolCalls: optionalBoolean(b.parallel_tool_calls, "parallel_tool_calls"),
    responseFormat: decodeResponseFormat(b.response_format),
    maxTokens: optInteger(b.max_completion_tokens, "max_completion_tokens") ?? optInteger(b.max_tokens, "max_tokens"),
    temperature: optionalNumber(b.temperature, "temperature"),
    topP: optionalNumber(b.top_p, "top_p"),
    stop: decodeStop(b.stop),
    seed: optInteger(b.seed, "seed"),
    presencePenalty: optionalNumber(b.presence_penalty, "presence_penalty"),
    frequencyPenalty: optionalNumber(b.frequency_penalty, "frequency_penalty"),
    reasoning: decodeEffort(b.reasoning_effort, "reasoning_effort"),
    user: optionalString(b.user, "user"),
    includeUsage: stream && streamOptions ? optionalBoolean(streamOptions.include_usage, "stream_options.include_usage") : undefined,
  });
}

// ── request: canonical -> wire ────────────────────────────────────────────────────────────────

function encodeUserPart(part: TextPart | ImagePart | FilePart, param: string): JsonObject {
  if (part.type === "text") return { type: "text", text: part.text };
  if (part.type === "image") {
    const image: JsonObject = { url: mediaSourceToUrl(part.source) };
    if (part.detail !== undefined) image.detail = part.detail;
    return { type: "image_url", image_url: image };
  }
  const file: JsonObject = {};
  const src = part.source;
  if (src.kind === "file_id") file.file_id = src.fileId;
  else if (src.kind === "base64") file.file_data = mediaSourceToUrl(src);
  else throw invalidRequest("openai-chat cannot send a file by URL: only file_id or inline base64 data", param);
  if (part.filename !== undefined) file.filename = part.filename;
  return { type: "file", file };
}

function textOf(parts: Array<TextPart | ImagePart>): string {
  return parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
}

/** One message's content: a plain string when it is a single text part (the common case). */
function contentValue(parts: JsonObject[]): JsonValue {
  if (parts.length === 1 && parts[0]!.type === "text") return parts[0]!.text as string;
  return parts;
}

function encodeMessages(req: CanonicalRequest): JsonObject[] {
  const out: JsonObject[] = [];
  for (const s of req.system ?? []) out.push({ role: "system", content: s.text });
  req.messages.forEach((m, i) => {
    if (m.role === "system") {
      out.push({ role: "system", content: m.content.map((p) => p.text).join("\n\n") });
    } else if (m.role === "user") {
      const parts: JsonObject[] = [];
      m.content.forEach((part, j) => {
        const param = `messages[${i}].content[${j}]`;
        if (part.type === "tool_result") {
          // Tool messages carry text only; images in a result follow as a user message.
          out.push({ role: "tool", tool_call_id: part.toolCallId, content: textOf(part.content) });
          for (const c of part.content) if (c.type === "image") parts.push(encodeUserPart(c, param));
        } else if (part.type === "text" || part.type === "image" || part.type === "file") {
          parts.push(encodeUserPart(part, param));
        }
      });
      if (parts.length > 0) out.push({ role: "user", content: contentValue(parts) });
    } else {
      const texts: JsonObject[] = [];
      const toolCalls: JsonObject[] = [];
      for (const part of m.content) {
        if (part.type === "text") texts.push({ type: "text", text: part.text });
        else if (part.type === "tool_call") toolCalls.push({ id: part.id, type: "function", function: { name: part.name, arguments: part.arguments } });
      }
      const msg: JsonObject = { role: "assistant", content: texts.length > 0 ? contentValue(texts) : toolCalls.length > 0 ? null : "" };
      if (toolCalls.length > 0) msg.tool_calls = toolCalls;
      out.push(msg);
    }
  });
  return out;
}

/** @internal */
export function encodeToolChoice(tc: ToolChoice): JsonValue {
  return tc.type === "tool" ? { type: "function", function: { name: tc.name } } : tc.type;
}

function encodeChatRequest(req: CanonicalRequest, options: EncodeRequestOptions): UpstreamRequest {
  const body: JsonObject = { model: options.model, messages: encodeMessages(req) };
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map((t) => {
      const fn: JsonObject = { name: t.name };
      if (t.description !== undefined) fn.description = t.description;
      fn.parameters = t.parameters;
      if (t.strict !== undefined) fn.strict = t.strict;
      return { type: "function", function: fn };
    });
    // OpenAI rejects parallel_tool_calls without tools.
    if (req.parallelToolCalls !== undefined) body.parallel_tool_calls = req.parallelToolCalls;
  }
  if (req.toolChoice) body.tool_choice = encodeToolChoice(req.toolChoice);
  if (req.responseFormat) {
    const rf = req.responseFormat;
    if (rf.type === "json_schema") {
      const js: JsonObject = { name: rf.name, schema: rf.schema };
      if (rf.strict !== undefined) js.strict = rf.strict;
      if (rf.description !== undefined) js.description = rf.description;
      body.response_format = { type: "json_schema", json_schema: js };
    } else body.response_format = { type: rf.type };
  }
  if (req.maxTokens !== undefined) body[options.maxTokensField ?? "max_completion_tokens"] = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stop && req.stop.length > 0) body.stop = req.stop;
  if (req.seed !== undefined) body.seed = req.seed;
  if (req.presencePenalty !== undefined) body.presence_penalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) body.frequency_penalty = req.frequencyPenalty;
  if (req.reasoning?.effort !== undefined) body.reasoning_effort = req.reasoning.effort;
  if (req.user !== undefined) body.user = req.user;
  body.stream = req.stream;
  // Always ask for the usage chunk upstream: BitRouter meters every request.
  if (req.stream) body.stream_options = { include_usage: true };
  return { path: "/chat/completions", body };
}

// ── response ──────────────────────────────────────────────────────────────────────────────────

const FINISH_BY_STOP: Record<StopReason, string> = {
  stop: "stop",
  stop_sequence: "stop",
  length: "length",
  tool_calls: "tool_calls",
  content_filter: "content_filter",
  error: "stop",
};

/** @internal */
export function stopFromFinish(reason: unknown): StopReason {
  switch (reason) {
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "stop";
  }
}

function encodeChatUsage(u: Usage): JsonObject {
  const prompt: JsonObject = { cached_tokens: u.cacheReadTokens ?? 0 };
  if (u.cacheWriteTokens !== undefined) prompt.cache_write_tokens = u.cacheWriteTokens;
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: prompt,
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
  };
}

const count = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** @internal OpenAI chat usage (also DeepSeek's prompt_cache_hit_tokens) -> canonical. */
export function decodeChatUsage(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  const usage: Usage = { inputTokens: count(u.prompt_tokens) ?? 0, outputTokens: count(u.completion_tokens) ?? 0 };
  const pd = isRecord(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const cd = isRecord(u.completion_tokens_details) ? u.completion_tokens_details : {};
  const cached = count(pd.cached_tokens) ?? count(u.prompt_cache_hit_tokens);
  if (cached) usage.cacheReadTokens = cached;
  const written = count(pd.cache_write_tokens);
  if (written) usage.cacheWriteTokens = written;
  const reasoning = count(cd.reasoning_tokens);
  if (reasoning) usage.reasoningTokens = reasoning;
  return usage;
}

function encodeChatResponse(res: CanonicalResponse): JsonObject {
  const texts: string[] = [];
  const reasoning: string[] = [];
  const toolCalls: JsonObject[] = [];
  for (const part of res.content) {
    if (part.type === "text") texts.push(part.text);
    else if (part.type === "reasoning" && part.text) reasoning.push(part.text);
    else if (part.type === "tool_call") toolCalls.push({ id: part.id, type: "function", function: { name: part.name, arguments: part.arguments } });
  }
  const message: JsonObject = { role: "assistant", content: texts.length > 0 ? texts.join("") : null, refusal: null };
  // Not in OpenAI's schema, but what OpenAI-compatible clients read reasoning from (DeepSeek style).
  if (reasoning.length > 0) message.reasoning_content = reasoning.join("");
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: res.id,
    object: "chat.completion",
    created: res.created,
    model: res.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH_BY_STOP[res.stopReason] }],
    usage: encodeChatUsage(res.usage),
  };
}

function decodeChatResponse(body: unknown): CanonicalResponse {
  if (!isRecord(body)) throw upstreamMalformed("the body is not a JSON object");
  // Some OpenAI-compatible providers answer 200 with an error body.
  if (isRecord(body.error)) throw new BitrouterError(decodeOpenAIError(0, body));
  const choice = Array.isArray(body.choices) ? body.choices[0] : undefined;
  if (!isRecord(choice)) throw upstreamMalformed("no choices[0]");
  const message = isRecord(choice.message) ? choice.message : {};
  const content: ContentPart[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === "string" && reasoning !== "") content.push({ type: "reasoning", text: reasoning });
  if (typeof message.content === "string" && message.content !== "") content.push({ type: "text", text: message.content });
  else if (Array.isArray(message.content)) {
    for (const p of message.content) if (isRecord(p) && typeof p.text === "string") content.push({ type: "text", text: p.text });
  }
  if (typeof message.refusal === "string" && message.refusal !== "") content.push({ type: "text", text: message.refusal });
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((tc, i) => {
      if (!isRecord(tc)) return;
      const fn = isRecord(tc.function) ? tc.function : {};
      content.push({
        type: "tool_call",
        id: typeof tc.id === "string" ? tc.id : `call_${i}`,
        name: typeof fn.name === "string" ? fn.name : "",
        arguments: normalizeArguments(fn.arguments),
      });
    });
  } else if (isRecord(message.function_call)) {
    const fc = message.function_call;
    content.push({ type: "tool_call", id: "call_legacy_0", name: typeof fc.name === "string" ? fc.name : "", arguments: normalizeArguments(fc.arguments) });
  }
  return {
    id: typeof body.id === "string" ? body.id : "",
    model: typeof body.model === "string" ? body.model : "",
    created: count(body.created) ?? 0,
    content,
    stopReason: stopFromFinish(choice.finish_reason),
    usage: chatResponseUsage(body.usage),
  };
}

function chatResponseUsage(value: unknown): Usage {
  return decodeChatUsage(value) ?? { inputTokens: 0, outputTokens: 0 };
}

// ── stream: canonical events -> SSE ───────────────────────────────────────────────────────────

class ChatStreamEncoder implements StreamEncoder {
  private id = "";
  private model: string;
  private created = 0;
  private started = false;
  /** canonical part index -> OpenAI tool_calls[].index (counts tool calls only). */
  private readonly toolIndex = new Map<number, number>();
  private usage: Usage | undefined;
  private state: "open" | "finished" | "errored" = "open";

  constructor(private readonly request: CanonicalRequest) {
    this.model = request.model;
  }

  /** `data: {"id":…,"choices":[{"index":0,"delta":` — constant for the whole stream, built once. */
  private prefix: string | undefined;

  private chunk(delta: JsonObject, finishReason: string | null = null): string {
    // Hand-assembled (same bytes as JSON.stringify of the chunk): this runs once per token.
    this.prefix ??= `data: {"id":${JSON.stringify(this.id)},"object":"chat.completion.chunk","created":${this.created},"model":${JSON.stringify(this.model)},"choices":[{"index":0,"delta":`;
    return `${this.prefix}${JSON.stringify(delta)},"logprobs":null,"finish_reason":${finishReason === null ? "null" : JSON.stringify(finishReason)}}]}\n\n`;
  }

  /** The first chunk must carry role "assistant"; synthesise it if events come without `start`. */
  private ensureStarted(): string {
    if (this.started) return "";
    this.started = true;
    return this.chunk({ role: "assistant", content: "" });
  }

  encode(event: StreamEvent): string {
    if (this.state !== "open") return "";
    switch (event.type) {
      case "start":
        if (this.started) return "";
        this.id = event.id;
        this.model = event.model || this.request.model;
        this.created = event.created;
        return this.ensureStarted();
      case "text_delta":
        return event.text ? this.ensureStarted() + this.chunk({ content: event.text }) : "";
      case "reasoning_delta":
        return event.text ? this.ensureStarted() + this.chunk({ reasoning_content: event.text }) : "";
      case "tool_call_start": {
        const index = this.toolIndex.size;
        this.toolIndex.set(event.index, index);
        return this.ensureStarted() + this.chunk({ tool_calls: [{ index, id: event.id, type: "function", function: { name: event.name, arguments: "" } }] });
      }
      case "tool_call_delta": {
        const index = this.toolIndex.get(event.index);
        if (index === undefined || !event.argumentsDelta) return "";
        return this.chunk({ tool_calls: [{ index, function: { arguments: event.argumentsDelta } }] });
      }
      case "usage":
        this.usage = event.usage;
        return "";
      case "finish": {
        this.state = "finished";
        const usage = event.usage ?? this.usage;
        let out = this.ensureStarted() + this.chunk({}, FINISH_BY_STOP[event.stopReason]);
        if (this.request.includeUsage && usage) {
          out += formatSse({
            id: this.id,
            object: "chat.completion.chunk",
            created: this.created,
            model: this.model,
            choices: [],
            usage: encodeChatUsage(usage),
          });
        }
        return out;
      }
      case "error":
        this.state = "errored";
        return formatSse({ error: openaiErrorObject(event.error) });
      default:
        return "";
    }
  }

  end(): string {
    if (this.state === "finished") return "data: [DONE]\n\n";
    if (this.state === "errored") return "";
    // Events ran out without a finish: never close like a success.
    this.state = "errored";
    return formatSse({ error: openaiErrorObject({ kind: "upstream", message: "stream ended early", status: 502 }) });
  }
}

// ── stream: SSE -> canonical events ───────────────────────────────────────────────────────────

class ChatStreamDecoder implements StreamDecoder {
  private started = false;
  private done = false;
  private nextIndex = 0;
  /** The open text or reasoning block, continued by deltas of the same kind. */
  private block: { kind: "text" | "reasoning"; index: number } | undefined;
  /** OpenAI tool_calls[].index (or id) -> canonical part index. */
  private readonly tools = new Map<number | string, number>();
  private lastTool: number | undefined;
  /** canonical index -> tool call id. */
  private readonly toolIds = new Map<number, string>();
  private finishReason: StopReason | undefined;
  private usage: Usage | undefined;

  decode(event: SseEvent): StreamEvent[] {
    if (this.done) return [];
    const data = event.data.trim();
    if (data === "") return [];
    if (data === "[DONE]") return this.finish();
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return this.fail({ kind: "upstream", message: `upstream sent a malformed stream chunk: ${redactSecrets(data.slice(0, 100))}`, status: 502 });
    }
    if (!isRecord(chunk)) return [];
    if (chunk.error !== undefined && chunk.error !== null) return this.fail(decodeOpenAIError(0, chunk));
    const out: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      out.push({
        type: "start",
        id: typeof chunk.id === "string" ? chunk.id : "",
        model: typeof chunk.model === "string" ? chunk.model : "",
        created: count(chunk.created) ?? 0,
      });
    }
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (isRecord(choice)) {
      const delta = isRecord(choice.delta) ? choice.delta : {};
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === "string" && reasoning !== "") out.push({ type: "reasoning_delta", index: this.blockIndex("reasoning"), text: reasoning });
      if (typeof delta.content === "string" && delta.content !== "") out.push({ type: "text_delta", index: this.blockIndex("text"), text: delta.content });
      if (typeof delta.refusal === "string" && delta.refusal !== "") out.push({ type: "text_delta", index: this.blockIndex("text"), text: delta.refusal });
      if (Array.isArray(delta.tool_calls)) for (const tc of delta.tool_calls) if (isRecord(tc)) this.toolDelta(tc, out);
      if (isRecord(delta.function_call)) this.toolDelta({ index: 0, id: "call_legacy_0", function: delta.function_call }, out);
      if (typeof choice.finish_reason === "string") this.finishReason = stopFromFinish(choice.finish_reason);
    }
    const usage = decodeChatUsage(chunk.usage);
    if (usage) {
      this.usage = usage;
      out.push({ type: "usage", usage });
    }
    return out;
  }

  end(): StreamEvent[] {
    if (this.done) return [];
    // Some OpenAI-compatible servers close without [DONE]; a finish_reason still proves completion.
    if (this.finishReason !== undefined) return this.finish();
    return this.fail({ kind: "upstream", message: "stream ended early: no finish_reason before the connection closed", status: 502 });
  }

  private blockIndex(kind: "text" | "reasoning"): number {
    if (this.block?.kind !== kind) this.block = { kind, index: this.nextIndex++ };
    return this.block.index;
  }

  private toolDelta(tc: Record<string, unknown>, out: StreamEvent[]): void {
    const fn = isRecord(tc.function) ? tc.function : {};
    const id = typeof tc.id === "string" && tc.id !== "" ? tc.id : undefined;
    const key = typeof tc.index === "number" ? tc.index : id;
    let index = key === undefined ? this.lastTool : this.tools.get(key);
    // Some compatible servers reuse index 0 for every parallel call: a new id means a new call.
    if (index !== undefined && id !== undefined && this.toolIds.get(index) !== id) index = undefined;
    if (index === undefined) {
      index = this.nextIndex++;
      if (key !== undefined) this.tools.set(key, index);
      this.toolIds.set(index, id ?? `call_${index}`);
      this.block = undefined;
      out.push({ type: "tool_call_start", index, id: id ?? `call_${index}`, name: typeof fn.name === "string" ? fn.name : "" });
    }
    this.lastTool = index;
    const args = normalizeArguments(fn.arguments);
    if (args !== "") out.push({ type: "tool_call_delta", index, argumentsDelta: args });
  }

  private finish(): StreamEvent[] {
    this.done = true;
    const event: StreamEvent = { type: "finish", stopReason: this.finishReason ?? "stop" };
    if (this.usage) event.usage = this.usage;
    return this.started ? [event] : [{ type: "start", id: "", model: "", created: 0 }, event];
  }

  private fail(error: ErrorInfo): StreamEvent[] {
    this.done = true;
    const event: StreamEvent = { type: "error", error };
    return this.started ? [event] : [{ type: "start", id: "", model: "", created: 0 }, event];
  }
}

// ── the codec ─────────────────────────────────────────────────────────────────────────────────

export const openaiChatCodec: Codec = {
  protocol: "openai-chat",
  decodeRequest: decodeChatRequest,
  encodeResponse: (response) => encodeChatResponse(response),
  createStreamEncoder: (request) => new ChatStreamEncoder(request),
  encodeError: encodeOpenAIError,
  encodeRequest: encodeChatRequest,
  decodeResponse: decodeChatResponse,
  responseUsage: { field: "usage", decode: chatResponseUsage },
  createStreamDecoder: () => new ChatStreamDecoder(),
  decodeError: decodeOpenAIError,
};
