// "Acme protocol v1", the wire protocol of the (fictional) Acme AI: not OpenAI-compatible, so this
// package teaches BitRouter to speak it. Only the outbound half is needed: callers keep using the
// OpenAI, Anthropic or Gemini SDKs, and BitRouter translates through its canonical model.
//
//   POST {api_base}/generate  {model, input: [{role, text}], max_tokens?, temperature?, stream?}
//   answer                    {id, model, output_text, finish: "stop" | "length", tokens: {input, output}}
//   stream (SSE)              data: {"type":"delta","text":"..."} ... data: {"type":"done","finish":...,"tokens":{...}}
//   error                     {error: {message}} with an HTTP status
import type { CanonicalRequest, CanonicalResponse, ErrorInfo, ErrorKind, StreamEvent, UpstreamCodec, Usage } from "@bitrouter/providers/define";

export const ACME_PROTOCOL = "acme-v1";

interface AcmeTokens {
  input: number;
  output: number;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function usage(tokens: unknown): Usage {
  const t = record(tokens) as Partial<AcmeTokens>;
  return { inputTokens: Number(t.input ?? 0), outputTokens: Number(t.output ?? 0) };
}

/** Acme takes text only: each message's text parts, joined; the system prompt as a first "system" turn. */
function input(request: CanonicalRequest): Array<{ role: string; text: string }> {
  const turns = request.system?.length ? [{ role: "system", text: request.system.map((p) => p.text).join("\n") }] : [];
  for (const message of request.messages) {
    const text = message.content.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("\n");
    turns.push({ role: message.role, text });
  }
  return turns;
}

const KIND_BY_STATUS: Record<number, ErrorKind> = { 400: "invalid_request", 401: "authentication", 403: "permission", 404: "not_found", 429: "rate_limit" };

export const acmeCodec: UpstreamCodec = {
  protocol: ACME_PROTOCOL,

  encodeRequest(request, options) {
    const body = {
      model: options.model,
      input: input(request),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.stream ? { stream: true } : {}),
    };
    return { path: "/generate", body };
  },

  decodeResponse(body): CanonicalResponse {
    const answer = record(body);
    return {
      id: String(answer.id ?? ""),
      model: String(answer.model ?? ""),
      created: Math.floor(Date.now() / 1000),
      content: [{ type: "text", text: String(answer.output_text ?? "") }],
      stopReason: answer.finish === "length" ? "length" : "stop",
      usage: usage(answer.tokens),
    };
  },

  createStreamDecoder() {
    let started = false;
    return {
      decode(event): StreamEvent[] {
        const data = record(JSON.parse(event.data));
        const out: StreamEvent[] = [];
        if (!started) {
          started = true;
          out.push({ type: "start", id: String(data.id ?? ""), model: String(data.model ?? ""), created: Math.floor(Date.now() / 1000) });
        }
        if (data.type === "delta") out.push({ type: "text_delta", index: 0, text: String(data.text ?? "") });
        if (data.type === "done") out.push({ type: "finish", stopReason: data.finish === "length" ? "length" : "stop", usage: usage(data.tokens) });
        return out;
      },
      end: () => [],
    };
  },

  decodeError(status, body): ErrorInfo {
    const message = record(record(body).error).message;
    const kind = KIND_BY_STATUS[status] ?? "upstream";
    return { kind, status: kind === "upstream" ? 502 : status, message: typeof message === "string" ? message : `Acme error (HTTP ${status})` };
  },
};
