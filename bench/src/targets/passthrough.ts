/**
 * The floor for any Node proxy: node:http in, undici out, bytes piped both ways, nothing parsed.
 * `x-bench-upstream: idle` picks the idle mock (the only header it reads); abort propagates both ways.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { serveTarget } from "./serve.js";

const { values } = parseArgs({ options: { upstream: { type: "string" }, idle: { type: "string" } } });
if (!values.upstream || !values.idle) throw new Error("passthrough needs --upstream <origin> and --idle <origin>");
const pools = { main: new Pool(values.upstream), idle: new Pool(values.idle) };

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "host", "proxy-connection", "te", "trailer"]);
function forwardable(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

const server = createServer((req, res) => {
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  const pool = req.headers["x-bench-upstream"] === "idle" ? pools.idle : pools.main;
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  pool
    .request({
      path: req.url ?? "/",
      method: (req.method ?? "GET") as "GET",
      headers: forwardable(req.headers),
      body: hasBody ? req : null,
      signal: abort.signal,
    })
    .then(async (upstream) => {
      if (res.destroyed) {
        upstream.body.destroy(); // the client left while we waited for the head
        return;
      }
      res.writeHead(upstream.statusCode, forwardable(upstream.headers));
      await pipeline(upstream.body, res);
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
});
server.keepAliveTimeout = 65_000;
serveTarget(server, "passthrough");
