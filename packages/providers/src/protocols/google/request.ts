/** Gemini generateContent requests: wire -> canonical (inbound) and canonical -> wire (outbound). */
import type {
  CanonicalRequest,
  ContentPart,
  ImagePart,
  JsonObject,
  MediaSource,
  Message,
  ReasoningConfig,
  ReasoningEffort,
  ResponseFormat,
  TextPart,
  ToolDefinition,
} from "@bitrouter/core";
import type { DecodeRequestOptions, EncodeRequestOptions, UpstreamRequest } from "../../codec.js";
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
import { fromGeminiSchema, lowerCaseSchemaTypes, toGeminiSchema } from "./schema.js";

/** Thinking budgets used when a caller asks for a reasoning effort instead of a budget. */
export const GEMINI_EFFORT_BUDGETS: Record<ReasoningEffort, number> = { minimal: 512, low: 2048, medium: 8192, high: 24576 };
// ── Requests: Gemini wire -> canonical ────────────────────────────────────────────────────────

function mediaPart(mimeType: string, source: MediaSource): ContentPart {
  if (mimeType.startsWith("image/")) return { type: "image", source };
  return { type: "file", source, mediaType: mimeType };
}

/** Tracks tool calls in a request so id-less function calls and responses pair up. */
class CallIds {
  private next = 0;
  private readonly pending: Array<{ id: string; name: string }> = [];

  call(id: string | undefined, name: string): string {
    const callId = id ?? `call_${this.next++}`;
    this.pending.push({ id: callId, name });
    return callId;
  }

  response(id: string | undefined, name: string): string {
    const at = this.pending.findIndex((p) => (id !== undefined ? p.id === id : p.name === name));
    const [match] = at >= 0 ? this.pending.splice(at, 1) : [];
    return match?.id ?? id ?? `call_${this.next++}`;
  }
}

function toolResultContent(response: unknown): TextPart[] {
  if (isRecord(response)) {
    const keys = Object.keys(response);
    // Gemini's documented convention is {"output": ...} / {"error": ...}; plain strings unwrap.
    if (keys.length === 1 && (keys[0] === "output" || keys[0] === "error") && typeof response[keys[0]] === "string") {
      return [{ type: "text", text: response[keys[0]] as string }];
    }
    // @ai-sdk/google wraps every result as {name, content}: the content is the result.
    if (keys.length === 2 && typeof response.name === "string" && "content" in response) {
      const content = response.content;
      return [{ type: "text", text: typeof content === "string" ? content : JSON.stringify(content ?? null) }];
    }
  }
  return [{ type: "text", text: JSON.stringify(response ?? {}) }];
}

function decodePart(value: unknown, param: string, role: Message["role"], ids: CallIds): ContentPart[] {
  const part = requireRecord(value, param);
  const signature = optionalString(part.thoughtSignature, `${param}.thoughtSignature`);
  const out: ContentPart[] = [];
  if (part.thought === true) {
    const reasoning: ContentPart = { type: "reasoning", text: optionalString(part.text, `${param}.text`) ?? "" };
    if (signature !== undefined) reasoning.signature = signature;
    return [reasoning];
  }
  if (signature !== undefined) out.push({ type: "reasoning", text: "", signature });
  if (typeof part.text === "string") {
    out.push({ type: "text", text: part.text });
  } else if (part.inlineData !== undefined) {
    const data = requireRecord(part.inlineData, `${param}.inlineData`);
    const mimeType = requireString(data.mimeType, `${param}.inlineData.mimeType`);
    out.push(mediaPart(mimeType, { kind: "base64", mediaType: mimeType, data: requireString(data.data, `${param}.inlineData.data`) }));
  } else if (part.fileData !== undefined) {
    const data = requireRecord(part.fileData, `${param}.fileData`);
    const mimeType = optionalString(data.mimeType, `${param}.fileData.mimeType`);
    const source: MediaSource = { kind: "url", url: requireString(data.fileUri, `${param}.fileData.fileUri`) };
    out.push(mimeType === undefined ? { type: "file", source } : mediaPart(mimeType, source));
  } else if (part.functionCall !== undefined) {
    const call = requireRecord(part.functionCall, `${param}.functionCall`);
    const name = requireString(call.name, `${param}.functionCall.name`);
    const args = call.args === undefined || call.args === null ? {} : requireRecord(call.args, `${param}.functionCall.args`);
    const id = ids.call(optionalString(call.id, `${param}.functionCall.id`), name);
    out.push({ type: "tool_call", id, name, arguments: JSON.stringify(args) });
  } else if (part.functionResponse !== undefined) {
    const response = requireRecord(part.functionResponse, `${param}.functionResponse`);
    const name = requireString(response.name, `${param}.functionResponse.name`);
    const id = ids.response(optionalString(response.id, `${param}.functionResponse.id`), name);
    const isError = isRecord(response.response) && Object.keys(response.response).length === 1 && "error" in response.response;
    const result: ContentPart = { type: "tool_result", toolCallId: id, name, content: toolResultContent(response.response) };
    if (isError) result.isError = true;
    out.push(result);
  } else if (signature === undefined) {
    throw invalidRequest(
      `${param} must have one of text, inlineData, fileData, functionCall or functionResponse (executableCode and other part kinds are not supported)`,
      param,
    );
  }
  if (role === "user" && out.some((p) => p.type === "tool_call")) throw invalidRequest(`${param}.functionCall must be in a "model" turn`, param);
  return out;
}

function decodeContents(value: unknown): Message[] {
  const ids = new CallIds();
  return requireArray(value, "contents").map((item, i) => {
    const param = `contents[${i}]`;
    const content = requireRecord(item, param);
    const wireRole = content.role ?? "user";
    // "function" is the role older Gemini clients used for function responses.
    if (wireRole !== "user" && wireRole !== "model" && wireRole !== "function") {
      throw invalidRequest(`${param}.role must be "user" or "model", got ${JSON.stringify(wireRole)}`, `${param}.role`);
    }
    const role = wireRole === "model" ? "assistant" : "user";
    const parts = requireArray(content.parts, `${param}.parts`).flatMap((p, j) => decodePart(p, `${param}.parts[${j}]`, role, ids));
    return { role, content: parts };
  });
}

function decodeTools(value: unknown): ToolDefinition[] | undefined {
  if (value === undefined || value === null) return undefined;
  const tools: ToolDefinition[] = [];
  requireArray(value, "tools").forEach((item, i) => {
    const tool = requireRecord(item, `tools[${i}]`);
    const other = Object.keys(tool).find((k) => k !== "functionDeclarations");
    if (other !== undefined) {
      throw invalidRequest(
        `tools[${i}].${other} is a Gemini built-in tool, which BitRouter cannot translate to other providers; only functionDeclarations are supported`,
        `tools[${i}].${other}`,
      );
    }
    requireArray(tool.functionDeclarations ?? [], `tools[${i}].functionDeclarations`).forEach((d, j) => {
      const param = `tools[${i}].functionDeclarations[${j}]`;
      const decl = requireRecord(d, param);
      let parameters: JsonObject;
      if (decl.parametersJsonSchema !== undefined)
        parameters = lowerCaseSchemaTypes(requireRecord(decl.parametersJsonSchema, `${param}.parametersJsonSchema`) as JsonObject) as JsonObject;
      else if (decl.parameters !== undefined) parameters = fromGeminiSchema(requireRecord(decl.parameters, `${param}.parameters`) as JsonObject);
      else parameters = { type: "object", properties: {} };
      const def: ToolDefinition = { name: requireString(decl.name, `${param}.name`), parameters };
      const description = optionalString(decl.description, `${param}.description`);
      if (description !== undefined) def.description = description;
      tools.push(def);
    });
  });
  return tools;
}

function decodeToolConfig(value: unknown, request: CanonicalRequest): void {
  if (!isRecord(value) || value.functionCallingConfig === undefined) return;
  const config = requireRecord(value.functionCallingConfig, "toolConfig.functionCallingConfig");
  const mode = optionalString(config.mode, "toolConfig.functionCallingConfig.mode");
  const names = optionalStringArray(config.allowedFunctionNames, "toolConfig.functionCallingConfig.allowedFunctionNames");
  if (mode === undefined || mode === "AUTO" || mode === "VALIDATED" || mode === "MODE_UNSPECIFIED") request.toolChoice = { type: "auto" };
  else if (mode === "NONE") request.toolChoice = { type: "none" };
  else if (mode === "ANY") request.toolChoice = names?.length === 1 && names[0] !== undefined ? { type: "tool", name: names[0] } : { type: "required" };
  else
    throw invalidRequest(
      `toolConfig.functionCallingConfig.mode must be AUTO, ANY, NONE or VALIDATED, got ${JSON.stringify(mode)}`,
      "toolConfig.functionCallingConfig.mode",
    );
}

function decodeGenerationConfig(value: unknown, request: CanonicalRequest): void {
  if (value === undefined || value === null) return;
  const g = requireRecord(value, "generationConfig");
  const p = (key: string) => `generationConfig.${key}`;
  const numbers: Array<[string, "temperature" | "topP" | "topK" | "maxTokens" | "seed" | "presencePenalty" | "frequencyPenalty"]> = [
    ["temperature", "temperature"],
    ["topP", "topP"],
    ["topK", "topK"],
    ["maxOutputTokens", "maxTokens"],
    ["seed", "seed"],
    ["presencePenalty", "presencePenalty"],
    ["frequencyPenalty", "frequencyPenalty"],
  ];
  for (const [wire, field] of numbers) {
    const n = optionalNumber(g[wire], p(wire));
    if (n !== undefined) request[field] = n;
  }
  const stop = optionalStringArray(g.stopSequences, p("stopSequences"));
  if (stop && stop.length > 0) request.stop = stop;
  const candidates = optionalNumber(g.candidateCount, p("candidateCount"));
  if (candidates !== undefined && candidates !== 1)
    throw invalidRequest("generationConfig.candidateCount must be 1: BitRouter returns one candidate", p("candidateCount"));
  const mime = optionalString(g.responseMimeType, p("responseMimeType"));
  if (mime === "application/json") {
    let format: ResponseFormat = { type: "json_object" };
    if (g.responseJsonSchema !== undefined && g.responseJsonSchema !== null) {
      format = {
        type: "json_schema",
        name: "response",
        schema: lowerCaseSchemaTypes(requireRecord(g.responseJsonSchema, p("responseJsonSchema")) as JsonObject) as JsonObject,
      };
    } else if (g.responseSchema !== undefined && g.responseSchema !== null) {
      format = { type: "json_schema", name: "response", schema: fromGeminiSchema(requireRecord(g.responseSchema, p("responseSchema")) as JsonObject) };
    }
    request.responseFormat = format;
  }
  if (g.thinkingConfig !== undefined && g.thinkingConfig !== null) {
    const t = requireRecord(g.thinkingConfig, p("thinkingConfig"));
    const reasoning: ReasoningConfig = {};
    const budget = optionalNumber(t.thinkingBudget, p("thinkingConfig.thinkingBudget"));
    if (budget === 0) reasoning.enabled = false;
    else if (budget !== undefined && budget > 0) reasoning.budgetTokens = budget;
    else if (budget === -1) reasoning.enabled = true;
    const level = optionalString(t.thinkingLevel, p("thinkingConfig.thinkingLevel"));
    if (level !== undefined) {
      const l = level.toLowerCase();
      if (l === "minimal" || l === "low" || l === "medium" || l === "high") reasoning.effort = l;
    }
    const include = optionalBoolean(t.includeThoughts, p("thinkingConfig.includeThoughts"));
    if (include !== undefined) reasoning.includeThoughts = include;
    request.reasoning = reasoning;
  }
}

export function decodeRequest(body: unknown, options: DecodeRequestOptions = {}): CanonicalRequest {
  const b = requireRecord(body, "body");
  const model = options.model ?? optionalString(b.model, "model");
  if (model === undefined || model === "") throw invalidRequest("the model is missing from the URL (/v1beta/models/{model}:generateContent)", "model");
  const request: CanonicalRequest = {
    model: model.replace(/^models\//, ""),
    messages: decodeContents(b.contents),
    stream: options.stream ?? false,
  };
  if (b.systemInstruction !== undefined && b.systemInstruction !== null) {
    const sys = requireRecord(b.systemInstruction, "systemInstruction");
    const texts = requireArray(sys.parts, "systemInstruction.parts").map((part, i) => {
      const p = requireRecord(part, `systemInstruction.parts[${i}]`);
      return { type: "text", text: requireString(p.text, `systemInstruction.parts[${i}].text`) } satisfies TextPart;
    });
    if (texts.length > 0) request.system = texts;
  }
  const tools = decodeTools(b.tools);
  if (tools && tools.length > 0) request.tools = tools;
  decodeToolConfig(b.toolConfig, request);
  decodeGenerationConfig(b.generationConfig, request);
  return request;
}

// ── Requests: canonical -> Gemini wire ────────────────────────────────────────────────────────

/**
 * A media part for Gemini. URLs become `fileData`, whose mimeType is the known one, else guessed
 * from the URL's extension, else (for images, where the kind is known) image/jpeg, else omitted.
 */
function encodeMedia(source: MediaSource, mimeType: string | undefined, isImage: boolean): JsonObject {
  if (source.kind === "base64") return { inlineData: { mimeType: source.mediaType, data: source.data } };
  const mime = mimeType ?? guessMime(source.url) ?? (isImage ? "image/jpeg" : undefined);
  return { fileData: mime === undefined ? { fileUri: source.url } : { mimeType: mime, fileUri: source.url } };
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  pdf: "application/pdf",
};

function guessMime(url: string): string | undefined {
  const ext = /\.([a-z0-9]+)(?:$|[?#])/i.exec(url)?.[1]?.toLowerCase();
  return ext === undefined ? undefined : MIME_BY_EXTENSION[ext];
}

function toolResponseBody(content: Array<TextPart | ImagePart>, isError: boolean | undefined): JsonObject {
  const text = content
    .filter((p): p is TextPart => p.type === "text")
    .map((p) => p.text)
    .join("");
  // Only text that looks like an object is tried as JSON (a failed parse throws, which is slow).
  if (!isError && text.trimStart().startsWith("{")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isRecord(parsed)) return parsed as JsonObject;
    } catch {
      // not JSON: wrapped below
    }
  }
  return isError ? { error: text } : { output: text };
}

/** A signature carried by a preceding empty reasoning part, waiting for the next part. */
export interface PendingSignature {
  value?: string | undefined;
}

/** `part` with the pending signature attached (which is then used up). */
export function signPart(part: JsonObject, signature: PendingSignature): JsonObject {
  if (signature.value !== undefined) {
    part.thoughtSignature = signature.value;
    signature.value = undefined;
  }
  return part;
}

/** Appends `part`, attaching a signature carried by a preceding empty reasoning part. */
export function pushPart(parts: JsonObject[], part: JsonObject, signature: PendingSignature): void {
  parts.push(signPart(part, signature));
}

function encodeContents(messages: Message[]): JsonObject[] {
  const names = new Map<string, string>();
  for (const msg of messages) for (const part of msg.content) if (part.type === "tool_call") names.set(part.id, part.name);
  const contents: JsonObject[] = [];
  messages.forEach((msg, i) => {
    if (msg.role === "system") return; // sent in systemInstruction (see encodeRequest)
    const parts: JsonObject[] = [];
    const signature: { value?: string } = {};
    msg.content.forEach((part, j) => {
      const param = `messages[${i}].content[${j}]`;
      switch (part.type) {
        case "text":
          pushPart(parts, { text: part.text }, signature);
          break;
        case "image":
          pushPart(parts, encodeMedia(part.source, undefined, true), signature);
          break;
        case "file":
          if (part.source.kind === "file_id") throw invalidRequest("Gemini cannot reference OpenAI/Anthropic file ids; send the file inline or by URL", param);
          pushPart(parts, encodeMedia(part.source, part.mediaType, false), signature);
          break;
        case "reasoning":
          if (msg.role !== "assistant") break;
          if (part.text === "" && part.signature !== undefined) signature.value = part.signature;
          else if (part.text !== "") pushPart(parts, { text: part.text, thought: true, ...(part.signature ? { thoughtSignature: part.signature } : {}) }, {});
          break;
        case "tool_call":
          pushPart(parts, { functionCall: { id: part.id, name: part.name, args: parseToolArguments(part.arguments, `${param}.arguments`) } }, signature);
          break;
        case "tool_result": {
          const name = part.name ?? names.get(part.toolCallId);
          if (name === undefined) {
            throw invalidRequest(`tool result ${JSON.stringify(part.toolCallId)} matches no earlier tool call, and Gemini needs the function name`, param);
          }
          parts.push({ functionResponse: { id: part.toolCallId, name, response: toolResponseBody(part.content, part.isError) } });
          // Gemini function responses carry JSON only: images of a tool result follow as parts.
          for (const c of part.content) if (c.type === "image") parts.push(encodeMedia(c.source, undefined, true));
          break;
        }
      }
    });
    // A turn left empty (it held only parts Gemini cannot take) would be rejected: skip it.
    if (parts.length === 0 && msg.content.length > 0) return;
    contents.push({ role: msg.role === "assistant" ? "model" : "user", parts });
  });
  return contents;
}

function encodeThinking(reasoning: ReasoningConfig | undefined): JsonObject | undefined {
  if (!reasoning) return undefined;
  const config: JsonObject = {};
  if (reasoning.enabled === false) config.thinkingBudget = 0;
  else if (reasoning.budgetTokens !== undefined) config.thinkingBudget = reasoning.budgetTokens;
  else if (reasoning.effort !== undefined) config.thinkingBudget = GEMINI_EFFORT_BUDGETS[reasoning.effort];
  else if (reasoning.enabled === true) config.thinkingBudget = -1; // dynamic
  if (reasoning.includeThoughts !== undefined && reasoning.enabled !== false) config.includeThoughts = reasoning.includeThoughts;
  return Object.keys(config).length > 0 ? config : undefined;
}

function encodeTool(tool: ToolDefinition): JsonObject {
  const decl: JsonObject = { name: tool.name };
  if (tool.description !== undefined) decl.description = tool.description;
  const params = toGeminiSchema(tool.parameters.type === undefined ? { type: "object", ...tool.parameters } : tool.parameters);
  // Gemini rejects an OBJECT schema without properties: a parameterless tool sends no schema.
  const parameterless = params.type === "OBJECT" && (!isRecord(params.properties) || Object.keys(params.properties).length === 0);
  if (!parameterless) decl.parameters = params;
  return decl;
}

export function encodeRequest(request: CanonicalRequest, options: EncodeRequestOptions): UpstreamRequest {
  const model = options.model.replace(/^models\//, "");
  const path = `/v1beta/models/${encodeURIComponent(model)}:${request.stream ? "streamGenerateContent?alt=sse" : "generateContent"}`;
  const body: JsonObject = { contents: encodeContents(request.messages) };
  // Gemini has no mid-conversation system message: those instructions join systemInstruction.
  const system = [...(request.system ?? []), ...request.messages.flatMap((m) => (m.role === "system" ? m.content : []))];
  if (system.length > 0) body.systemInstruction = { parts: system.map((p) => ({ text: p.text })) };
  if (request.tools && request.tools.length > 0) {
    body.tools = [{ functionDeclarations: request.tools.map(encodeTool) }];
    const choice = request.toolChoice;
    let config: JsonObject | undefined;
    if (choice?.type === "auto") config = { mode: "AUTO" };
    else if (choice?.type === "none") config = { mode: "NONE" };
    else if (choice?.type === "required") config = { mode: "ANY" };
    else if (choice?.type === "tool") config = { mode: "ANY", allowedFunctionNames: [choice.name] };
    if (config) body.toolConfig = { functionCallingConfig: config };
  }
  const g: JsonObject = {};
  if (request.temperature !== undefined) g.temperature = request.temperature;
  if (request.topP !== undefined) g.topP = request.topP;
  if (request.topK !== undefined) g.topK = request.topK;
  if (request.maxTokens !== undefined) g.maxOutputTokens = request.maxTokens;
  if (request.stop && request.stop.length > 0) g.stopSequences = request.stop;
  if (request.seed !== undefined) g.seed = request.seed;
  if (request.presencePenalty !== undefined) g.presencePenalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) g.frequencyPenalty = request.frequencyPenalty;
  const format = request.responseFormat;
  if (format?.type === "json_object" || format?.type === "json_schema") g.responseMimeType = "application/json";
  if (format?.type === "json_schema") g.responseSchema = toGeminiSchema(format.schema);
  const thinking = encodeThinking(request.reasoning);
  if (thinking) g.thinkingConfig = thinking;
  if (Object.keys(g).length > 0) body.generationConfig = g;
  return { path, body };
}
