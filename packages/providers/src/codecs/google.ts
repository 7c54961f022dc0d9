/**
 * Google Gemini API codec (`POST /v1beta/models/{model}:generateContent` and
 * `:streamGenerateContent?alt=sse`). The model and the streaming choice live in the URL.
 * What Gemini cannot express is listed in docs/protocol-mapping.md.
 *
 * Thought signatures: Gemini attaches an opaque `thoughtSignature` to thought parts and also to
 * ordinary parts (function calls, text) that must be sent back verbatim. A signature on an ordinary
 * part travels in canonical form as an empty ReasoningPart `{text: "", signature}` right before the
 * part; the encoder re-attaches it to the next part.
 */
import type {
  CanonicalRequest,
  CanonicalResponse,
  ContentPart,
  ErrorInfo,
  ErrorKind,
  ImagePart,
  JsonObject,
  JsonValue,
  MediaSource,
  Message,
  ReasoningConfig,
  ReasoningEffort,
  ResponseFormat,
  StopReason,
  StreamEvent,
  TextPart,
  ToolDefinition,
  Usage,
} from "@bitrouter/core";
import type { Codec, DecodeRequestOptions, EncodeRequestOptions, SseEvent, StreamDecoder, StreamEncoder, UpstreamRequest } from "../codec.js";
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

/** Thinking budgets used when a caller asks for a reasoning effort instead of a budget. */
export const GEMINI_EFFORT_BUDGETS: Record<ReasoningEffort, number> = { minimal: 512, low: 2048, medium: 8192, high: 24576 };

// ── JSON Schema <-> Gemini Schema ─────────────────────────────────────────────────────────────

/** The Schema fields Gemini's `parameters` / `responseSchema` accept (an OpenAPI 3.0 subset). */
const GEMINI_SCHEMA_KEYS = new Set([
  "type",
  "format",
  "title",
  "description",
  "nullable",
  "enum",
  "maxItems",
  "minItems",
  "properties",
  "required",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "pattern",
  "example",
  "anyOf",
  "propertyOrdering",
  "default",
  "items",
  "minimum",
  "maximum",
]);

/** Formats Gemini accepts per type; others are rejected by the API, so they are dropped. */
const GEMINI_FORMATS: Record<string, string[]> = {
  STRING: ["enum", "date-time"],
  INTEGER: ["int32", "int64"],
  NUMBER: ["float", "double"],
};

const MAX_REF_DEPTH = 8;

/**
 * Rewrites a JSON Schema into Gemini's accepted subset: local `$ref`s are inlined (recursion cut
 * after a few levels), `type: [t, "null"]` becomes `nullable`, `const` becomes a one-value enum,
 * `oneOf` becomes `anyOf`, single-entry `allOf` is inlined, unsupported keys (additionalProperties,
 * $schema, strict, ...) are dropped, types are upper-cased. Key order is kept.
 */
export function toGeminiSchema(schema: JsonObject): JsonObject {
  const defs = { ...(isRecord(schema.definitions) ? schema.definitions : {}), ...(isRecord(schema.$defs) ? schema.$defs : {}) } as JsonObject;
  return convertSchema(schema, defs, 0);
}

function resolveRef(ref: string, defs: JsonObject): JsonObject | undefined {
  const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  const target = match ? defs[decodeURIComponent(match[1]).replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  return isRecord(target) ? (target as JsonObject) : undefined;
}

function convertSchema(input: JsonObject, defs: JsonObject, depth: number): JsonObject {
  let schema = input;
  if (typeof schema.$ref === "string") {
    const target = depth < MAX_REF_DEPTH ? resolveRef(schema.$ref, defs) : undefined;
    const { $ref: _ref, ...rest } = schema;
    // Keywords next to $ref (a description, typically) win over the referenced schema's.
    schema = target ? { ...target, ...rest } : { type: "object", ...rest };
    depth += 1;
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && isRecord(schema.allOf[0])) {
    const { allOf, ...rest } = schema;
    schema = { ...(allOf as JsonObject[])[0], ...rest };
  }
  const out: JsonObject = {};
  let nullable = schema.nullable === true;
  for (const [key, value] of Object.entries(schema)) {
    if (key === "type") {
      const types = (Array.isArray(value) ? value : [value]).filter((t): t is string => typeof t === "string");
      if (types.some((t) => t.toLowerCase() === "null")) nullable = true;
      const real = types.filter((t) => t.toLowerCase() !== "null");
      if (real.length === 1) out.type = real[0].toUpperCase();
      else if (real.length > 1) out.anyOf = real.map((t) => ({ type: t.toUpperCase() }));
      else if (types.length > 0) out.type = "NULL";
    } else if (key === "const") {
      out.enum = [String(value)];
    } else if (key === "oneOf" || key === "anyOf") {
      if (Array.isArray(value)) {
        const options = value.filter(isRecord).map((s) => convertSchema(s as JsonObject, defs, depth));
        const nonNull = options.filter((o) => o.type !== "NULL");
        if (nonNull.length < options.length) nullable = true;
        if (nonNull.length === 1) Object.assign(out, nonNull[0]);
        else if (nonNull.length > 1) out.anyOf = nonNull;
      }
    } else if (key === "properties" && isRecord(value)) {
      // fromEntries defines own properties, so a property named "__proto__" stays a property.
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, isRecord(sub) ? convertSchema(sub as JsonObject, defs, depth) : {}]),
      );
    } else if (key === "items" && isRecord(value)) {
      out.items = convertSchema(value as JsonObject, defs, depth);
    } else if (key === "enum" && Array.isArray(value)) {
      out.enum = value.filter((v) => v !== null).map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
    } else if (key !== "nullable" && GEMINI_SCHEMA_KEYS.has(key)) {
      out[key] = value;
    }
  }
  // A schema without a type that clearly describes an object or array gets one (Gemini needs it).
  if (out.type === undefined && out.anyOf === undefined) {
    if (out.properties !== undefined) out.type = "OBJECT";
    else if (out.items !== undefined) out.type = "ARRAY";
    else if (out.enum !== undefined) out.type = "STRING";
  }
  if (out.enum !== undefined) {
    if (out.type === undefined || out.type === "STRING") out.type = "STRING";
    else delete out.enum; // Gemini enums are string-only.
  }
  if (typeof out.format === "string" && !(GEMINI_FORMATS[String(out.type)] ?? []).includes(out.format)) delete out.format;
  if (Array.isArray(out.required)) {
    const props = isRecord(out.properties) ? out.properties : {};
    out.required = out.required.filter((name) => typeof name === "string" && Object.hasOwn(props, name));
    if (out.required.length === 0) delete out.required;
  }
  if (nullable) out.nullable = true;
  return out;
}

/** Gemini Schema (upper-case types, `nullable`) back to JSON Schema for the canonical form. */
export function fromGeminiSchema(schema: JsonObject): JsonObject {
  const out: JsonObject = {};
  const nullable = schema.nullable === true;
  for (const [key, value] of Object.entries(schema)) {
    if (key === "type" && typeof value === "string") {
      const type = value.toLowerCase();
      out.type = nullable && type !== "null" ? [type, "null"] : type;
    } else if (key === "nullable") {
    } else if (key === "properties" && isRecord(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, isRecord(sub) ? fromGeminiSchema(sub as JsonObject) : sub]));
    } else if (key === "items" && isRecord(value)) {
      out.items = fromGeminiSchema(value as JsonObject);
    } else if (key === "anyOf" && Array.isArray(value)) {
      out.anyOf = value.map((s) => (isRecord(s) ? fromGeminiSchema(s as JsonObject) : s));
    } else {
      out[key] = value;
    }
  }
  return out;
}

const GEMINI_TYPES = new Set(["STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"]);
/** Keys whose values are data, not schemas: never rewritten. */
const SCHEMA_DATA_KEYS = new Set(["enum", "const", "default", "examples", "example"]);
const SCHEMA_MAP_KEYS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);

/**
 * A `parametersJsonSchema` / `responseJsonSchema` as JSON Schema: Gemini accepts its own upper-case
 * type names there (`OBJECT`, `STRING`; Gemini CLI and @google/genai users write them), which
 * OpenAI and Anthropic reject, so they are lower-cased at every depth. Everything else is kept.
 */
export function lowerCaseSchemaTypes(schema: JsonValue): JsonValue {
  if (Array.isArray(schema)) return schema.map(lowerCaseSchemaTypes);
  if (!isRecord(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema as JsonObject)) {
    if (key === "type") out.type = Array.isArray(value) ? value.map(lowerTypeName) : lowerTypeName(value);
    else if (SCHEMA_DATA_KEYS.has(key)) out[key] = value;
    // Maps from names to schemas: a property may be called "enum" or "default".
    else if (SCHEMA_MAP_KEYS.has(key) && isRecord(value))
      out[key] = Object.fromEntries(Object.entries(value as JsonObject).map(([k, v]) => [k, lowerCaseSchemaTypes(v)]));
    else out[key] = lowerCaseSchemaTypes(value);
  }
  return out;
}

const lowerTypeName = (type: JsonValue): JsonValue => (typeof type === "string" && GEMINI_TYPES.has(type) ? type.toLowerCase() : type);

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
    if (at >= 0) return this.pending.splice(at, 1)[0].id;
    return id ?? `call_${this.next++}`;
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
  else if (mode === "ANY") request.toolChoice = names?.length === 1 ? { type: "tool", name: names[0] } : { type: "required" };
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

function decodeRequest(body: unknown, options: DecodeRequestOptions = {}): CanonicalRequest {
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

/** Appends `part`, attaching a signature carried by a preceding empty reasoning part. */
function pushPart(parts: JsonObject[], part: JsonObject, signature: { value?: string }): void {
  if (signature.value !== undefined) {
    part.thoughtSignature = signature.value;
    signature.value = undefined;
  }
  parts.push(part);
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

function encodeRequest(request: CanonicalRequest, options: EncodeRequestOptions): UpstreamRequest {
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

// ── Responses ─────────────────────────────────────────────────────────────────────────────────

const FILTER_REASONS = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE"]);

function stopFromGemini(reason: string | undefined, hasToolCalls: boolean): StopReason {
  if (reason === "MAX_TOKENS") return "length";
  if (reason !== undefined && FILTER_REASONS.has(reason)) return "content_filter";
  if (reason === "MALFORMED_FUNCTION_CALL" || reason === "UNEXPECTED_TOOL_CALL") return "error";
  return hasToolCalls ? "tool_calls" : "stop";
}

const STOP_TO_GEMINI: Record<StopReason, string> = {
  stop: "STOP",
  stop_sequence: "STOP",
  tool_calls: "STOP",
  length: "MAX_TOKENS",
  content_filter: "SAFETY",
  error: "OTHER",
};

function decodeUsage(u: Record<string, unknown>): Usage {
  const num = (v: unknown): number => (typeof v === "number" ? v : 0);
  const thoughts = num(u.thoughtsTokenCount);
  const usage: Usage = { inputTokens: num(u.promptTokenCount), outputTokens: num(u.candidatesTokenCount) + thoughts };
  const cached = num(u.cachedContentTokenCount);
  if (cached > 0) usage.cacheReadTokens = cached;
  if (thoughts > 0) usage.reasoningTokens = thoughts;
  return usage;
}

function encodeUsage(usage: Usage): JsonObject {
  const thoughts = usage.reasoningTokens ?? 0;
  const out: JsonObject = {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: Math.max(0, usage.outputTokens - thoughts),
    totalTokenCount: usage.inputTokens + usage.outputTokens,
  };
  // Gemini has no cache-write count: written tokens stay inside promptTokenCount.
  if (usage.cacheReadTokens !== undefined) out.cachedContentTokenCount = usage.cacheReadTokens;
  if (usage.reasoningTokens !== undefined) out.thoughtsTokenCount = usage.reasoningTokens;
  return out;
}

/** Response parts to canonical parts; `nextCallId` numbers function calls that came without an id. */
function decodeResponseParts(parts: unknown[], nextCallId: () => string): ContentPart[] {
  const out: ContentPart[] = [];
  for (const value of parts) {
    if (!isRecord(value)) continue;
    const signature = typeof value.thoughtSignature === "string" ? value.thoughtSignature : undefined;
    if (value.thought === true) {
      const part: ContentPart = { type: "reasoning", text: typeof value.text === "string" ? value.text : "" };
      if (signature !== undefined) part.signature = signature;
      out.push(part);
      continue;
    }
    if (signature !== undefined) out.push({ type: "reasoning", text: "", signature });
    if (typeof value.text === "string") out.push({ type: "text", text: value.text });
    else if (isRecord(value.functionCall)) {
      const call = value.functionCall;
      out.push({
        type: "tool_call",
        id: typeof call.id === "string" && call.id !== "" ? call.id : nextCallId(),
        name: typeof call.name === "string" ? call.name : "",
        arguments: typeof call.args === "string" ? call.args : JSON.stringify(call.args ?? {}),
      });
    }
  }
  return out;
}

function decodeResponse(body: unknown): CanonicalResponse {
  const b = requireRecord(body, "response");
  const candidate = Array.isArray(b.candidates) && isRecord(b.candidates[0]) ? b.candidates[0] : undefined;
  let n = 0;
  const parts = candidate && isRecord(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
  const content = decodeResponseParts(parts, () => `call_${n++}`);
  const blocked = isRecord(b.promptFeedback) && typeof b.promptFeedback.blockReason === "string";
  const reason = typeof candidate?.finishReason === "string" ? candidate.finishReason : undefined;
  return {
    id: typeof b.responseId === "string" ? b.responseId : "",
    model: typeof b.modelVersion === "string" ? b.modelVersion : "",
    created: nowSeconds(),
    content,
    stopReason:
      !candidate && blocked
        ? "content_filter"
        : stopFromGemini(
            reason,
            content.some((p) => p.type === "tool_call"),
          ),
    usage: geminiResponseUsage(b.usageMetadata),
  };
}

function encodeResponseParts(content: ContentPart[]): JsonObject[] {
  const parts: JsonObject[] = [];
  const signature: { value?: string } = {};
  for (const part of content) {
    if (part.type === "text") pushPart(parts, { text: part.text }, signature);
    else if (part.type === "tool_call") pushPart(parts, { functionCall: { id: part.id, name: part.name, args: responseArgs(part.arguments) } }, signature);
    else if (part.type === "reasoning") {
      if (part.text === "" && part.signature !== undefined) signature.value = part.signature;
      else if (part.text !== "") parts.push({ text: part.text, thought: true, ...(part.signature ? { thoughtSignature: part.signature } : {}) });
    }
  }
  return parts;
}

/** Arguments a model produced may be malformed; a served response never fails for it. */
function responseArgs(args: string): JsonObject {
  try {
    const parsed: unknown = args.trim() === "" ? {} : JSON.parse(args);
    return isRecord(parsed) ? (parsed as JsonObject) : {};
  } catch {
    return {};
  }
}

function encodeResponse(response: CanonicalResponse): JsonObject {
  return {
    candidates: [{ content: { role: "model", parts: encodeResponseParts(response.content) }, finishReason: STOP_TO_GEMINI[response.stopReason], index: 0 }],
    usageMetadata: encodeUsage(response.usage),
    modelVersion: response.model,
    responseId: response.id,
  };
}

// ── Errors ────────────────────────────────────────────────────────────────────────────────────

const STATUS_TEXT_BY_KIND: Record<ErrorKind, string> = {
  invalid_request: "INVALID_ARGUMENT",
  authentication: "UNAUTHENTICATED",
  payment_required: "RESOURCE_EXHAUSTED",
  permission: "PERMISSION_DENIED",
  not_found: "NOT_FOUND",
  payload_too_large: "INVALID_ARGUMENT",
  rate_limit: "RESOURCE_EXHAUSTED",
  guardrail: "INVALID_ARGUMENT",
  upstream: "INTERNAL",
  timeout: "DEADLINE_EXCEEDED",
  overloaded: "UNAVAILABLE",
  internal: "INTERNAL",
};

const KIND_BY_STATUS_TEXT: Record<string, ErrorKind> = {
  INVALID_ARGUMENT: "invalid_request",
  FAILED_PRECONDITION: "invalid_request",
  OUT_OF_RANGE: "invalid_request",
  UNAUTHENTICATED: "authentication",
  PERMISSION_DENIED: "permission",
  NOT_FOUND: "not_found",
  RESOURCE_EXHAUSTED: "rate_limit",
  INTERNAL: "upstream",
  UNKNOWN: "upstream",
  UNAVAILABLE: "overloaded",
  DEADLINE_EXCEEDED: "timeout",
};

function errorJson(error: ErrorInfo): JsonObject {
  const status = error.kind === "guardrail" && error.status === 403 ? "PERMISSION_DENIED" : STATUS_TEXT_BY_KIND[error.kind];
  return { error: { code: error.status, message: error.message, status } };
}

function encodeError(error: ErrorInfo): { status: number; body: JsonObject } {
  return { status: error.status, body: errorJson(error) };
}

function errorFromJson(status: number, body: unknown): ErrorInfo {
  // Gemini sometimes wraps the error object in a one-element array.
  const root = Array.isArray(body) && body.length === 1 ? body[0] : body;
  const err = isRecord(root) && isRecord(root.error) ? root.error : undefined;
  const code = typeof err?.code === "number" ? err.code : status;
  const statusText = typeof err?.status === "string" ? err.status : undefined;
  const kind = (statusText && KIND_BY_STATUS_TEXT[statusText]) || kindFromStatus(code);
  const message = redactSecrets(typeof err?.message === "string" ? err.message : describeUnknownErrorBody(status, body));
  return { kind, message, status: STATUS_BY_KIND[kind] };
}

function decodeError(status: number, body: unknown): ErrorInfo {
  return errorFromJson(status, body);
}

// ── Stream encoder: canonical events -> Gemini SSE ───────────────────────────────────────────

class GeminiStreamEncoder implements StreamEncoder {
  private id = "";
  private model = "";
  private usage?: Usage;
  private done = false;
  /** Kind of each canonical part, to tell thought text from answer text. */
  private readonly kinds = new Map<number, "text" | "reasoning" | "tool">();
  /** Gemini sends function calls whole: arguments are collected until the call is complete. */
  private readonly calls = new Map<number, { id: string; name: string; args: string }>();
  private signature: { value?: string } = {};

  encode(event: StreamEvent): string {
    if (this.done) return "";
    switch (event.type) {
      case "start":
        this.id = event.id;
        this.model = event.model;
        return "";
      case "usage":
        this.usage = event.usage;
        return "";
      case "text_delta":
        this.kinds.set(event.index, "text");
        return this.chunk([this.signed({ text: event.text })]);
      case "reasoning_delta":
        this.kinds.set(event.index, "reasoning");
        return event.text === "" ? "" : this.chunk([{ text: event.text, thought: true }]);
      case "reasoning_signature":
        if (event.signature === undefined) return "";
        if (this.kinds.get(event.index) === "reasoning") return this.chunk([{ text: "", thought: true, thoughtSignature: event.signature }]);
        // A signature with no thought text belongs to the next part (see the module comment).
        this.signature.value = event.signature;
        return "";
      case "tool_call_start":
        this.kinds.set(event.index, "tool");
        this.calls.set(event.index, { id: event.id, name: event.name, args: "" });
        return "";
      case "tool_call_delta": {
        const call = this.calls.get(event.index);
        if (call) call.args += event.argumentsDelta;
        return "";
      }
      case "part_end": {
        const call = this.calls.get(event.index);
        if (!call) return "";
        this.calls.delete(event.index);
        return this.chunk([this.callPart(call)]);
      }
      case "finish": {
        if (event.usage) this.usage = event.usage;
        this.done = true;
        const parts = [...this.calls.keys()].sort((a, b) => a - b).map((i) => this.callPart(this.calls.get(i)!));
        this.calls.clear();
        const final: JsonObject = {
          candidates: [{ content: { role: "model", parts }, finishReason: STOP_TO_GEMINI[event.stopReason], index: 0 }],
          usageMetadata: encodeUsage(this.usage ?? { inputTokens: 0, outputTokens: 0 }),
          modelVersion: this.model,
          responseId: this.id,
        };
        return formatSse(final);
      }
      case "error":
        this.done = true;
        return formatSse(errorJson(event.error));
    }
  }

  end(): string {
    if (this.done) return "";
    this.done = true;
    return formatSse(errorJson({ kind: "upstream", message: "stream ended early", status: 502 }));
  }

  private signed(part: JsonObject): JsonObject {
    const parts: JsonObject[] = [];
    pushPart(parts, part, this.signature);
    return parts[0];
  }

  private callPart(call: { id: string; name: string; args: string }): JsonObject {
    return this.signed({ functionCall: { id: call.id, name: call.name, args: responseArgs(call.args) } });
  }

  private chunk(parts: JsonObject[]): string {
    return formatSse({
      candidates: [{ content: { role: "model", parts }, index: 0 }],
      modelVersion: this.model,
      responseId: this.id,
    });
  }
}

// ── Stream decoder: Gemini SSE -> canonical events ───────────────────────────────────────────

class GeminiStreamDecoder implements StreamDecoder {
  private started = false;
  private finished = false;
  private nextIndex = 0;
  private nextCall = 0;
  /** The canonical part text deltas currently extend, so consecutive chunks merge into one part. */
  private current?: { index: number; kind: "text" | "reasoning"; signed?: boolean };
  private sawToolCall = false;
  private usage?: Usage;

  decode(event: SseEvent): StreamEvent[] {
    if (this.finished) return [];
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return this.fail({ kind: "upstream", message: `upstream sent an invalid stream event: ${event.data.slice(0, 100)}`, status: 502 });
    }
    const root = Array.isArray(data) && data.length === 1 ? data[0] : data;
    if (!isRecord(root)) return [];
    if (isRecord(root.error)) return this.fail(errorFromJson(typeof root.error.code === "number" ? root.error.code : 500, root));
    const out: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      out.push({
        type: "start",
        id: typeof root.responseId === "string" ? root.responseId : "",
        model: typeof root.modelVersion === "string" ? root.modelVersion : "",
        created: nowSeconds(),
      });
    }
    if (isRecord(root.usageMetadata)) this.usage = decodeUsage(root.usageMetadata);
    const candidate = Array.isArray(root.candidates) && isRecord(root.candidates[0]) ? root.candidates[0] : undefined;
    const parts = candidate && isRecord(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
    for (const part of parts) if (isRecord(part)) out.push(...this.partEvents(part));
    const reason = typeof candidate?.finishReason === "string" ? candidate.finishReason : undefined;
    const blocked = !candidate && isRecord(root.promptFeedback) && typeof root.promptFeedback.blockReason === "string";
    if (reason !== undefined || blocked) {
      this.finished = true;
      if (this.current) out.push({ type: "part_end", index: this.current.index });
      const stopReason = blocked ? "content_filter" : stopFromGemini(reason, this.sawToolCall);
      if (this.usage) out.push({ type: "usage", usage: this.usage });
      out.push(this.usage ? { type: "finish", stopReason, usage: this.usage } : { type: "finish", stopReason });
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

  /** Starts a new canonical part, closing the text/thought part being extended. */
  private newPart(): { index: number; events: StreamEvent[] } {
    const events: StreamEvent[] = [];
    if (this.current) events.push({ type: "part_end", index: this.current.index });
    this.current = undefined;
    return { index: this.nextIndex++, events };
  }

  private partEvents(part: Record<string, unknown>): StreamEvent[] {
    const signature = typeof part.thoughtSignature === "string" ? part.thoughtSignature : undefined;
    const text = typeof part.text === "string" ? part.text : undefined;
    if (part.thought === true) {
      const events: StreamEvent[] = [];
      // A signature ends a thought: more thought text after it is a new thought.
      if (this.current?.kind !== "reasoning" || (this.current.signed && text)) {
        const next = this.newPart();
        events.push(...next.events);
        this.current = { index: next.index, kind: "reasoning" };
      }
      const index = this.current!.index;
      if (text) events.push({ type: "reasoning_delta", index, text });
      if (signature !== undefined) {
        events.push({ type: "reasoning_signature", index, signature });
        this.current!.signed = true;
      }
      return events;
    }
    const events: StreamEvent[] = [];
    if (signature !== undefined) {
      // The signature of an ordinary part travels as an empty reasoning part just before it.
      const next = this.newPart();
      events.push(...next.events, { type: "reasoning_signature", index: next.index, signature }, { type: "part_end", index: next.index });
    }
    if (text !== undefined) {
      if (text === "") return events;
      if (this.current?.kind !== "text") {
        const next = this.newPart();
        events.push(...next.events);
        this.current = { index: next.index, kind: "text" };
      }
      events.push({ type: "text_delta", index: this.current!.index, text });
    } else if (isRecord(part.functionCall)) {
      const call = part.functionCall;
      this.sawToolCall = true;
      const { index, events: closing } = this.newPart();
      events.push(
        ...closing,
        {
          type: "tool_call_start",
          index,
          id: typeof call.id === "string" && call.id !== "" ? call.id : `call_${this.nextCall++}`,
          name: typeof call.name === "string" ? call.name : "",
        },
        { type: "tool_call_delta", index, argumentsDelta: typeof call.args === "string" ? call.args : JSON.stringify(call.args ?? {}) },
        { type: "part_end", index },
      );
    }
    return events;
  }
}

function geminiResponseUsage(value: unknown): Usage {
  return decodeUsage(isRecord(value) ? value : {});
}

export const googleCodec: Codec = {
  protocol: "google",
  decodeRequest,
  encodeResponse: (response) => encodeResponse(response),
  createStreamEncoder: () => new GeminiStreamEncoder(),
  encodeError,
  encodeRequest,
  decodeResponse,
  responseUsage: { field: "usageMetadata", decode: geminiResponseUsage },
  createStreamDecoder: () => new GeminiStreamDecoder(),
  decodeError,
};
