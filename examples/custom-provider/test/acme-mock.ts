// A mock Acme AI server speaking "Acme protocol v1" (see src/acme-protocol.ts): answers each
// POST /generate with the next queued text, as JSON or as SSE, and records the requests.
import { createServer, type IncomingHttpHeaders } from "node:http";

export interface AcmeMock {
  baseUrl: string;
  requests: Array<{ path: string; headers: IncomingHttpHeaders; body: Record<string, unknown> }>;
  enqueue(answer: { text: string; input?: number; output?: number }): void;
  close(): Promise<void>;
}

export async function startAcmeMock(): Promise<AcmeMock> {
  const queue: Array<{ text: string; input?: number; output?: number }> = [];
  const requests: AcmeMock["requests"] = [];
  const server = createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw || "{}") as Record<string, unknown>;
    requests.push({ path: req.url ?? "", headers: req.headers, body });
    const next = queue.shift();
    if (req.url !== "/v1/generate" || !next) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "nothing queued" } }));
      return;
    }
    const tokens = { input: next.input ?? 10, output: next.output ?? 5 };
    if (body.stream === true) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      for (const word of next.text.split(/(?<= )/)) res.write(`data: ${JSON.stringify({ type: "delta", id: "acme-1", model: body.model, text: word })}\n\n`);
      res.end(`data: ${JSON.stringify({ type: "done", finish: "stop", tokens })}\n\n`);
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: "acme-1", model: body.model, output_text: next.text, finish: "stop", tokens }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (answer) => queue.push(answer),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
