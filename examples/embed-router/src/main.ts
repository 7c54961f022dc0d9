import { readFileSync } from "node:fs";
import { createService } from "./service.js";

// Usage: OPENAI_API_KEY=... node dist/main.js ./bitrouter.yaml
const yaml = process.argv[2]
  ? readFileSync(process.argv[2], "utf8")
  : "models:\n  summarizer:\n    endpoints:\n      - { provider: openai, model_id: gpt-4o-mini }\n";
const { server } = createService(yaml);
server.listen(3000, "127.0.0.1", () => console.log("service on http://127.0.0.1:3000 (POST /summarize, SDKs at /llm)"));
