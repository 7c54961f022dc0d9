// Run by langchain.e2e.ts under Node >= 22 with the pinned clients:
//   node langchain.mjs <openai|anthropic|google> <server url> <model>
// Streams a text answer, then a tool round trip (bindTools, the call answered with a ToolMessage),
// and prints {"stream": "...", "tool": "..."} on stdout.
const [, , sdk, server, model] = process.argv;
// Copied next to the pinned clients' node_modules before it runs, so bare imports resolve there.
const load = (name) => import(name);
const { ToolMessage, HumanMessage } = await load("@langchain/core/messages");

let llm;
if (sdk === "openai") {
  const { ChatOpenAI } = await load("@langchain/openai");
  llm = new ChatOpenAI({ model, apiKey: "client-key", configuration: { baseURL: `${server}/v1` }, maxRetries: 0 });
} else if (sdk === "anthropic") {
  const { ChatAnthropic } = await load("@langchain/anthropic");
  llm = new ChatAnthropic({ model, apiKey: "client-key", anthropicApiUrl: server, maxRetries: 0 });
} else {
  const { ChatGoogleGenerativeAI } = await load("@langchain/google-genai");
  llm = new ChatGoogleGenerativeAI({ model, apiKey: "client-key", baseUrl: server, maxRetries: 0 });
}

let text = "";
for await (const chunk of await llm.stream("say hi"))
  text += typeof chunk.content === "string" ? chunk.content : chunk.content.map((c) => c.text ?? "").join("");

const withTools = llm.bindTools([
  {
    type: "function",
    function: {
      name: "get_marker",
      description: "Returns the marker",
      parameters: { type: "object", properties: { key: { type: "string" } }, required: ["key"] },
    },
  },
]);
const messages = [new HumanMessage("get the marker")];
const call = await withTools.invoke(messages);
messages.push(call);
for (const tc of call.tool_calls ?? []) messages.push(new ToolMessage({ tool_call_id: tc.id, content: process.env.MARKER }));
const final = await withTools.invoke(messages);
const finalText = typeof final.content === "string" ? final.content : final.content.map((c) => c.text ?? "").join("");
process.stdout.write(JSON.stringify({ stream: text, tool: finalText, calls: (call.tool_calls ?? []).length }));
