/** OpenAI Chat Completions requests: wire -> canonical (inbound) and canonical -> wire (outbound). */
import type {
  CanonicalRequest,
  ContentPart,
  FilePart,
  ImagePart,
  JsonObject,
  JsonValue,
  Message,
  ReasoningConfig,
  ResponseFormat,
  TextPart,
  ToolChoice,
  ToolDefinition,
  ToolResultPart,
  UserMessage,
} from "@bitrouter/core";
import type { DecodeRequestOptions, EncodeRequestOptions, UpstreamRequest } from "../../codec.js";
import { invalidRequest } from "@bitrouter/core";
import {
  isRecord,
  mediaSourceFromUrl,
  mediaSourceToUrl,
  normalizeArguments,
  optionalBoolean,
  optionalNumber,
  optionalString,
  parseDataUrl,
  requireArray,
  requireRecord,
  requireString,
} from "../util.js";

// ── validation helpers (shared with ../openai-responses) ─────────────────────────────────────

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
function assignDefined<T extends object>(target: T, values: { [K in keyof T]?: T[K] | undefined }): T {
  for (const k in values) {
    const v = values[k];
    if (v !== undefined) target[k] = v as T[typeof k];
  }
  return target;
}

export function decodeChatRequest(body: unknown, options?: DecodeRequestOptions): CanonicalRequest {
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

export function encodeChatRequest(req: CanonicalRequest, options: EncodeRequestOptions): UpstreamRequest {
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
