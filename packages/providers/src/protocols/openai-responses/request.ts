/** OpenAI Responses requests: wire -> canonical (inbound) and canonical -> wire (outbound). */
import { FREEFORM_INPUT } from "@bitrouter/core";
import type {
  AssistantMessage,
  CanonicalRequest,
  ContentPart,
  FilePart,
  HostedTool,
  ImagePart,
  JsonObject,
  JsonValue,
  Message,
  ReasoningConfig,
  ReasoningPart,
  ResponseFormat,
  TextPart,
  ToolChoice,
  ToolDefinition,
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
  requireArray,
  requireRecord,
  requireString,
} from "../util.js";
import { decodeEffort, fileDataSource, jsonSchemaFormat, optInteger, toolDefinition } from "../openai-chat/request.js";

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
export function freeformInput(args: string): string {
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

export function decodeResponsesRequest(body: unknown, options?: DecodeRequestOptions): CanonicalRequest {
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
export function toolsByName(req: CanonicalRequest): Map<string, ToolDefinition> {
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

export function encodeResponsesRequest(req: CanonicalRequest, options: EncodeRequestOptions): UpstreamRequest {
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
export function encodeTools(req: CanonicalRequest): JsonObject[] {
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

export function encodeToolChoice(tc: ToolChoice): JsonValue {
  return tc.type === "tool" ? { type: "function", name: tc.name } : tc.type;
}

export function encodeFormat(rf: ResponseFormat): JsonObject {
  if (rf.type !== "json_schema") return { type: rf.type };
  const f: JsonObject = { type: "json_schema", name: rf.name, schema: rf.schema };
  if (rf.strict !== undefined) f.strict = rf.strict;
  if (rf.description !== undefined) f.description = rf.description;
  return f;
}
