import type { Protocol } from "@bitrouter/core";

/** What an HTTP path asks for: one of the four inbound protocols, or a read-only endpoint. */
export type RouteMatch =
  | { kind: "inference"; protocol: Protocol; model?: string; stream?: boolean; invalid?: string }
  /** Anthropic `POST /v1/messages/count_tokens`, Gemini `POST …/models/{model}:countTokens`. */
  | { kind: "count_tokens"; protocol: "anthropic" | "google"; model?: string; invalid?: string }
  /** The model list: OpenAI's shape at `/v1/models`, Google's at `/v1beta/models`. */
  | { kind: "models"; protocol?: "google" }
  /** One model: `GET /v1/models/{id}` (OpenAI or Anthropic shape) or `GET /v1beta/models/{id}` (Google's). */
  | { kind: "model"; id: string; protocol?: "google" }
  | { kind: "health" };

const GEMINI_PATH = /^\/v1(?:beta)?\/models\/(.+):(generateContent|streamGenerateContent|countTokens)$/;
const MODEL_PATH = /^\/(v1|v1beta)\/models\/(.+)$/;

/**
 * Maps a request path to what it asks for. Base URLs follow each SDK's default shape:
 * OpenAI `<host>/v1`, Anthropic `<host>`, Google `<host>` (the SDK adds `/v1beta/...`).
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
  switch (pathname) {
    case "/v1/chat/completions":
    case "/chat/completions":
      return { kind: "inference", protocol: "openai-chat" };
    case "/v1/responses":
    case "/responses":
      return { kind: "inference", protocol: "openai-responses" };
    case "/v1/messages":
      return { kind: "inference", protocol: "anthropic" };
    case "/v1/messages/count_tokens":
      return { kind: "count_tokens", protocol: "anthropic" };
  }
  const gemini = GEMINI_PATH.exec(pathname);
  if (gemini) {
    const stream = gemini[2] === "streamGenerateContent";
    let model: string;
    try {
      model = decodeURIComponent(gemini[1]!);
    } catch {
      const invalid = "the model in the URL path is not valid percent-encoding";
      return gemini[2] === "countTokens" ? { kind: "count_tokens", protocol: "google", invalid } : { kind: "inference", protocol: "google", stream, invalid };
    }
    if (gemini[2] === "countTokens") return { kind: "count_tokens", protocol: "google", model };
    return { kind: "inference", protocol: "google", model, stream };
  }
  return undefined;
}

/**
 * The protocol a caller speaks, for answers that are not tied to an inference route (a 404, a model
 * lookup): Google's paths and key header, Anthropic's paths and version header, else OpenAI.
 */
export function callerProtocol(pathname: string, headers: Headers): Protocol {
  if (pathname.startsWith("/v1beta/") || headers.has("x-goog-api-key")) return "google";
  if (pathname.startsWith("/v1/messages") || headers.has("anthropic-version")) return "anthropic";
  return "openai-chat";
}

/**
 * The caller's credential: `Authorization: Bearer` on every protocol, plus the header each SDK
 * uses for its API key (`x-api-key` for Anthropic, `x-goog-api-key` or `?key=` for Google).
 */
export function readCredential(headers: Headers, url?: URL): string | undefined {
  const authorization = headers.get("authorization");
  if (authorization) {
    // A payment credential may follow the token in the same header: `Bearer <jwt>, Payment <credential>`.
    const match = /^Bearer\s+([^\s,]+)/i.exec(authorization.trim());
    if (match) return match[1]!;
  }
  return headers.get("x-api-key") ?? headers.get("x-goog-api-key") ?? url?.searchParams.get("key") ?? undefined;
}

/**
 * Protocol feature headers a caller sends to opt in to API features (Anthropic betas and API version,
 * OpenAI betas). Forwarded only to upstreams of the caller's own protocol, where they mean the same;
 * a translated request to another protocol drops them (its codec decides what the upstream gets).
 */
const FEATURE_HEADERS: Readonly<Record<Protocol, readonly string[]>> = {
  anthropic: ["anthropic-beta", "anthropic-version"],
  "openai-chat": ["openai-beta"],
  "openai-responses": ["openai-beta"],
  google: [],
};

/** The caller's feature headers for its protocol, or undefined when it sent none. */
export function featureHeaders(protocol: Protocol, headers: Headers): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name of FEATURE_HEADERS[protocol]) {
    const value = headers.get(name);
    if (value !== null) (out ??= {})[name] = value;
  }
  return out;
}
