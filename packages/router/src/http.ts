import type { Protocol } from "@bitrouter/core";
import { PROTOCOL_DESCRIPTORS } from "@bitrouter/providers";

/** What an HTTP path asks for: one of the four inbound protocols, or a read-only endpoint. */
export type RouteMatch =
  | { kind: "inference"; protocol: Protocol; model?: string; stream?: boolean; invalid?: string }
  /** Anthropic `POST /v1/messages/count_tokens`, Gemini `POST …/models/{model}:countTokens`. */
  | { kind: "count_tokens"; protocol: Protocol; model?: string; invalid?: string }
  /** The model list: OpenAI's shape at `/v1/models`, Google's at `/v1beta/models`. */
  | { kind: "models"; protocol?: "google" }
  /** One model: `GET /v1/models/{id}` (OpenAI or Anthropic shape) or `GET /v1beta/models/{id}` (Google's). */
  | { kind: "model"; id: string; protocol?: "google" }
  | { kind: "health" };

const MODEL_PATH = /^\/(v1|v1beta)\/models\/(.+)$/;
const DESCRIPTORS = Object.values(PROTOCOL_DESCRIPTORS);

/**
 * Maps a request path to what it asks for. A POST is asked of each protocol (its descriptor knows
 * its paths); base URLs follow each SDK's default shape: OpenAI `<host>/v1`, Anthropic `<host>`,
 * Google `<host>` (the SDK adds `/v1beta/...`).
 */
export function matchPath(method: string, pathname: string): RouteMatch | undefined {
  if (method === "GET") {
    if (pathname === "/health") return { kind: "health" };
    if (pathname === "/v1/models" || pathname === "/models") return { kind: "models" };
    if (pathname === "/v1beta/models") return { kind: "models", protocol: "google" };
    const model = MODEL_PATH.exec(pathname);
    if (model) {
      const id = decodeURIComponent(model[2]!);
      return model[1] === "v1beta" ? { kind: "model", id: id.replace(/^models\//, ""), protocol: "google" } : { kind: "model", id };
    }
    return undefined;
  }
  if (method !== "POST") return undefined;
  for (const descriptor of DESCRIPTORS) {
    const route = descriptor.matchPath(pathname);
    if (route) return { ...route, protocol: descriptor.protocol };
  }
  return undefined;
}

/**
 * The protocol a caller speaks, for answers that are not tied to an inference route (a 404, a model
 * lookup): the protocol whose path prefix the path has, else the one whose SDK header was sent
 * (Google's key header, Anthropic's version header), else OpenAI.
 */
export function callerProtocol(pathname: string, headers: Headers): Protocol {
  const byPath = DESCRIPTORS.find((d) => d.callerHints && pathname.startsWith(d.callerHints.pathPrefix));
  const byHeader = DESCRIPTORS.find((d) => d.callerHints && headers.has(d.callerHints.header));
  return (byPath ?? byHeader)?.protocol ?? "openai-chat";
}

/**
 * The caller's credential: `Authorization: Bearer` on every protocol, else the header each SDK uses
 * for its API key (`x-api-key` for Anthropic, `x-goog-api-key` for Google), else a key in the query
 * (Google's `?key=`). Any protocol's header is read on any path.
 */
export function readCredential(headers: Headers, url?: URL): string | undefined {
  const authorization = headers.get("authorization");
  const bearer = authorization ? bearerToken(authorization) : undefined;
  if (bearer) return bearer;
  for (const { credentialHeader } of DESCRIPTORS) {
    const value = credentialHeader === undefined ? null : headers.get(credentialHeader);
    if (value !== null) return value;
  }
  for (const { credentialQueryParam } of DESCRIPTORS) {
    const value = credentialQueryParam === undefined ? null : (url?.searchParams.get(credentialQueryParam) ?? null);
    if (value !== null) return value;
  }
  return undefined;
}

const BEARER = /^\s*Bearer\s+/i;

/**
 * The token of `Authorization: Bearer <token>`. It runs to the first space or comma: a payment
 * credential may follow in the same header (`Bearer <jwt>, Payment <credential>`). Found with two
 * native searches rather than a regex over the token, which cost ~10 instructions per character of
 * a ~600-character token on every request.
 */
function bearerToken(value: string): string | undefined {
  const prefix = BEARER.exec(value);
  if (!prefix) return undefined;
  const start = prefix[0].length;
  const end = Math.min(endOf(value, ",", start), endOf(value, " ", start));
  return end > start ? value.slice(start, end) : undefined;
}

/** Where `stop` first occurs in `value` from `start` on, or the value's length. */
function endOf(value: string, stop: string, start: number): number {
  const at = value.indexOf(stop, start);
  return at === -1 ? value.length : at;
}

/**
 * The caller's feature headers for its protocol (Anthropic betas and API version, OpenAI betas), or
 * undefined when it sent none. Forwarded only to upstreams of the caller's own protocol, where they
 * mean the same; a translated request to another protocol drops them (its codec decides what the
 * upstream gets).
 */
export function featureHeaders(protocol: Protocol, headers: Headers): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name of PROTOCOL_DESCRIPTORS[protocol].featureHeaders) {
    const value = headers.get(name);
    if (value !== null) (out ??= {})[name] = value;
  }
  return out;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The caller's own `x-request-id`, when it is a sane token (1-128 of `A-Za-z0-9._:-`). A host keeps it
 * beside its own request id and echoes it in the answer, never uses it as the id: ids must be
 * unique whatever callers send (a ledger row each), and a header is not a safe log field.
 */
export function callerRequestId(headers: Headers): string | undefined {
  const given = headers.get("x-request-id");
  return given !== null && REQUEST_ID.test(given) ? given : undefined;
}
