import { createService } from "./service.js";

// Usage: OPENAI_API_KEY=... ANTHROPIC_API_KEY=... node dist/main.js
// "summarizer" tries OpenAI first and fails over to Anthropic (keys from the environment).
const { server } = createService({
  models: {
    summarizer: {
      endpoints: [
        { provider: "openai", modelId: "gpt-4o-mini" },
        { provider: "anthropic", modelId: "claude-3-5-haiku-latest" },
      ],
    },
  },
  requestTimeoutMs: 60_000,
});
server.listen(3000, "127.0.0.1", () => console.log("service on http://127.0.0.1:3000 (POST /summarize, /summarize/stream; SDKs at /llm)"));
