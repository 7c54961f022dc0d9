/**
 * OpenAI Responses (`POST {base}/responses`) <-> canonical.
 *
 * BitRouter keeps no server-side state, so requests that point at stored responses
 * (`previous_response_id`, `conversation`, `item_reference`, `background`) are rejected, and
 * upstream requests are sent with `store: false`. Lossy spots: docs/protocol-mapping.md.
 */
import { FREEFORM_INPUT } from "@bitrouter/core";
import type {
  AssistantMessage,
  CanonicalRequest,
  CanonicalResponse,
  ContentPart,
  ErrorInfo,
  FilePart,
  HostedTool,
  ImagePart,
  JsonObject,
  JsonValue,
  Message,
  ReasoningConfig,
  ReasoningPart,
  ResponseFormat,
  StopReason,
  StreamEvent,
  TextPart,
  ToolChoice,
  ToolDefinition,
  Usage,
  UserMessage,
} from "@bitrouter/core";
import type { Codec, DecodeRequestOptions, EncodeRequestOptions, SseEvent, StreamDecoder, StreamEncoder, UpstreamRequest } from "../codec.js";
import { BitrouterError, invalidRequest } from "@bitrouter/core";
import {
  decodeEffort,
  decodeOpenAIError,
  encodeOpenAIError,
  fileDataSource,
  jsonSchemaFormat,
  optInteger,
  toolDefinition,
  upstreamMalformed,
} from "./openai-chat.js";
import {
  formatSse,
  isRecord,
  mediaSourceFromUrl,
  mediaSourceToUrl,
  normalizeArguments,
  optionalBoolean,
  optionalNumber,
  optionalString,
  redactSecrets,
  requireArray,
  requireRecord,
  requireString,
} from "./util.js";

/** Marks a FilePart that came from `input_image.file_id`, so it goes back out as an image. */
const IMAGE_FILE = "image/*";

// ── request: wire -> canonical ────────────────────────────────────────────────────────────────

function decodeUserPart(raw: unknown, pp: string): TextPart | ImagePart | FilePart {
  const p = requireRecord(raw, pp);
  switch (p.type) {
    case "input_text":
      return { type: "text", text: requireString(p.text, `${pp}.text`) };
    case "input_image": {
      const detail = optionalString(p.detail, `${pp}.detail`);
      const url = optionalString(p.image_url, `${pp}.image_url`);
      if (url !== undefined) {
        const part: ImagePart = { type: "image", source: mediaSourceFromUrl(url) };
        if (detail !== undefined) part.detail = detail;
        return part;
      }
      const fileId = optionalString(p.file_id, `${pp}.file_id`);
      if (fileId === undefined) throw invalidRequest(`${pp} needs image_url or file_id`, pp);
      return { type: "file", source: { kind: "file_id", fileId }, mediaType: IMAGE_FILE };
    }
    case "input_file": {
      const filename = optionalString(p.filename, `${pp}.filename`);
      const fileId = optionalString(p.file_id, `${pp}.file_id`);
      const data = optionalString(p.file_data, `${pp}.file_data`);
      const url = optionalString(p.file_url, `${pp}.file_url`);
      let part: FilePart;
      if (fileId !== undefined) part = { type: "file", source: { kind: "file_id", fileId } };
      else if (data !== undefined) {
        const source = fileDataSource(data, filename);
        part = { type: "file", source, mediaType: (source as { mediaType: string }).mediaType };
      } else if (url !== undefined) part = { type: "file", source: { kind: "url", url } };
      else throw invalidRequest(`${pp} needs file_id, file_data or file_url`, pp);
      if (filename !== undefined) part.filename = filename;
      return part;
    }
    case "input_audio":
      throw invalidRequest(`${pp}.type "input_audio" is not supported: audio input cannot be translated to other providers`, `${pp}.type`);
    default:
      throw invalidRequest(`${pp}.type must be input_text, input_image or input_file; got ${JSON.stringify(p.type)}`, `${pp}.type`);
  }
}

function decodeAssistantText(content: unknown, param: string): TextPart[] {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  return requireArray(content, param).map((raw, j): TextPart => {
    const pp = `${param}[${j}]`;
    const p = requireRecord(raw, pp);
    if (p.type === "output_text" || p.type === "input_text") return { type: "text", text: requireString(p.text, `${pp}.text`) };
    if (p.type === "refusal") return { type: "text", text: requireString(p.refusal, `${pp}.refusal`) };
    throw invalidRequest(`${pp}.type must be output_text or refusal, got ${JSON.stringify(p.type)}`, `${pp}.type`);
  });
}

function decodeSystemText(content: unknown, param: string): TextPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return requireArray(content, param).map((raw, j): TextPart => {
    const p = requireRecord(raw, `${param}[${j}]`);
    if (p.type !== "input_text") throw invalidRequest(`${param}[${j}].type must be "input_text" here, got ${JSON.stringify(p.type)}`, `${param}[${j}].type`);
    return { type: "text", text: requireString(p.text, `${param}[${j}].text`) };
  });
}

function decodeToolOutput(output: unknown, param: string): Array<TextPart | ImagePart> {
  if (typeof output === "string") return [{ type: "text", text: output }];
  return requireArray(output, param).map((raw, j) => {
    const part = decodeUserPart(raw, `${param}[${j}]`);
    if (part.type === "file")
      throw invalidRequest(`${param}[${j}]: files in tool output cannot be translated; use input_text or input_image with image_url`, `${param}[${j}].type`);
    return part;
  });
}

/** Where decoded tools go: top-level `tools` and `additional_tools` input items add to the same lists. */
interface ToolSink {
  tools: ToolDefinition[];
  hosted: HostedTool[];
}

/**
 * One entry of `tools` (or of an `additional_tools` item): function and freeform (`custom`) tools
 * become canonical tools, a `namespace` group is flattened into its tools (each remembers its
 * namespace, so answers name it again), and hosted tools (`web_search`, …) are kept as written.
 */
function decodeTool(raw: unknown, param: string, sink: ToolSink, namespace?: string): void {
  const t = requireRecord(raw, param);
  let tool: ToolDefinition;
  if (t.type === "function") {
    // Some clients send the chat shape `{type: "function", function: {...}}` here.
    tool = t.name === undefined && isRecord(t.function) ? toolDefinition(t.function, `${param}.function`) : toolDefinition(t, param);
  } else if (t.type === "custom") {
    const format = t.format === undefined || t.format === null ? undefined : (requireRecord(t.format, `${param}.format`) as JsonObject);
    tool = { name: requireString(t.name, `${param}.name`), parameters: freeformParameters(format), freeform: format ? { format } : {} };
    const description = optionalString(t.description, `${param}.description`);
    if (description !== undefined) tool.description = description;
  } else if (t.type === "namespace" && namespace === undefined) {
    const name = requireString(t.name, `${param}.name`);
    requireArray(t.tools, `${param}.tools`).forEach((sub, j) => decodeTool(sub, `${param}.tools[${j}]`, sink, name));
    return;
  } else if (typeof t.type === "string" && namespace === undefined) {
    sink.hosted.push({ param, tool: t as JsonObject });
    return;
  } else {
    throw invalidRequest(`${param}.type ${JSON.stringify(t.type)} is not supported inside a namespace: only function and custom tools`, `${param}.type`);
  }
  if (namespace !== undefined) tool.namespace = namespace;
  const clash = sink.tools.find((other) => other.name === tool.name);
  if (clash) {
    throw invalidRequest(
      `${param}: a second tool named "${tool.name}"${clash.namespace !== undefined || namespace !== undefined ? " (namespaces are flattened, so tool names must be unique across them)" : ""}`,
      `${param}.name`,
    );
  }
  sink.tools.push(tool);
}

/** The arguments schema a freeform tool gets where only function tools exist: one string, `input`. */
function freeformParameters(format: JsonObject | undefined): JsonObject {
  let description = "The raw text input of this tool (not JSON).";
  if (format?.type === "grammar" && typeof format.definition === "string") {
    description += ` It must match this ${typeof format.syntax === "string" ? format.syntax : ""} grammar:\n${format.definition}`;
  }
  return { type: "object", properties: { [FREEFORM_INPUT]: { type: "string", description } }, required: [FREEFORM_INPUT], additionalProperties: false };
}

/** A freeform tool's text from the canonical arguments (`{"input": "…"}`); other JSON is passed as its text. */
function freeformInput(args: string): string {
  try {
    const parsed: unknown = JSON.parse(args);
    if (isRecord(parsed) && typeof parsed[FREEFORM_INPUT] === "string") return parsed[FREEFORM_INPUT];
  } catch {
    // not JSON: the text itself
  }
  return args;
}

function decodeInput(input: unknown, system: TextPart[], sink: ToolSink): Message[] {
  if (typeof input === "string") return [{ role: "user", content: [{ type: "text", text: input }] }];
  const items = requireArray(input, "input");
  const messages: Message[] = [];
  // Assistant-side items (messages, function calls, reasoning) of one turn merge into one assistant
  // message; consecutive function_call_output items merge into one user message.
  let run: { role: "assistant" | "tools"; message: UserMessage | AssistantMessage } | undefined;
  const push = (role: "assistant" | "tools", part: ContentPart): void => {
    if (run?.role !== role) {
      run = { role, message: { role: role === "tools" ? "user" : "assistant", content: [] } };
      messages.push(run.message);
    }
    run.message.content.push(part);
  };
  items.forEach((raw, i) => {
    const p = `input[${i}]`;
    const item = requireRecord(raw, p);
    const type = item.type ?? (item.role !== undefined ? "message" : undefined);
    switch (type) {
      case "message": {
        const role = item.role;
        if (role === "system" || role === "developer") {
          system.push(...decodeSystemText(item.content, `${p}.content`));
        } else if (role === "user") {
          run = undefined;
          const content =
            typeof item.content === "string"
              ? [{ type: "text" as const, text: item.content }]
              : requireArray(item.content, `${p}.content`).map((c, j) => decodeUserPart(c, `${p}.content[${j}]`));
          messages.push({ role: "user", content });
        } else if (role === "assistant") {
          for (const t of decodeAssistantText(item.content, `${p}.content`)) push("assistant", t);
        } else {
          throw invalidRequest(`${p}.role must be user, assistant, system or developer; got ${JSON.stringify(role)}`, `${p}.role`);
        }
        break;
      }
      case "function_call":
        push("assistant", {
          type: "tool_call",
          id: requireString(item.call_id, `${p}.call_id`),
          name: requireString(item.name, `${p}.name`),
          arguments: normalizeArguments(item.arguments),
        });
        break;
      case "function_call_output":
      case "custom_tool_call_output":
        push("tools", { type: "tool_result", toolCallId: requireString(item.call_id, `${p}.call_id`), content: decodeToolOutput(item.output, `${p}.output`) });
        break;
      case "custom_tool_call":
        push("assistant", {
          type: "tool_call",
          id: requireString(item.call_id, `${p}.call_id`),
          name: requireString(item.name, `${p}.name`),
          arguments: JSON.stringify({ [FREEFORM_INPUT]: requireString(item.input, `${p}.input`) }),
        });
        break;
      case "additional_tools":
        // Tools announced mid-conversation (Codex): the same tools as the top-level list.
        requireArray(item.tools, `${p}.tools`).forEach((t, j) => decodeTool(t, `${p}.tools[${j}]`, sink));
        break;
      case "reasoning": {
        const summary = item.summary === undefined || item.summary === null ? [] : requireArray(item.summary, `${p}.summary`);
        const texts = summary.map((s, j) => requireString(requireRecord(s, `${p}.summary[${j}]`).text, `${p}.summary[${j}].text`));
        const part: ReasoningPart = { type: "reasoning", text: texts.join("\n\n") };
        const encrypted = optionalString(item.encrypted_content, `${p}.encrypted_content`);
        if (encrypted !== undefined) part.redactedData = encrypted;
        const id = optionalString(item.id, `${p}.id`);
        if (id !== undefined) part.id = id;
        push("assistant", part);
        break;
      }
      case "item_reference":
        throw invalidRequest(`${p}: item_reference needs stored responses, which BitRouter does not keep; send the item itself`, `${p}.type`);
      default:
        throw invalidRequest(
          `${p}.type ${JSON.stringify(type)} is not supported: only message, function_call, function_call_output, custom_tool_call, custom_tool_call_output, additional_tools and reasoning items can be translated`,
          `${p}.type`,
        );
    }
  });
  return messages;
}

function decodeToolChoice(v: unknown): ToolChoice | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === "auto" || v === "none" || v === "required") return { type: v };
  if (isRecord(v) && v.type === "function") {
    // The chat shape `{type: "function", function: {name}}` is accepted too.
    if (isRecord(v.function)) return { type: "tool", name: requireString(v.function.name, "tool_choice.function.name") };
    return { type: "tool", name: requireString(v.name, "tool_choice.name") };
  }
  throw invalidRequest(`tool_choice must be "auto", "none", "required" or {type: "function", name}; got ${JSON.stringify(v)}`, "tool_choice");
}

function decodeTextFormat(v: unknown): ResponseFormat | undefined {
  if (v === undefined || v === null) return undefined;
  const text = requireRecord(v, "text");
  if (text.format === undefined || text.format === null) return undefined;
  const f = requireRecord(text.format, "text.format");
  if (f.type === "text" || f.type === "json_object") return { type: f.type };
  if (f.type === "json_schema") return jsonSchemaFormat(f, "text.format");
  throw invalidRequest(`text.format.type must be text, json_object or json_schema; got ${JSON.stringify(f.type)}`, "text.format.type");
}

function decodeReasoning(v: unknown): ReasoningConfig | undefined {
  if (v === undefined || v === null) return undefined;
  const r = requireRecord(v, "reasoning");
  const config: ReasoningConfig = decodeEffort(r.effort, "reasoning.effort") ?? {};
  const summary = optionalString(r.summary ?? r.generate_summary, "reasoning.summary");
  if (summary !== undefined && summary !== "none") config.includeThoughts = true;
  return Object.keys(config).length > 0 ? config : undefined;
}

function decodeResponsesRequest(body: unknown, options?: DecodeRequestOptions): CanonicalRequest {
  const b = requireRecord(body, "body");
  const model = options?.model ?? requireString(b.model, "model");
  if (b.previous_response_id !== undefined && b.previous_response_id !== null) {
    throw invalidRequest(
      "previous_response_id is not supported: BitRouter keeps no stored responses; send the whole conversation in input",
      "previous_response_id",
    );
  }
  if (b.conversation !== undefined && b.conversation !== null) {
    throw invalidRequest("conversation is not supported: BitRouter keeps no stored conversations; send the whole conversation in input", "conversation");
  }
  if (b.background === true) throw invalidRequest("background mode is not supported: BitRouter keeps no stored responses", "background");
  optionalBoolean(b.store, "store"); // accepted either way: nothing is stored
  const system: TextPart[] = [];
  const instructions = optionalString(b.instructions, "instructions");
  if (instructions !== undefined) system.push({ type: "text", text: instructions });
  if (b.input === undefined || b.input === null) throw invalidRequest("input is required: a string or an array of input items", "input");
  const sink: ToolSink = { tools: [], hosted: [] };
  if (b.tools !== undefined && b.tools !== null) requireArray(b.tools, "tools").forEach((raw, i) => decodeTool(raw, `tools[${i}]`, sink));
  const messages = decodeInput(b.input, system, sink);
  const req: CanonicalRequest = { model, messages, stream: options?.stream ?? optionalBoolean(b.stream, "stream") ?? false };
  if (system.length > 0) req.system = system;
  if (sink.tools.length > 0) req.tools = sink.tools;
  if (sink.hosted.length > 0) req.hostedTools = sink.hosted;
  const toolChoice = decodeToolChoice(b.tool_choice);
  if (toolChoice) req.toolChoice = toolChoice;
  const parallel = optionalBoolean(b.parallel_tool_calls, "parallel_tool_calls");
  if (parallel !== undefined) req.parallelToolCalls = parallel;
  const format = decodeTextFormat(b.text);
  if (format) req.responseFormat = format;
  const maxTokens = optInteger(b.max_output_tokens, "max_output_tokens");
  if (maxTokens !== undefined) req.maxTokens = maxTokens;
  const temperature = optionalNumber(b.temperature, "temperature");
  if (temperature !== undefined) req.temperature = temperature;
  const topP = optionalNumber(b.top_p, "top_p");
  if (topP !== undefined) req.topP = topP;
  const reasoning = decodeReasoning(b.reasoning);
  if (reasoning) req.reasoning = reasoning;
  const user = optionalString(b.user, "user");
  if (user !== undefined) req.user = user;
  return req;
}

// ── request: canonical -> wire ────────────────────────────────────────────────────────────────

function encodeUserPart(part: TextPart | ImagePart | FilePart): JsonObject {
  if (part.type === "text") return { type: "input_text", text: part.text };
  if (part.type === "image") return { type: "input_image", image_url: mediaSourceToUrl(part.source), detail: part.detail ?? "auto" };
  const src = part.source;
  if (src.kind === "file_id" && part.mediaType === IMAGE_FILE) return { type: "input_image", file_id: src.fileId, detail: "auto" };
  const file: JsonObject = { type: "input_file" };
  if (src.kind === "file_id") file.file_id = src.fileId;
  else if (src.kind === "base64") file.file_data = mediaSourceToUrl(src);
  else file.file_url = src.url;
  if (part.filename !== undefined) file.filename = part.filename;
  return file;
}

function encodeToolOutput(content: Array<TextPart | ImagePart>): JsonValue {
  if (content.every((c) => c.type === "text")) return content.map((c) => (c as TextPart).text).join("");
  return content.map(encodeUserPart);
}

/** The request's tools by name: a call to a freeform or namespaced tool is written the way that tool is. */
function toolsByName(req: CanonicalRequest): Map<string, ToolDefinition> {
  return new Map((req.tools ?? []).map((t) => [t.name, t]));
}

/** A tool call as its Responses item: `custom_tool_call` for freeform tools, else `function_call` (with its namespace). */
function callItem(call: { id: string; name: string; arguments: string }, tool: ToolDefinition | undefined): JsonObject {
  const item: JsonObject = tool?.freeform
    ? { type: "custom_tool_call", call_id: call.id, name: call.name, input: freeformInput(call.arguments) }
    : { type: "function_call", call_id: call.id, name: call.name, arguments: call.arguments };
  if (tool?.namespace !== undefined) item.namespace = tool.namespace;
  return item;
}

/** @internal The `input` items for a canonical conversation. */
export function encodeInput(messages: Message[], tools: Map<string, ToolDefinition> = new Map()): JsonObject[] {
  const items: JsonObject[] = [];
  const freeformCalls = new Set<string>();
  for (const m of messages) {
    if (m.role === "system") {
      items.push({ role: "system", content: m.content.map((p) => p.text).join("\n\n") });
      continue;
    }
    let pending: JsonObject[] = [];
    const flush = (): void => {
      if (pending.length === 0) return;
      if (m.role === "user") items.push({ role: "user", content: pending });
      else items.push({ role: "assistant", content: pending.map((p) => p.text as string).join("") });
      pending = [];
    };
    for (const part of m.content) {
      if (part.type === "tool_result") {
        flush();
        const type = freeformCalls.has(part.toolCallId) ? "custom_tool_call_output" : "function_call_output";
        items.push({ type, call_id: part.toolCallId, output: encodeToolOutput(part.content) });
      } else if (part.type === "tool_call") {
        flush();
        const tool = tools.get(part.name);
        if (tool?.freeform) freeformCalls.add(part.id);
        items.push(callItem(part, tool));
      } else if (part.type === "reasoning") {
        // Only OpenAI's own reasoning items (with their id) can go back; others' thinking cannot.
        if (part.id === undefined) continue;
        flush();
        const item: JsonObject = { type: "reasoning", id: part.id, summary: part.text ? [{ type: "summary_text", text: part.text }] : [] };
        if (part.redactedData !== undefined) item.encrypted_content = part.redactedData;
        items.push(item);
      } else if (m.role === "user") {
        pending.push(encodeUserPart(part));
      } else if (part.type === "text") {
        pending.push({ text: part.text });
      }
    }
    flush();
  }
  return items;
}

function encodeResponsesRequest(req: CanonicalRequest, options: EncodeRequestOptions): UpstreamRequest {
  const body: JsonObject = { model: options.model };
  if (req.system && req.system.length > 0) body.instructions = req.system.map((s) => s.text).join("\n\n");
  body.input = encodeInput(req.messages, toolsByName(req));
  if ((req.tools && req.tools.length > 0) || req.hostedTools) {
    body.tools = encodeTools(req);
    if (req.parallelToolCalls !== undefined) body.parallel_tool_calls = req.parallelToolCalls;
  }
  if (req.toolChoice) body.tool_choice = encodeToolChoice(req.toolChoice);
  if (req.responseFormat) body.text = { format: encodeFormat(req.responseFormat) };
  if (req.maxTokens !== undefined) body.max_output_tokens = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.reasoning && (req.reasoning.effort !== undefined || req.reasoning.includeThoughts)) {
    const r: JsonObject = {};
    if (req.reasoning.effort !== undefined) r.effort = req.reasoning.effort;
    if (req.reasoning.includeThoughts) r.summary = "auto";
    body.reasoning = r;
  }
  if (req.user !== undefined) body.user = req.user;
  body.stream = req.stream;
  // BitRouter never relies on upstream state, and should not ask a provider to keep conversations.
  body.store = false;
  return { path: "/responses", body };
}

/** Canonical tools back to Responses tools: namespaced ones regrouped where their group first appeared, hosted ones as written. */
function encodeTools(req: CanonicalRequest): JsonObject[] {
  const out: JsonObject[] = [];
  const groups = new Map<string, JsonObject[]>();
  for (const t of req.tools ?? []) {
    let tool: JsonObject;
    if (t.freeform) {
      tool = { type: "custom", name: t.name };
      if (t.description !== undefined) tool.description = t.description;
      if (t.freeform.format !== undefined) tool.format = t.freeform.format;
    } else {
      tool = { type: "function", name: t.name };
      if (t.description !== undefined) tool.description = t.description;
      tool.parameters = t.parameters;
      // Responses treats a missing `strict` as true; canonical "unset" means not strict (chat's default).
      tool.strict = t.strict ?? false;
    }
    if (t.namespace === undefined) {
      out.push(tool);
      continue;
    }
    let group = groups.get(t.namespace);
    if (!group) {
      group = [];
      groups.set(t.namespace, group);
      out.push({ type: "namespace", name: t.namespace, description: "", tools: group });
    }
    group.push(tool);
  }
  for (const hosted of req.hostedTools ?? []) out.push(hosted.tool);
  return out;
}

function encodeToolChoice(tc: ToolChoice): JsonValue {
  return tc.type === "tool" ? { type: "function", name: tc.name } : tc.type;
}

function encodeFormat(rf: ResponseFormat): JsonObject {
  if (rf.type !== "json_schema") return { type: rf.type };
  const f: JsonObject = { type: "json_schema", name: rf.name, schema: rf.schema };
  if (rf.strict !== undefined) f.strict = rf.strict;
  if (rf.description !== undefined) f.description = rf.description;
  return f;
}

// ── response ──────────────────────────────────────────────────────────────────────────────────

function encodeUsage(u: Usage): JsonObject {
  const input: JsonObject = { cached_tokens: u.cacheReadTokens ?? 0 };
  if (u.cacheWriteTokens !== undefined) input.cache_write_tokens = u.cacheWriteTokens;
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: input,
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

const count = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

function decodeUsage(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  const usage: Usage = { inputTokens: count(u.input_tokens) ?? 0, outputTokens: count(u.output_tokens) ?? 0 };
  const id = isRecord(u.input_tokens_details) ? u.input_tokens_details : {};
  const od = isRecord(u.output_tokens_details) ? u.output_tokens_details : {};
  if (count(id.cached_tokens)) usage.cacheReadTokens = id.cached_tokens as number;
  if (count(id.cache_write_tokens)) usage.cacheWriteTokens = id.cache_write_tokens as number;
  if (count(od.reasoning_tokens)) usage.reasoningTokens = od.reasoning_tokens as number;
  return usage;
}

/** `status` and `incomplete_details` for a stop reason. */
function statusFor(stop: StopReason): { status: string; incomplete_details: JsonValue } {
  if (stop === "length") return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  if (stop === "content_filter") return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  return { status: "completed", incomplete_details: null };
}

function stopFor(status: unknown, incomplete: unknown, sawToolCall: boolean): StopReason {
  if (status === "incomplete") {
    const reason = isRecord(incomplete) ? incomplete.reason : undefined;
    return reason === "content_filter" ? "content_filter" : "length";
  }
  return sawToolCall ? "tool_calls" : "stop";
}

const responseId = (id: string): string => (id.startsWith("resp_") ? id : `resp_${id}`);
const itemBase = (id: string): string => id.replace(/^(resp_|chatcmpl-|msg_)/, "");

const messageItem = (id: string, text: string, status: string): JsonObject => ({
  id,
  type: "message",
  status,
  content: [{ type: "output_text", annotations: [], logprobs: [], text }],
  role: "assistant",
});

const reasoningItem = (id: string, text: string, encrypted: string | undefined): JsonObject => {
  const item: JsonObject = { id, type: "reasoning", summary: text ? [{ type: "summary_text", text }] : [] };
  if (encrypted !== undefined) item.encrypted_content = encrypted;
  return item;
};

/** An output tool-call item: `function_call`, or `custom_tool_call` when the caller's tool is freeform. */
function functionCallItem(id: string, call: { id: string; name: string; arguments: string }, status: string, tool?: ToolDefinition): JsonObject {
  const item: JsonObject = tool?.freeform
    ? { id, type: "custom_tool_call", status, call_id: call.id, name: call.name, input: freeformInput(call.arguments) }
    : { id, type: "function_call", status, arguments: call.arguments, call_id: call.id, name: call.name };
  if (tool?.namespace !== undefined) item.namespace = tool.namespace;
  return item;
}

/** The Response object's fields that echo the request. */
function requestEcho(req: CanonicalRequest): JsonObject {
  return {
    instructions: req.system && req.system.length > 0 ? req.system.map((s) => s.text).join("\n\n") : null,
    max_output_tokens: req.maxTokens ?? null,
    parallel_tool_calls: req.parallelToolCalls ?? true,
    previous_response_id: null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: req.reasoning?.includeThoughts ? "auto" : null },
    store: false,
    temperature: req.temperature ?? null,
    text: { format: req.responseFormat ? encodeFormat(req.responseFormat) : { type: "text" } },
    tool_choice: req.toolChoice ? encodeToolChoice(req.toolChoice) : "auto",
    tools: encodeTools(req),
    top_p: req.topP ?? null,
    truncation: "disabled",
    user: req.user ?? null,
    metadata: {},
  };
}

function responseObject(
  base: { id: string; created: number; model: string },
  req: CanonicalRequest,
  status: { status: string; incomplete_details: JsonValue },
  output: JsonObject[],
  usage: Usage | undefined,
  error: JsonValue = null,
): JsonObject {
  return {
    id: responseId(base.id),
    object: "response",
    created_at: base.created,
    status: status.status,
    error,
    incomplete_details: status.incomplete_details,
    model: base.model,
    output,
    ...requestEcho(req),
    usage: usage ? encodeUsage(usage) : null,
  };
}

function encodeResponsesResponse(res: CanonicalResponse, req: CanonicalRequest): JsonObject {
  const base = itemBase(res.id);
  const tools = toolsByName(req);
  const output: JsonObject[] = [];
  res.content.forEach((part, i) => {
    if (part.type === "text") {
      // Consecutive text parts are one message with several output_text parts.
      const last = output[output.length - 1];
      if (last && last.type === "message" && res.content[i - 1]?.type === "text") {
        (last.content as JsonObject[]).push({ type: "output_text", annotations: [], logprobs: [], text: part.text });
      } else output.push(messageItem(`msg_${base}_${i}`, part.text, "completed"));
    } else if (part.type === "reasoning") output.push(reasoningItem(part.id ?? `rs_${base}_${i}`, part.text, part.redactedData));
    else if (part.type === "tool_call") output.push(functionCallItem(`fc_${base}_${i}`, part, "completed", tools.get(part.name)));
  });
  return responseObject({ id: res.id, created: res.created, model: res.model }, req, statusFor(res.stopReason), output, res.usage);
}

/** Canonical arguments of a call item: a freeform call's text travels as `{"input": text}`. */
function callArguments(item: Record<string, unknown>): string {
  if (item.type === "custom_tool_call") return typeof item.input === "string" && item.input !== "" ? JSON.stringify({ [FREEFORM_INPUT]: item.input }) : "";
  return normalizeArguments(item.arguments);
}

function decodeResponsesResponse(body: unknown): CanonicalResponse {
  if (!isRecord(body)) throw upstreamMalformed("the body is not a JSON object");
  if (body.status === "failed" || (isRecord(body.error) && !Array.isArray(body.output))) {
    throw new BitrouterError(decodeOpenAIError(0, { error: isRecord(body.error) ? body.error : { message: "the response failed" } }));
  }
  if (!Array.isArray(body.output)) throw upstreamMalformed("no output array");
  const content: ContentPart[] = [];
  let sawToolCall = false;
  for (const item of body.output) {
    if (!isRecord(item)) continue;
    if (item.type === "message" && Array.isArray(item.content)) {
      // One text part per message item (the stream decoder makes the same blocks).
      const text = item.content
        .map((c) => (isRecord(c) ? (c.type === "refusal" ? c.refusal : c.text) : undefined))
        .filter((t): t is string => typeof t === "string")
        .join("");
      if (text !== "") content.push({ type: "text", text });
    } else if (item.type === "function_call" || item.type === "custom_tool_call") {
      sawToolCall = true;
      content.push({
        type: "tool_call",
        id: String(item.call_id ?? item.id ?? ""),
        name: typeof item.name === "string" ? item.name : "",
        arguments: callArguments(item),
      });
    } else if (item.type === "reasoning") {
      const summary = Array.isArray(item.summary) ? item.summary : [];
      const part: ReasoningPart = { type: "reasoning", text: summary.map((s) => (isRecord(s) && typeof s.text === "string" ? s.text : "")).join("\n\n") };
      if (typeof item.encrypted_content === "string") part.redactedData = item.encrypted_content;
      if (typeof item.id === "string") part.id = item.id;
      content.push(part);
    }
    // Built-in tool items (web_search_call, ...) have no canonical form and are skipped.
  }
  return {
    id: typeof body.id === "string" ? body.id : "",
    model: typeof body.model === "string" ? body.model : "",
    created: count(body.created_at) ?? 0,
    content,
    stopReason: stopFor(body.status, body.incomplete_details, sawToolCall),
    usage: responsesResponseUsage(body.usage),
  };
}

function responsesResponseUsage(value: unknown): Usage {
  return decodeUsage(value) ?? { inputTokens: 0, outputTokens: 0 };
}

// ── stream: canonical events -> SSE ───────────────────────────────────────────────────────────

interface OutItem {
  kind: "message" | "reasoning" | "function_call";
  /** Assigned when the item is announced (output_item.added); -1 while it waits in the queue. */
  outputIndex: number;
  id: string;
  text: string;
  open: boolean;
  /** reasoning: whether a summary part was announced (redacted-only reasoning has none). */
  summaryOpen?: boolean;
  encrypted?: string;
  callId?: string;
  name?: string;
  /** function_call: the caller's tool (a freeform tool's call is a custom_tool_call, its text sent whole at the end). */
  tool?: ToolDefinition;
  /** Cached JSON fragment of this item's delta events. */
  deltaJson?: string;
}

/**
 * Canonical events -> Responses SSE. Like the real API, output items never overlap on the wire:
 * one item is "active"; an item that starts while a function call is still open (interleaved
 * parallel tool calls) waits in a queue with its deltas buffered until the active one is done.
 * A new text or reasoning part closes everything open before it.
 */
class ResponsesStreamEncoder implements StreamEncoder {
  private seq = 0;
  private base: { id: string; created: number; model: string };
  private started = false;
  private state: "open" | "finished" | "errored" = "open";
  /** Announced items, in output order. */
  private readonly items: OutItem[] = [];
  private readonly byIndex = new Map<number, OutItem>();
  private active: OutItem | undefined;
  private readonly queue: OutItem[] = [];
  private usage: Usage | undefined;

  private readonly tools: Map<string, ToolDefinition>;

  constructor(private readonly request: CanonicalRequest) {
    this.base = { id: "resp_bitrouter", created: 0, model: request.model };
    this.tools = toolsByName(request);
  }

  private toolExtra(name: string): Partial<OutItem> {
    const tool = this.tools.get(name);
    return tool ? { tool } : {};
  }

  private emit(type: string, payload: JsonObject): string {
    return formatSse({ type, sequence_number: this.seq++, ...payload }, type);
  }

  private snapshot(status: { status: string; incomplete_details: JsonValue }, error: JsonValue = null): JsonObject {
    return responseObject(
      this.base,
      this.request,
      status,
      this.items.map((i) => this.itemJson(i)),
      this.usage,
      error,
    );
  }

  private ensureStarted(): string {
    if (this.started) return "";
    this.started = true;
    const inProgress = { status: "in_progress", incomplete_details: null };
    return this.emit("response.created", { response: this.snapshot(inProgress) }) + this.emit("response.in_progress", { response: this.snapshot(inProgress) });
  }

  private itemJson(item: OutItem): JsonObject {
    const status = item.open ? "in_progress" : "completed";
    if (item.kind === "message") return messageItem(item.id, item.text, status);
    if (item.kind === "reasoning") return reasoningItem(item.id, item.text, item.encrypted);
    return functionCallItem(item.id, { id: item.callId ?? "", name: item.name ?? "", arguments: item.text }, status, item.tool);
  }

  /** The item for canonical part `index`, created (and announced or queued) on first use. */
  private open(index: number, kind: OutItem["kind"], extra: Partial<OutItem> = {}): { item: OutItem; out: string } {
    let out = this.ensureStarted();
    const existing = this.byIndex.get(index);
    if (existing) return { item: existing, out };
    const prefix = kind === "message" ? "msg" : kind === "reasoning" ? "rs" : "fc";
    const item: OutItem = { kind, outputIndex: -1, id: `${prefix}_${itemBase(this.base.id)}_${index}`, text: "", open: true, ...extra };
    this.byIndex.set(index, item);
    if (kind !== "function_call") out += this.closeAll();
    if (this.active) this.queue.push(item);
    else out += this.announce(item);
    return { item, out };
  }

  /** output_item.added (+ the buffered text of a queued item); closes it at once if it ended meanwhile. */
  private announce(item: OutItem): string {
    item.outputIndex = this.items.length;
    this.items.push(item);
    this.active = item;
    const added: JsonObject =
      item.kind === "message"
        ? { id: item.id, type: "message", status: "in_progress", content: [], role: "assistant" }
        : item.kind === "reasoning"
          ? { id: item.id, type: "reasoning", summary: [] }
          : functionCallItem(item.id, { id: item.callId ?? "", name: item.name ?? "", arguments: "" }, "in_progress", item.tool);
    let out = this.emit("response.output_item.added", { output_index: item.outputIndex, item: added });
    if (item.kind === "message") {
      out += this.emit("response.content_part.added", {
        item_id: item.id,
        output_index: item.outputIndex,
        content_index: 0,
        part: { type: "output_text", annotations: [], logprobs: [], text: "" },
      });
    }
    if (item.text !== "") out += this.deltaEvent(item, item.text);
    if (!item.open) out += this.finishActive();
    return out;
  }

  /** The delta event of an announced item. */
  private deltaEvent(item: OutItem, delta: string): string {
    // The hot path (one event per token): the constant part of the JSON is built once per item.
    if (item.kind === "message") {
      item.deltaJson ??= `,"item_id":${JSON.stringify(item.id)},"output_index":${item.outputIndex},"content_index":0,"delta":`;
      return `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":${this.seq++}${item.deltaJson}${JSON.stringify(delta)},"logprobs":[]}\n\n`;
    }
    if (item.kind === "function_call") {
      if (item.tool?.freeform) return ""; // the text is inside JSON arguments: sent whole when the call ends
      item.deltaJson ??= `,"item_id":${JSON.stringify(item.id)},"output_index":${item.outputIndex},"delta":`;
      return `event: response.function_call_arguments.delta\ndata: {"type":"response.function_call_arguments.delta","sequence_number":${this.seq++}${item.deltaJson}${JSON.stringify(delta)}}\n\n`;
    }
    const at = { item_id: item.id, output_index: item.outputIndex };
    let out = "";
    if (!item.summaryOpen) {
      item.summaryOpen = true;
      out += this.emit("response.reasoning_summary_part.added", { ...at, summary_index: 0, part: { type: "summary_text", text: "" } });
    }
    return out + this.emit("response.reasoning_summary_text.delta", { ...at, summary_index: 0, delta });
  }

  private append(item: OutItem, delta: string): string {
    if (!item.open || delta === "") return "";
    item.text += delta;
    return item === this.active ? this.deltaEvent(item, delta) : "";
  }

  /** The done events of the active item, then the next queued item takes its place. */
  private finishActive(): string {
    const item = this.active;
    if (!item) return "";
    this.active = undefined;
    item.open = false;
    const at = { item_id: item.id, output_index: item.outputIndex };
    let out = "";
    if (item.kind === "message") {
      out += this.emit("response.output_text.done", { ...at, content_index: 0, text: item.text, logprobs: [] });
      out += this.emit("response.content_part.done", {
        ...at,
        content_index: 0,
        part: { type: "output_text", annotations: [], logprobs: [], text: item.text },
      });
    } else if (item.kind === "reasoning" && item.summaryOpen) {
      out += this.emit("response.reasoning_summary_text.done", { ...at, summary_index: 0, text: item.text });
      out += this.emit("response.reasoning_summary_part.done", { ...at, summary_index: 0, part: { type: "summary_text", text: item.text } });
    } else if (item.kind === "function_call" && item.tool?.freeform) {
      const input = freeformInput(item.text);
      out += this.emit("response.custom_tool_call_input.delta", { ...at, delta: input });
      out += this.emit("response.custom_tool_call_input.done", { ...at, input });
    } else if (item.kind === "function_call") {
      out += this.emit("response.function_call_arguments.done", { ...at, arguments: item.text, name: item.name ?? "" });
    }
    out += this.emit("response.output_item.done", { output_index: item.outputIndex, item: this.itemJson(item) });
    const next = this.queue.shift();
    return next ? out + this.announce(next) : out;
  }

  private close(item: OutItem): string {
    if (!item.open) return "";
    if (item !== this.active) {
      item.open = false; // queued: announced and finished when its turn comes
      return "";
    }
    return this.finishActive();
  }

  private closeAll(): string {
    for (const item of this.queue) item.open = false;
    return this.finishActive();
  }

  encode(event: StreamEvent): string {
    if (this.state !== "open") return "";
    switch (event.type) {
      case "start":
        if (this.started) return "";
        this.base = { id: event.id || this.base.id, created: event.created, model: event.model || this.request.model };
        return this.ensureStarted();
      case "text_delta": {
        if (!event.text) return "";
        const { item, out } = this.open(event.index, "message");
        return item.kind === "message" ? out + this.append(item, event.text) : out;
      }
      case "reasoning_delta": {
        if (!event.text) return "";
        const { item, out } = this.open(event.index, "reasoning");
        return item.kind === "reasoning" ? out + this.append(item, event.text) : out;
      }
      case "reasoning_signature": {
        if (event.redactedData === undefined) return "";
        const { item, out } = this.open(event.index, "reasoning");
        if (item.kind === "reasoning") item.encrypted = event.redactedData;
        return out;
      }
      case "tool_call_start":
        return this.open(event.index, "function_call", { callId: event.id, name: event.name, ...this.toolExtra(event.name) }).out;
      case "tool_call_delta": {
        const item = this.byIndex.get(event.index);
        return item?.kind === "function_call" ? this.append(item, event.argumentsDelta) : "";
      }
      case "part_end": {
        const item = this.byIndex.get(event.index);
        return item ? this.close(item) : "";
      }
      case "usage":
        this.usage = event.usage;
        return "";
      case "finish": {
        this.state = "finished";
        if (event.usage) this.usage = event.usage;
        const out = this.ensureStarted() + this.closeAll();
        const status = statusFor(event.stopReason);
        const type = status.status === "completed" ? "response.completed" : "response.incomplete";
        return out + this.emit(type, { response: this.snapshot(status) });
      }
      case "error":
        return this.fail(event.error);
      default:
        return "";
    }
  }

  /** The API's failure shape: an `error` event, then `response.failed` (never a completed response). */
  private fail(error: ErrorInfo): string {
    this.state = "errored";
    const code = error.code ?? error.kind;
    let out = this.ensureStarted();
    out += this.emit("error", { code, message: error.message, param: error.param ?? null });
    return out + this.emit("response.failed", { response: this.snapshot({ status: "failed", incomplete_details: null }, { code, message: error.message }) });
  }

  end(): string {
    if (this.state !== "open") return "";
    return this.fail({ kind: "upstream", message: "stream ended early", status: 502 });
  }
}

// ── stream: SSE -> canonical events ───────────────────────────────────────────────────────────

class ResponsesStreamDecoder implements StreamDecoder {
  private started = false;
  private done = false;
  private nextIndex = 0;
  /** output_index -> canonical part index. */
  private readonly parts = new Map<number, { index: number; kind: string; gotArgs?: boolean; summaryIndex?: number }>();
  private sawToolCall = false;
  private usage: Usage | undefined;

  decode(event: SseEvent): StreamEvent[] {
    if (this.done) return [];
    const data = event.data.trim();
    if (data === "" || data === "[DONE]") return [];
    let e: unknown;
    try {
      e = JSON.parse(data);
    } catch {
      return this.fail({ kind: "upstream", message: `upstream sent a malformed stream event: ${redactSecrets(data.slice(0, 100))}`, status: 502 });
    }
    if (!isRecord(e)) return [];
    const type = typeof e.type === "string" ? e.type : event.event;
    const out: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      const r = isRecord(e.response) ? e.response : {};
      out.push({
        type: "start",
        id: typeof r.id === "string" ? r.id : "",
        model: typeof r.model === "string" ? r.model : "",
        created: count(r.created_at) ?? 0,
      });
    }
    const outputIndex = count(e.output_index) ?? 0;
    switch (type) {
      case "response.output_item.added": {
        const item = isRecord(e.item) ? e.item : {};
        if (item.type === "function_call" || item.type === "custom_tool_call") this.toolStart(outputIndex, item, out);
        break;
      }
      case "response.output_text.delta":
      case "response.refusal.delta":
        if (typeof e.delta === "string" && e.delta !== "") out.push({ type: "text_delta", index: this.part(outputIndex, "text").index, text: e.delta });
        break;
      case "response.reasoning_summary_text.delta":
      case "response.reasoning_text.delta": {
        if (typeof e.delta !== "string" || e.delta === "") break;
        const part = this.part(outputIndex, "reasoning");
        // Several summary parts of one reasoning item form one block, separated by a blank line.
        const summaryIndex = count(e.summary_index) ?? 0;
        const sep = part.summaryIndex !== undefined && part.summaryIndex !== summaryIndex ? "\n\n" : "";
        part.summaryIndex = summaryIndex;
        out.push({ type: "reasoning_delta", index: part.index, text: sep + e.delta });
        break;
      }
      case "response.function_call_arguments.delta": {
        const part = this.parts.get(outputIndex);
        if (part?.kind === "tool" && typeof e.delta === "string" && e.delta !== "") {
          part.gotArgs = true;
          out.push({ type: "tool_call_delta", index: part.index, argumentsDelta: e.delta });
        }
        break;
      }
      case "response.function_call_arguments.done": {
        const part = this.parts.get(outputIndex);
        // Servers that send only the final arguments still give the whole call.
        if (part?.kind === "tool" && !part.gotArgs && typeof e.arguments === "string" && e.arguments !== "") {
          part.gotArgs = true;
          out.push({ type: "tool_call_delta", index: part.index, argumentsDelta: e.arguments });
        }
        break;
      }
      case "response.output_item.done": {
        const item = isRecord(e.item) ? e.item : {};
        if (item.type === "function_call" || item.type === "custom_tool_call") {
          let part = this.parts.get(outputIndex);
          if (!part) part = this.toolStart(outputIndex, item, out);
          const args = callArguments(item);
          if (!part.gotArgs && args !== "") {
            part.gotArgs = true;
            out.push({ type: "tool_call_delta", index: part.index, argumentsDelta: args });
          }
        } else if (item.type === "reasoning" && typeof item.encrypted_content === "string") {
          out.push({ type: "reasoning_signature", index: this.part(outputIndex, "reasoning").index, redactedData: item.encrypted_content });
        }
        const part = this.parts.get(outputIndex);
        if (part) out.push({ type: "part_end", index: part.index });
        break;
      }
      case "response.completed":
      case "response.incomplete": {
        const r = isRecord(e.response) ? e.response : {};
        const usage = decodeUsage(r.usage) ?? this.usage;
        if (usage) out.push({ type: "usage", usage });
        const finish: StreamEvent = { type: "finish", stopReason: stopFor(r.status, r.incomplete_details, this.sawToolCall) };
        if (usage) finish.usage = usage;
        out.push(finish);
        this.done = true;
        break;
      }
      case "response.failed": {
        const r = isRecord(e.response) ? e.response : {};
        this.done = true;
        out.push({ type: "error", error: decodeOpenAIError(0, { error: isRecord(r.error) ? r.error : { message: "the response failed" } }) });
        break;
      }
      case "error":
        this.done = true;
        out.push({ type: "error", error: decodeOpenAIError(0, isRecord(e.error) ? e : { error: e }) });
        break;
      default:
        // created / in_progress / content_part / *.done events carry nothing new for us.
        break;
    }
    return out;
  }

  end(): StreamEvent[] {
    if (this.done) return [];
    return this.fail({ kind: "upstream", message: "stream ended early: no response.completed before the connection closed", status: 502 });
  }

  private part(outputIndex: number, kind: string): { index: number; kind: string; gotArgs?: boolean; summaryIndex?: number } {
    let part = this.parts.get(outputIndex);
    if (!part) {
      part = { index: this.nextIndex++, kind };
      this.parts.set(outputIndex, part);
    }
    return part;
  }

  private toolStart(outputIndex: number, item: Record<string, unknown>, out: StreamEvent[]): { index: number; kind: string; gotArgs?: boolean } {
    this.sawToolCall = true;
    const part = this.part(outputIndex, "tool");
    out.push({
      type: "tool_call_start",
      index: part.index,
      id: String(item.call_id ?? item.id ?? `call_${part.index}`),
      name: typeof item.name === "string" ? item.name : "",
    });
    const args = callArguments(item);
    if (args !== "") {
      part.gotArgs = true;
      out.push({ type: "tool_call_delta", index: part.index, argumentsDelta: args });
    }
    return part;
  }

  private fail(error: ErrorInfo): StreamEvent[] {
    this.done = true;
    const event: StreamEvent = { type: "error", error };
    return this.started ? [event] : [{ type: "start", id: "", model: "", created: 0 }, event];
  }
}

// ── the codec ─────────────────────────────────────────────────────────────────────────────────

export const openaiResponsesCodec: Codec = {
  protocol: "openai-responses",
  decodeRequest: decodeResponsesRequest,
  encodeResponse: encodeResponsesResponse,
  createStreamEncoder: (request) => new ResponsesStreamEncoder(request),
  encodeError: encodeOpenAIError,
  encodeRequest: encodeResponsesRequest,
  decodeResponse: decodeResponsesResponse,
  responseUsage: { field: "usage", decode: responsesResponseUsage },
  createStreamDecoder: () => new ResponsesStreamDecoder(),
  decodeError: decodeOpenAIError,
};
