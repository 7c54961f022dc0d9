// A plain Node HTTP service that embeds BitRouter: its own endpoints (/summarize, /summarize/stream)
// call models through the router's library API, and everything under /llm/ is handed to
// `router.fetch`, which speaks the OpenAI, Anthropic and Google protocols (so SDKs can be pointed at
// http://host/llm). The router is configured with a typed object (RouterConfig), not YAML.
import { createServer, type Server } from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { createRouter, type Router, type RouterConfig } from "@bitrouter/router";

const SUMMARIZE = { type: "text" as const, text: "Summarize in one sentence." };

export function createService(config: RouterConfig): { server: Server; router: Router } {
  const router = createRouter(config);

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      if (req.method === "POST" && url.pathname === "/summarize") {
        const text = await readText(req);
        const answer = await router.generate({
          model: "summarizer",
          system: [SUMMARIZE],
          messages: [{ role: "user", content: [{ type: "text", text }] }],
          maxTokens: 200,
        });
        const summary = answer.content.map((part) => (part.type === "text" ? part.text : "")).join("");
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ summary, usage: answer.usage }));
        return;
      }
      if (req.method === "POST" && url.pathname === "/summarize/stream") {
        // The text as it is generated, as plain text; failover happens before the first byte.
        const text = await readText(req);
        const events = await router.stream({ model: "summarizer", system: [SUMMARIZE], messages: [{ role: "user", content: [{ type: "text", text }] }] });
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        for await (const event of events) {
          if (event.type === "text_delta") res.write(event.text);
          else if (event.type === "error") res.write(`\n[error: ${event.error.message}]`);
        }
        res.end();
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
