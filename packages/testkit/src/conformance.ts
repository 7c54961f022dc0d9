/**
 * An MCP server with everything the server scenarios of `@modelcontextprotocol/conformance` ask
 * for (its `test_*` tools, `test://` resources and `test_*` prompts, completion, logging,
 * subscriptions), over Streamable HTTP. Behind a BitRouter bridge it shows what the bridge loses.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { serveMcp, type McpHost } from "./mcp.js";

/** A 1x1 red PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/** A 44-byte WAV header with no samples. */
const WAV = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=";

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value: string): CallToolResult => ({ content: [{ type: "text", text: value }] });
const noArgs = { type: "object" as const, properties: {} };

const TOOLS = [
  { name: "test_simple_text", description: "Returns simple text", inputSchema: noArgs },
  { name: "test_image_content", description: "Returns an image", inputSchema: noArgs },
  { name: "test_audio_content", description: "Returns audio", inputSchema: noArgs },
  { name: "test_embedded_resource", description: "Returns an embedded resource", inputSchema: noArgs },
  { name: "test_multiple_content_types", description: "Returns text, image and resource", inputSchema: noArgs },
  { name: "test_tool_with_logging", description: "Logs three messages while it runs", inputSchema: noArgs },
  { name: "test_tool_with_progress", description: "Reports progress 0, 50, 100", inputSchema: noArgs },
  { name: "test_error_handling", description: "Always fails", inputSchema: noArgs },
  {
    name: "test_sampling",
    description: "Asks the client's LLM",
    inputSchema: { type: "object" as const, properties: { prompt: { type: "string" } }, required: ["prompt"] },
  },
  {
    name: "test_elicitation",
    description: "Asks the user",
    inputSchema: { type: "object" as const, properties: { message: { type: "string" } }, required: ["message"] },
  },
  { name: "test_elicitation_sep1034_defaults", description: "Elicitation with defaults", inputSchema: noArgs },
  { name: "test_elicitation_sep1330_enums", description: "Elicitation with every enum form", inputSchema: noArgs },
  {
    name: "json_schema_2020_12_tool",
    description: "Tool with JSON Schema 2020-12 features",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object" as const,
      $defs: { address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } } },
      properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
      additionalProperties: false,
    },
  },
];

async function callTool(name: string, args: Record<string, unknown>, extra: Extra): Promise<CallToolResult> {
  const log = (data: string) => extra.sendNotification({ method: "notifications/message", params: { level: "info", data } });
  switch (name) {
    case "test_simple_text":
      return text("This is a simple text response for testing.");
    case "test_image_content":
      return { content: [{ type: "image", data: PNG, mimeType: "image/png" }] };
    case "test_audio_content":
      return { content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }] };
    case "test_embedded_resource":
      return {
        content: [{ type: "resource", resource: { uri: "test://embedded-resource", mimeType: "text/plain", text: "This is an embedded resource content." } }],
      };
    case "test_multiple_content_types":
      return {
        content: [
          { type: "text", text: "Multiple content types test:" },
          { type: "image", data: PNG, mimeType: "image/png" },
          {
            type: "resource",
            resource: { uri: "test://mixed-content-resource", mimeType: "application/json", text: JSON.stringify({ test: "data", value: 123 }) },
          },
        ],
      };
    case "test_tool_with_logging":
      await log("Tool execution started");
      await sleep(50);
      await log("Tool processing data");
      await sleep(50);
      await log("Tool execution completed");
      return text("Tool with logging executed successfully");
    case "test_tool_with_progress": {
      const token = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (token !== undefined) await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress, total: 100 } });
        if (progress < 100) await sleep(50);
      }
      return text("Tool with progress executed successfully");
    }
    case "test_error_handling":
      return { isError: true, content: [{ type: "text", text: "This tool intentionally returns an error for testing" }] };
    case "test_sampling": {
      const answer = await extra.sendRequest(
        { method: "sampling/createMessage", params: { messages: [{ role: "user", content: { type: "text", text: String(args.prompt) } }], maxTokens: 100 } },
        CreateMessageResultSchema,
      );
      const content = answer.content as { type: string; text?: string };
      return text(`LLM response: ${content.type === "text" ? content.text : JSON.stringify(content)}`);
    }
    case "test_elicitation": {
      const answer = await extra.sendRequest(
        {
          method: "elicitation/create",
          params: {
            message: String(args.message),
            requestedSchema: {
              type: "object",
              properties: { username: { type: "string", description: "User's response" }, email: { type: "string", description: "User's email address" } },
              required: ["username", "email"],
            },
          },
        },
        ElicitResultSchema,
      );
      return text(`User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
    }
    case "test_elicitation_sep1034_defaults": {
      const answer = await extra.sendRequest(
        {
          method: "elicitation/create",
          params: {
            message: "Please confirm your details",
            requestedSchema: {
              type: "object",
              properties: {
                name: { type: "string", default: "John Doe" },
                age: { type: "integer", default: 30 },
                score: { type: "number", default: 95.5 },
                status: { type: "string", enum: ["active", "inactive", "pending"], default: "active" },
                verified: { type: "boolean", default: true },
              },
            },
          },
        },
        ElicitResultSchema,
      );
      return text(`Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
    }
    case "test_elicitation_sep1330_enums": {
      const answer = await extra.sendRequest(
        {
          method: "elicitation/create",
          params: {
            message: "Pick some options",
            requestedSchema: {
              type: "object",
              properties: {
                untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
                titledSingle: {
                  type: "string",
                  oneOf: [
                    { const: "value1", title: "First Option" },
                    { const: "value2", title: "Second Option" },
                    { const: "value3", title: "Third Option" },
                  ],
                },
                legacyEnum: { type: "string", enum: ["opt1", "opt2", "opt3"], enumNames: ["Option One", "Option Two", "Option Three"] },
                untitledMulti: { type: "array", items: { type: "string", enum: ["option1", "option2", "option3"] } },
                titledMulti: {
                  type: "array",
                  items: {
                    anyOf: [
                      { const: "value1", title: "First Choice" },
                      { const: "value2", title: "Second Choice" },
                      { const: "value3", title: "Third Choice" },
                    ],
                  },
                },
              },
            },
          },
        } as ServerRequest,
        ElicitResultSchema,
      );
      return text(`Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
    }
    case "json_schema_2020_12_tool":
      return text(`Received: ${JSON.stringify(args)}`);
    default:
      throw new McpError(ErrorCode.InvalidParams, `unknown tool ${name}`);
  }
}

function createConformanceServer(): Server {
  const server = new Server(
    { name: "bitrouter-conformance-upstream", version: "1.0.0" },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
    },
  );
  const subscriptions = new Set<string>();
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => callTool(request.params.name, request.params.arguments ?? {}, extra));
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: [
      { uri: "test://static-text", name: "static-text", description: "A static text resource", mimeType: "text/plain" },
      { uri: "test://static-binary", name: "static-binary", description: "A static binary resource", mimeType: "image/png" },
      { uri: "test://watched-resource", name: "watched-resource", description: "A resource to subscribe to", mimeType: "text/plain" },
    ],
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [{ uriTemplate: "test://template/{id}/data", name: "template", description: "A templated resource", mimeType: "application/json" }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const uri = request.params.uri;
    if (uri === "test://static-text") return { contents: [{ uri, mimeType: "text/plain", text: "This is the content of the static text resource." }] };
    if (uri === "test://static-binary") return { contents: [{ uri, mimeType: "image/png", blob: PNG }] };
    if (uri === "test://watched-resource") return { contents: [{ uri, mimeType: "text/plain", text: "Watched." }] };
    const template = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
    if (template) {
      const id = template[1]!;
      return { contents: [{ uri, mimeType: "application/json", text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }] };
    }
    throw new McpError(ErrorCode.InvalidParams, `unknown resource ${uri}`);
  });
  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: [
      { name: "test_simple_prompt", description: "A simple prompt" },
      {
        name: "test_prompt_with_arguments",
        description: "A prompt with arguments",
        arguments: [
          { name: "arg1", description: "First test argument", required: true },
          { name: "arg2", description: "Second test argument", required: true },
        ],
      },
      {
        name: "test_prompt_with_embedded_resource",
        description: "A prompt with a resource",
        arguments: [{ name: "resourceUri", description: "URI of the resource to embed", required: true }],
      },
      { name: "test_prompt_with_image", description: "A prompt with an image" },
    ],
  }));
  server.setRequestHandler(GetPromptRequestSchema, async (request) => {
    const args = request.params.arguments ?? {};
    switch (request.params.name) {
      case "test_simple_prompt":
        return { messages: [{ role: "user" as const, content: { type: "text" as const, text: "This is a simple prompt for testing." } }] };
      case "test_prompt_with_arguments":
        return {
          messages: [{ role: "user" as const, content: { type: "text" as const, text: `Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'` } }],
        };
      case "test_prompt_with_embedded_resource":
        return {
          messages: [
            {
              role: "user" as const,
              content: {
                type: "resource" as const,
                resource: { uri: String(args.resourceUri), mimeType: "text/plain", text: "Embedded resource content for testing." },
              },
            },
            { role: "user" as const, content: { type: "text" as const, text: "Please process the embedded resource above." } },
          ],
        };
      case "test_prompt_with_image":
        return {
          messages: [
            { role: "user" as const, content: { type: "image" as const, data: PNG, mimeType: "image/png" } },
            { role: "user" as const, content: { type: "text" as const, text: "Please analyze the image above." } },
          ],
        };
      default:
        throw new McpError(ErrorCode.InvalidParams, `unknown prompt ${request.params.name}`);
    }
  });
  server.setRequestHandler(CompleteRequestSchema, async (request) => {
    const value = request.params.argument.value;
    const values = ["paris", "park", "party"].filter((v) => v.startsWith(value));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}

/** Starts the conformance upstream on 127.0.0.1 (a free port unless given). */
export function startConformanceMock(options: { port?: number } = {}): Promise<McpHost> {
  return serveMcp(createConformanceServer, options);
}
