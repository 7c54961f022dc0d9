// Stands in for an agent client in the docs' integration blocks (docs.test.ts, "sh: agent clients"):
// the official SDK of the client's protocol, configured only from what that client reads (its
// environment variables, Codex's ~/.codex/config.toml), sends the prompt and prints the answer.
// The real clients run in apps/server/e2e/clients (pnpm e2e:clients); this proves the docs' lines
// point a client at BitRouter.
//
//   node client.mjs <claude|codex|gemini|openai> <default model> [the client's arguments]
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const [client, defaultModel, ...args] = process.argv.slice(2);
const flag = (...names) => {
  const i = args.findIndex((a) => names.includes(a));
  return i >= 0 ? args[i + 1] : undefined;
};
// `claude -p "…"`, `gemini -p "…"`, `codex exec "…"`; interactive starts get a first prompt.
const prompt = flag("-p", "--prompt") ?? (args[0] === "exec" ? args.at(-1) : undefined) ?? "Hi";
const env = process.env;
let text;
if (client === "claude") {
  const { default: Anthropic } = await import("@anthropic-ai/sdk");
  // Reads ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN, as Claude Code does.
  const anthropic = new Anthropic({ maxRetries: 0 });
  const model = flag("--model") ?? env.ANTHROPIC_MODEL ?? defaultModel;
  const message = await anthropic.messages.create({ model, max_tokens: 64, messages: [{ role: "user", content: prompt }] });
  text = message.content.map((part) => (part.type === "text" ? part.text : "")).join("");
} else if (client === "codex") {
  const config = parseToml(readFileSync(join(env.CODEX_HOME ?? join(homedir(), ".codex"), "config.toml"), "utf8"));
  const provider = config[`model_providers.${config[""].model_provider}`];
  if (provider?.wire_api !== "responses") throw new Error("config.toml: the model provider's wire_api must be responses");
  const { default: OpenAI } = await import("openai");
  const openai = new OpenAI({ baseURL: provider.base_url, apiKey: env[provider.env_key], maxRetries: 0 });
  const response = await openai.responses.create({ model: flag("-m", "--model") ?? config[""].model ?? defaultModel, input: prompt });
  text = response.output_text;
} else if (client === "gemini") {
  const { GoogleGenAI } = await import("@google/genai");
  const google = new GoogleGenAI({ apiKey: env.GEMINI_API_KEY, httpOptions: { baseUrl: env.GOOGLE_GEMINI_BASE_URL } });
  const response = await google.models.generateContent({ model: flag("-m", "--model") ?? env.GEMINI_MODEL ?? defaultModel, contents: prompt });
  text = response.text;
} else if (client === "openai") {
  // "Create the client without arguments": OPENAI_BASE_URL and OPENAI_API_KEY.
  const { default: OpenAI } = await import("openai");
  const completion = await new OpenAI({ maxRetries: 0 }).chat.completions.create({ model: defaultModel, messages: [{ role: "user", content: prompt }] });
  text = completion.choices[0]?.message.content;
} else {
  throw new Error(`unknown client ${client}`);
}
console.log(flag("--output-format") === "json" ? JSON.stringify({ result: text, is_error: false }) : text);

/** The tables of a flat TOML file (`key = "string"` lines): { "": top level, "a.b": [a.b] }. */
function parseToml(source) {
  const tables = { "": {} };
  let table = tables[""];
  for (const line of source.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim())) {
    const header = /^\[([^\]]+)\]$/.exec(line);
    const pair = /^([\w-]+)\s*=\s*"([^"]*)"$/.exec(line);
    if (header) table = tables[header[1]] = {};
    else if (pair) table[pair[1]] = pair[2];
  }
  return tables;
}
