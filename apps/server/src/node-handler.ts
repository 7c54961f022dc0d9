import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorInfo, Protocol } from "@bitrouter/core";
import { BitrouterError, toErrorInfo } from "@bitrouter/core";
import { CODECS } from "@bitrouter/providers";
import type { InboundRequest, InboundResult, Router } from "@bitrouter/router";

/**
 * Serves one inference request on the raw Node request/response. Skipping the Web-stream
 * conversions here is what keeps the fast path as cheap as a bare pass-through proxy.
 */
export async function serveInference(options: {
  router: Router;
  req: IncomingMessage;
  res: ServerResponse;
  headers: Headers;
  protocol: Protocol;
  pathModel: string | undefined;
  pathStream: boolean | undefined;
  credential: string | undefined;
  /** Refused at the door (answered in the caller's protocol and recorded): see InboundRequest. */
  refusal: ErrorInfo | undefined;
  /** The server-made id (the ledger's key). */
  requestId: string;
  /** What the answer's x-request-id says: the caller's own id if it sent one, else requestId. */
  replyId: string;
  bodyLimit: number;
}): Promise<void> {
  const { req, res, requestId } = options;
  const controller = takeController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  let result: InboundResult;
  try {
    const body = await readBodyParts(req, options.bodyLimit);
    // One literal with every field, some undefined: one object shape for every request, no copies.
    const inbound: InboundRequest = {
      protocol: options.protocol,
      body,
      headers: options.headers,
      requestId,
      signal: controller.signal,
      controller,
      completeAfterTurn: true, // the answer is written below as soon as the result comes in
      pathModel: options.pathModel,
      pathStream: options.pathStream,
      credential: options.credential,
      refusal: options.refusal,
    };
    result = await options.router.handle(inbound);
  } catch (error) {
    const { status, body } = CODECS[options.protocol].encodeError(toErrorInfo(error));
    result = { type: "json", status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  }
  await writeResult(res, result, options.replyId);
  refillControllers();
}

/**
 * AbortControllers made ahead, each with its signal: making one (an EventTarget, two maps) costs
 * ~8 µs on a core that was idle, on the request's way to the upstream. Each request takes a fresh one
 * (never reused: hooks and providers may keep listeners on a signal) and the reserve is topped up
 * once its answer is written. More requests at once than the reserve holds make theirs on the spot.
 */
const controllers: AbortController[] = [];
const CONTROLLERS_AHEAD = 16;

function takeController(): AbortController {
  return controllers.pop() ?? new AbortController();
}

function refillControllers(): void {
  while (controllers.length < CONTROLLERS_AHEAD) {
    const controller = new AbortController();
    void controller.signal; // Node makes the signal on first use
    controllers.push(controller);
  }
}

export async function writeResult(res: ServerResponse, result: InboundResult, replyId: string): Promise<void> {
  if (result.type === "json") {
    res.writeHead(result.status, { ...result.headers, "x-request-id": replyId, "content-length": Buffer.byteLength(result.body) });
    res.end(result.body);
    return;
  }
  // No flushHeaders(): the first chunk is already there (the router reads up to the first content
  // event before it answers), so the head goes out with it, in one write.
  res.writeHead(result.status, { ...result.headers, "x-request-id": replyId });
  if (result.body.pipeTo) {
    // The fast path's stream: upstream chunks written as they come, no promise per chunk.
    await result.body.pipeTo(res);
    if (!res.destroyed) res.end();
    return;
  }
  const iterator = result.body[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (res.destroyed) break;
      const next = await iterator.next();
      if (next.done) break;
      if (!res.write(next.value)) await drainOrClose(res);
    }
  } finally {
    // Stops the upstream read when the client left early; a no-op after a normal end.
    await iterator.return?.();
    if (!res.destroyed) res.end();
  }
}

/** Waits until the client takes more bytes or goes away; leaves no listener behind (a long stream waits many times). */
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Reads the request body into one buffer, refusing more than `limit` bytes with a 413. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const body = await readBodyParts(req, limit);
  return Buffer.isBuffer(body) ? body : Buffer.concat(body);
}

/**
 * Reads the request body as it came: one buffer, or the buffers of its socket reads in order (not
 * joined: the router scans and forwards them as they are, see InboundRequest.body). Refuses more
 * than `limit` bytes with a 413. Event listeners, not `for await`: a readable's async iterator
 * costs an object graph and a promise hop per chunk.
 */
export function readBodyParts(req: IncomingMessage, limit: number): Promise<Buffer | Buffer[]> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.resume(); // the rest is read and dropped, so the connection can answer the 413
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : chunks.length === 0 ? Buffer.alloc(0) : chunks);
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    // The client went away before the body was complete.
    const onClose = () => onError(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

function tooLarge(limit: number): BitrouterError {
  return new BitrouterError({
    kind: "payload_too_large",
    message: `request body exceeds the server's limit of ${limit} bytes (server.body_limit)`,
    code: "request_too_large",
  });
}
