// Run by ai-sdk.e2e.ts under Node >= 22 from the pinned clients' directory:
//   node ai-sdk.mjs <openai|openai-chat|anthropic|google> <server url> <model>
// Streams a text answer, then runs a tool round trip (generateText with an executed tool), and
// prints {"stream": "...", "tool": "..."} on stdout.
const [, , sdk, server, model] = process.argv;
// Copied next to the pinned clients' node_modules before it runs, so bare imports resolve there.
const load = (name) => import(name);
const { streamText, generateText, tool, jsonSchema, stepCountIs } = await load("ai");

let provider;
if (sdk === "openai" || sdk === "openai-chat") {
  const { createOpenAI } = await load("@ai-sdk/openai");
  const openai = createOpenAI({ baseURL: `${server}/v1`, apiKey: "client-key" });
  provider = sdk === "openai" ? openai(model) : openai.chat(model);
} else if (sdk === "anthropic") {
  const { createAnthropic } = await load("@ai-sdk/anthropic");
  provider = createAnthropic({ baseURL: `${server}/v1`, apiKey: "client-key" })(model);
} else {
  const { createGoogleGenerativeAI } = await load("@ai-sdk/google");
  provider = createGoogleGenerativeAI({ baseURL: `${server}/v1beta`, apiKey: "client-key" })(model);
}

const streamed = streamText({ model: provider, prompt: "say hi", maxRetries: 0 });
let text = "";
for await (const delta of streamed.textStream) text += delta;

const result = await generateText({
  model: provider,
  prompt: "get the marker",
  maxRetries: 0,
  stopWhen: stepCountIs(3),
  tools: {
    get_marker: tool({
      description: "Returns the marker",
      inputSchema: jsonSchema({ type: "object", properties: { key: { type: "string" } }, required: ["key"] }),
      execute: async () => ({ marker: process.env.MARKER }),
    }),
  },
});
process.stdout.write(JSON.stringify({ stream: text, tool: result.text }));
