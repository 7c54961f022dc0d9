/**
 * Token counting as clients call it before sending (Claude Code: `POST /v1/messages/count_tokens`;
 * Gemini clients: `POST …/models/{model}:countTokens`). When the route's first endpoint speaks the
 * caller's protocol, the upstream counts; otherwise BitRouter estimates. The answer says which in
 * the `x-bitrouter-token-count` header (`upstream` | `estimate`).
 */
import type { CanonicalRequest, ContentPart } from "@bitrouter/core";
import { BitrouterError, toErrorInfo } from "@bitrouter/core";
import { PROTOCOL_DESCRIPTORS } from "@bitrouter/providers";
import type { InboundRequest, InboundResult } from "./pipeline.js";
import { parseJsonBody } from "./body.js";
import type { RouterDeps } from "./lifecycle.js";
import { RequestDeadline, runRequestHooks } from "./lifecycle.js";
import { newContext, readModel, scrubKey } from "./pipeline.js";

export const TOKEN_COUNT_HEADER = "x-bitrouter-token-count";

/** Upstream statuses that mean "this server has no token counting" (compatible servers): estimate instead. */
const NO_COUNTING = new Set([404, 405, 501]);

export async function countTokens(deps: RouterDeps, inbound: InboundRequest): Promise<InboundResult> {
  const protocol = inbound.protocol;
  const codec = deps.codecs[protocol];
  const ctx = newContext(inbound);
  const deadline = new RequestDeadline(deps.requestTimeoutMs, inbound.signal);
  try {
    const body = parseJsonBody(inbound.body);
    ctx.model = readModel(inbound, body.model);
    await runRequestHooks(deps.hooks, ctx);
    const target = deps.resolver.resolve(ctx.model).targets[0];
    const descriptor = PROTOCOL_DESCRIPTORS[protocol];
    const counting = descriptor.tokenCounting;
    if (counting === undefined) throw new BitrouterError({ kind: "not_found", status: 404, message: `${protocol} has no token counting` });
    if (target && target.endpoint.protocol === protocol) {
      const upstreamBody = descriptor.modelInPath ? body : { ...body, model: target.modelId };
      const request = { endpoint: target.endpoint, path: counting.path(target.modelId), body: JSON.stringify(upstreamBody), signal: deadline.signal };
      const response = await deps.client.requestWhole(request);
      const text = scrubKey(response.body.toString("utf8"), response.sentKey);
      if (!NO_COUNTING.has(response.status)) {
        // Same protocol: the upstream's answer (errors included) is already in the caller's shape.
        return { type: "json", status: response.status, headers: { "content-type": "application/json", [TOKEN_COUNT_HEADER]: "upstream" }, body: text };
      }
    }
    const tokens = estimateTokens(codec.decodeRequest(counting.countedRequest(body), { model: ctx.model, stream: false }));
    const answer = counting.answer(tokens);
    return { type: "json", status: 200, headers: { "content-type": "application/json", [TOKEN_COUNT_HEADER]: "estimate" }, body: JSON.stringify(answer) };
  } catch (error) {
    const { status, body } = codec.encodeError(toErrorInfo(error));
    return { type: "json", status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  } finally {
    deadline.clear();
  }
}

/**
 * A rough count of a request's input tokens: about four characters per token over the text the
 * model reads (system, messages, tool calls and results, tool definitions), plus a few per message
 * and a fixed cost per image or file. Good for "will it fit", not for billing.
 */
export function estimateTokens(request: CanonicalRequest): number {
  let chars = 0;
  let fixed = 0;
  const part = (p: ContentPart): void => {
    switch (p.type) {
      case "text":
      case "reasoning":
        chars += p.text.length;
        break;
      case "tool_call":
        chars += p.name.length + p.arguments.length;
        break;
      case "tool_result":
        for (const c of p.content) part(c);
        break;
      case "image":
      case "file":
        fixed += 1000;
        break;
    }
  };
  for (const s of request.system ?? []) chars += s.text.length;
  for (const m of request.messages) {
    fixed += 4;
    for (const p of m.content) part(p);
  }
  for (const t of request.tools ?? []) chars += t.name.length + (t.description?.length ?? 0) + JSON.stringify(t.parameters).length;
  return Math.ceil(chars / 4) + fixed;
}
