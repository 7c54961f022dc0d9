// A plain Node HTTP service that embeds BitRouter: its own endpoint (/summarize) calls models through
// the router's library API, and everything under /llm/ is handed to `router.fetch`, which speaks the
// OpenAI, Anthropic and Google protocols (so SDKs can be pointed at http://host/llm).
import { createServer, type Server } from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { parseConfig } from "@bitrouter/config";
import { createRouter, type Router } from "@bitrouter/router";

export function createService(yaml: string, env: Record<string, string | undefined> = process.env): { server: Server; router: Router } {
  const { config } = parseConfig(yaml, { env });
  const router = createRouter(config);

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      if (req.method === "POST" && url.pathname === "/summarize") {
        const text = await readText(req);
        const answer = await router.generate({
          model: "summarizer",
          system: [{ type: "text", text: "Summarize in one sentence." }],
          messages: [{ role: "user", content: [{ type: "text", text }] }],
          maxTokens: 200,
        });
        const summary = answer.content.map((part) => (part.type === "text" ? part.text : "")).join("");
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ summary, usage: answer.usage }));
        return;
      }
      if (url.pathname.startsWith("/llm/")) {
        // Hand the request to the router as a Web Request, under its own path.
        const body = req.method === "POST" ? await readText(req) : undefined;
        const response = await router.fetch(
          new Request(new URL(url.pathname.slice(4) + url.search, "http://router"), {
            method: req.method ?? "GET",
            headers: req.headers as Record<string, string>,
            ...(body === undefined ? {} : { body }),
          }),
        );
        res.writeHead(response.status, Object.fromEntries(response.headers));
        if (response.body) Readable.fromWeb(response.body as NodeReadableStream).pipe(res);
        else res.end();
        return;
      }
      res.writeHead(404).end();
    } catch (error) {
      res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ error: (error as Error).message }));
    }
  });
  return { server, router };
}

async function readText(req: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk.toString();
  return text;
}
