import type { AddressInfo } from "node:net";
import { createService } from "./service.js";

// Usage: OPENAI_API_KEY=... ANTHROPIC_API_KEY=... [PORT=3000] node dist/main.js
// "summarizer" tries OpenAI first and fails over to Anthropic (keys, and OPENAI_BASE_URL /
// ANTHROPIC_BASE_URL if set, from the environment).
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
server.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`service on http://127.0.0.1:${port} (POST /summarize, /summarize/stream; SDKs at /llm)`);
});
