/**
 * The least an HTTP proxy that reads the request body first (as a router must, for the model) can
 * do: node:http in, the body read whole, one undici dispatch to the upstream, the answer read whole
 * and written with its length. Nothing parsed, no headers forwarded but the content type, so it can
 * neither route nor stream: a reference row for the 1,000 req/s latency, not a usable proxy.
 */
import { createServer, type IncomingMessage } from "node:http";
import { parseArgs } from "node:util";
import { Agent } from "undici";
import { serveTarget } from "./serve.js";

const { values } = parseArgs({ options: { upstream: { type: "string" } } });
if (!values.upstream) throw new Error("buffered needs --upstream <origin>");
const origin = values.upstream;
const agent = new Agent({ keepAliveTimeout: 65_000 });

function readAll(stream: IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  stream.on("end", () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

const server = createServer((req, res) =>
  readAll(req, (body) => {
    const chunks: Buffer[] = [];
    let status = 502;
    let type = "application/json";
    agent.dispatch(
      { origin, path: req.url ?? "/", method: "POST", headers: { "content-type": "application/json" }, body },
      {
        onRequestStart() {},
        onResponseStart(_controller, statusCode, headers) {
          status = statusCode;
          type = String(headers["content-type"] ?? type);
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          const answer = Buffer.concat(chunks);
          res.writeHead(status, { "content-type": type, "content-length": answer.length }).end(answer);
        },
        onResponseError() {
          if (!res.headersSent) res.writeHead(502).end();
          else res.destroy();
        },
      },
    );
  }),
);
server.keepAliveTimeout = 65_000;
serveTarget(server, "buffered");
