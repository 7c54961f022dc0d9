// Realistic inbound request bodies per protocol, one set of cases with the same meaning in each
// protocol's own wire format. A protocol that cannot express a case (Anthropic has no JSON mode)
// leaves it out. Formats follow the public API references of each provider.
import type { Protocol } from "@bitrouter/core";

/** A 1x1 PNG. */
export const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
export const IMAGE_URL = "https://upload.example.com/photos/eiffel-tower.jpg";

const SYSTEM = "You are a concise travel assistant.";
const WEATHER_ARGS = { location: { city: "Paris", country: "FR" }, unit: "celsius" };
const WEATHER_RESULT = '{"temperature":18,"condition":"cloudy"}';
const TIME_RESULT = "14:05 UTC";
const COLOURS_SCHEMA = {
  type: "object",
  properties: { colours: { type: "array", items: { type: "string", enum: ["red", "yellow", "blue"] } } },
  required: ["colours"],
  additionalProperties: false,
};

/** JSON Schema of the weather tool: a nested object, an enum, descriptions, required lists. */
const WEATHER_SCHEMA = {
  type: "object",
  properties: {
    location: {
      type: "object",
      properties: { city: { type: "string" }, country: { type: "string", description: "ISO 3166-1 alpha-2 code" } },
      required: ["city"],
    },
    unit: { type: "string", enum: ["celsius", "fahrenheit"] },
  },
  required: ["location"],
};
/** The same schema in Gemini's OpenAPI subset (upper-case types), as a Gemini SDK user writes it. */
const WEATHER_SCHEMA_GEMINI = {
  type: "OBJECT",
  properties: {
    location: {
      type: "OBJECT",
      properties: { city: { type: "STRING" }, country: { type: "STRING", description: "ISO 3166-1 alpha-2 code" } },
      required: ["city"],
    },
    unit: { type: "STRING", enum: ["celsius", "fahrenheit"] },
  },
  required: ["location"],
};

export type RequestCase =
  | "text-multiturn"
  | "images"
  | "tools-parallel"
  | "tool-choice-required"
  | "tool-choice-named"
  | "tool-choice-none"
  | "json-object"
  | "json-schema"
  | "reasoning";

export const REQUEST_CASES: readonly RequestCase[] = [
  "text-multiturn",
  "images",
  "tools-parallel",
  "tool-choice-required",
  "tool-choice-named",
  "tool-choice-none",
  "json-object",
  "json-schema",
  "reasoning",
];

type Cases = Partial<Record<RequestCase, Record<string, unknown>>>;

const chatWeatherTool = { type: "function", function: { name: "get_weather", description: "Current weather for a place", parameters: WEATHER_SCHEMA } };
const chatAsk = [{ role: "user", content: "Should I take an umbrella in Paris today?" }];

const openaiChat: Cases = {
  "text-multiturn": {
    model: "gpt-4o",
    messages: [
      { role: "system", content: SYSTEM },
      { role: "user", content: "What is the capital of France?" },
      { role: "assistant", content: "Paris." },
      { role: "user", content: "How long is the train from Lyon?" },
    ],
    temperature: 0.3,
    top_p: 0.9,
    stop: ["\n\nUser:"],
    max_completion_tokens: 256,
    user: "agent-42",
  },
  images: {
    model: "gpt-4o",
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "Which of these two pictures shows Paris?" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_BASE64}`, detail: "low" } },
          { type: "image_url", image_url: { url: IMAGE_URL } },
        ],
      },
    ],
  },
  "tools-parallel": {
    model: "gpt-4o",
    messages: [
      { role: "system", content: SYSTEM },
      { role: "user", content: "What's the weather in Paris, and what time is it?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_weather_1", type: "function", function: { name: "get_weather", arguments: JSON.stringify(WEATHER_ARGS) } },
          { id: "call_time_2", type: "function", function: { name: "get_time", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "call_weather_1", content: WEATHER_RESULT },
      { role: "tool", tool_call_id: "call_time_2", content: TIME_RESULT },
    ],
    tools: [
      chatWeatherTool,
      { type: "function", function: { name: "get_time", description: "Current UTC time", parameters: { type: "object", properties: {} } } },
    ],
    tool_choice: "auto",
    parallel_tool_calls: true,
  },
  "tool-choice-required": { model: "gpt-4o", messages: chatAsk, tools: [chatWeatherTool], tool_choice: "required" },
  "tool-choice-named": { model: "gpt-4o", messages: chatAsk, tools: [chatWeatherTool], tool_choice: { type: "function", function: { name: "get_weather" } } },
  "tool-choice-none": { model: "gpt-4o", messages: chatAsk, tools: [chatWeatherTool], tool_choice: "none" },
  "json-object": {
    model: "gpt-4o",
    messages: [
      { role: "system", content: "Answer with a JSON object." },
      { role: "user", content: "List the three primary colours." },
    ],
    response_format: { type: "json_object" },
  },
  "json-schema": {
    model: "gpt-4o",
    messages: [{ role: "user", content: "List the three primary colours." }],
    response_format: { type: "json_schema", json_schema: { name: "colours", strict: true, schema: COLOURS_SCHEMA } },
  },
  reasoning: {
    model: "o3",
    messages: [{ role: "user", content: "Prove that there are infinitely many primes." }],
    reasoning_effort: "high",
    max_completion_tokens: 16000,
  },
};

const responsesWeatherTool = { type: "function", name: "get_weather", description: "Current weather for a place", parameters: WEATHER_SCHEMA, strict: false };
const responsesAsk = [{ role: "user", content: "Should I take an umbrella in Paris today?" }];

const openaiResponses: Cases = {
  "text-multiturn": {
    model: "gpt-4o",
    instructions: SYSTEM,
    input: [
      { role: "user", content: "What is the capital of France?" },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Paris.", annotations: [] }] },
      { role: "user", content: [{ type: "input_text", text: "How long is the train from Lyon?" }] },
    ],
    temperature: 0.3,
    top_p: 0.9,
    max_output_tokens: 256,
    user: "agent-42",
  },
  images: {
    model: "gpt-4o",
    input: [
      {
        role: "user",
        content: [
          { type: "input_text", text: "Which of these two pictures shows Paris?" },
          { type: "input_image", image_url: `data:image/png;base64,${PNG_BASE64}`, detail: "low" },
          { type: "input_image", image_url: IMAGE_URL, detail: "auto" },
        ],
      },
    ],
  },
  "tools-parallel": {
    model: "gpt-4o",
    instructions: SYSTEM,
    input: [
      { role: "user", content: "What's the weather in Paris, and what time is it?" },
      { type: "function_call", id: "fc_1", call_id: "call_weather_1", name: "get_weather", arguments: JSON.stringify(WEATHER_ARGS) },
      { type: "function_call", id: "fc_2", call_id: "call_time_2", name: "get_time", arguments: "{}" },
      { type: "function_call_output", call_id: "call_weather_1", output: WEATHER_RESULT },
      { type: "function_call_output", call_id: "call_time_2", output: TIME_RESULT },
    ],
    tools: [
      responsesWeatherTool,
      { type: "function", name: "get_time", description: "Current UTC time", parameters: { type: "object", properties: {} }, strict: false },
    ],
    tool_choice: "auto",
    parallel_tool_calls: true,
  },
  "tool-choice-required": { model: "gpt-4o", input: responsesAsk, tools: [responsesWeatherTool], tool_choice: "required" },
  "tool-choice-named": { model: "gpt-4o", input: responsesAsk, tools: [responsesWeatherTool], tool_choice: { type: "function", name: "get_weather" } },
  "tool-choice-none": { model: "gpt-4o", input: responsesAsk, tools: [responsesWeatherTool], tool_choice: "none" },
  "json-object": {
    model: "gpt-4o",
    instructions: "Answer with a JSON object.",
    input: "List the three primary colours.",
    text: { format: { type: "json_object" } },
  },
  "json-schema": {
    model: "gpt-4o",
    input: "List the three primary colours.",
    text: { format: { type: "json_schema", name: "colours", strict: true, schema: COLOURS_SCHEMA } },
  },
  reasoning: {
    model: "o3",
    input: "Prove that there are infinitely many primes.",
    reasoning: { effort: "high", summary: "auto" },
    max_output_tokens: 16000,
  },
};

const anthropicWeatherTool = { name: "get_weather", description: "Current weather for a place", input_schema: WEATHER_SCHEMA };
const anthropicAsk = [{ role: "user", content: "Should I take an umbrella in Paris today?" }];

const anthropic: Cases = {
  "text-multiturn": {
    model: "claude-sonnet-4-5",
    system: SYSTEM,
    messages: [
      { role: "user", content: "What is the capital of France?" },
      { role: "assistant", content: "Paris." },
      { role: "user", content: [{ type: "text", text: "How long is the train from Lyon?" }] },
    ],
    temperature: 0.3,
    top_p: 0.9,
    stop_sequences: ["\n\nUser:"],
    max_tokens: 256,
    metadata: { user_id: "agent-42" },
  },
  images: {
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "Which of these two pictures shows Paris?" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_BASE64 } },
          { type: "image", source: { type: "url", url: IMAGE_URL } },
        ],
      },
    ],
  },
  "tools-parallel": {
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    system: SYSTEM,
    messages: [
      { role: "user", content: "What's the weather in Paris, and what time is it?" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "I'll check both." },
          { type: "tool_use", id: "toolu_01Weather", name: "get_weather", input: WEATHER_ARGS },
          { type: "tool_use", id: "toolu_02Time", name: "get_time", input: {} },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_01Weather", content: WEATHER_RESULT },
          { type: "tool_result", tool_use_id: "toolu_02Time", content: [{ type: "text", text: TIME_RESULT }] },
        ],
      },
    ],
    tools: [anthropicWeatherTool, { name: "get_time", description: "Current UTC time", input_schema: { type: "object", properties: {} } }],
    tool_choice: { type: "auto" },
  },
  "tool-choice-required": { model: "claude-sonnet-4-5", max_tokens: 1024, messages: anthropicAsk, tools: [anthropicWeatherTool], tool_choice: { type: "any" } },
  "tool-choice-named": {
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    messages: anthropicAsk,
    tools: [anthropicWeatherTool],
    tool_choice: { type: "tool", name: "get_weather" },
  },
  "tool-choice-none": { model: "claude-sonnet-4-5", max_tokens: 1024, messages: anthropicAsk, tools: [anthropicWeatherTool], tool_choice: { type: "none" } },
  // No "json-object": Anthropic has no JSON mode.
  "json-schema": {
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    messages: [{ role: "user", content: "List the three primary colours." }],
    output_config: { format: { type: "json_schema", schema: COLOURS_SCHEMA } },
  },
  reasoning: {
    model: "claude-sonnet-4-5",
    max_tokens: 16000,
    thinking: { type: "enabled", budget_tokens: 8000 },
    messages: [{ role: "user", content: "Prove that there are infinitely many primes." }],
  },
};

const geminiWeatherTool = { name: "get_weather", description: "Current weather for a place", parameters: WEATHER_SCHEMA_GEMINI };
const geminiAsk = [{ role: "user", parts: [{ text: "Should I take an umbrella in Paris today?" }] }];

const google: Cases = {
  "text-multiturn": {
    systemInstruction: { parts: [{ text: SYSTEM }] },
    contents: [
      { role: "user", parts: [{ text: "What is the capital of France?" }] },
      { role: "model", parts: [{ text: "Paris." }] },
      { role: "user", parts: [{ text: "How long is the train from Lyon?" }] },
    ],
    generationConfig: { temperature: 0.3, topP: 0.9, stopSequences: ["\n\nUser:"], maxOutputTokens: 256 },
  },
  images: {
    contents: [
      {
        role: "user",
        parts: [
          { text: "Which of these two pictures shows Paris?" },
          { inlineData: { mimeType: "image/png", data: PNG_BASE64 } },
          { fileData: { mimeType: "image/jpeg", fileUri: IMAGE_URL } },
        ],
      },
    ],
  },
  // Gemini function calls without ids (the Gemini API usually omits them): ids are synthesised.
  "tools-parallel": {
    systemInstruction: { parts: [{ text: SYSTEM }] },
    contents: [
      { role: "user", parts: [{ text: "What's the weather in Paris, and what time is it?" }] },
      { role: "model", parts: [{ functionCall: { name: "get_weather", args: WEATHER_ARGS } }, { functionCall: { name: "get_time", args: {} } }] },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "get_weather", response: JSON.parse(WEATHER_RESULT) as object } },
          { functionResponse: { name: "get_time", response: { output: TIME_RESULT } } },
        ],
      },
    ],
    tools: [{ functionDeclarations: [geminiWeatherTool, { name: "get_time", description: "Current UTC time" }] }],
    toolConfig: { functionCallingConfig: { mode: "AUTO" } },
  },
  "tool-choice-required": {
    contents: geminiAsk,
    tools: [{ functionDeclarations: [geminiWeatherTool] }],
    toolConfig: { functionCallingConfig: { mode: "ANY" } },
  },
  "tool-choice-named": {
    contents: geminiAsk,
    tools: [{ functionDeclarations: [geminiWeatherTool] }],
    toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] } },
  },
  "tool-choice-none": { contents: geminiAsk, tools: [{ functionDeclarations: [geminiWeatherTool] }], toolConfig: { functionCallingConfig: { mode: "NONE" } } },
  "json-object": {
    systemInstruction: { parts: [{ text: "Answer with a JSON object." }] },
    contents: [{ role: "user", parts: [{ text: "List the three primary colours." }] }],
    generationConfig: { responseMimeType: "application/json" },
  },
  "json-schema": {
    contents: [{ role: "user", parts: [{ text: "List the three primary colours." }] }],
    generationConfig: {
      responseMimeType: "application/json",
      responseSchema: {
        type: "OBJECT",
        properties: { colours: { type: "ARRAY", items: { type: "STRING", enum: ["red", "yellow", "blue"] } } },
        required: ["colours"],
      },
    },
  },
  reasoning: {
    contents: [{ role: "user", parts: [{ text: "Prove that there are infinitely many primes." }] }],
    generationConfig: { maxOutputTokens: 16000, thinkingConfig: { thinkingBudget: 8000, includeThoughts: true } },
  },
};

export const INBOUND_REQUESTS: Readonly<Record<Protocol, Cases>> = {
  "openai-chat": openaiChat,
  "openai-responses": openaiResponses,
  anthropic,
  google,
};

/** Gemini carries the model (and the stream flag) in the URL: what the server passes to decodeRequest. */
export const GOOGLE_URL_MODEL = "gemini-2.5-pro";
