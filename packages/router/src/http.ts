import type { Protocol } from "@bitrouter/core";

/** What an HTTP path asks for: one of the four inbound protocols, or a read-only endpoint. */
export type RouteMatch =
  | { kind: "inference"; protocol: Protocol; model?: string; stream?: boolean; invalid?: string }
  | { kind: "models" }
  | { kind: "health" };

const GEMINI_PATH = /^\/v1(?:beta)?\/models\/(.+):(generateContent|streamGenerateContent)$/;

/**
 * Maps a request path to what it asks for. Base URLs follow each SDK's default shape:
 * OpenAI `<host>/v1`, Anthropic `<host>`, Google `<host>` (the SDK adds `/v1beta/...`).
 */
export function matchPath(method: string, pathname: string): RouteMatch | undefined {
  if (method === "GET") {
    if (pathname === "/health") return { kind: "health" };
    if (pathname === "/v1/models" || pathname === "/models") return { kind: "models" };
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
  }
  const gemini = GEMINI_PATH.exec(pathname);
  if (gemini) {
    const stream = gemini[2] === "streamGenerateContent";
    try {
      return { kind: "inference", protocol: "google", model: decodeURIComponent(gemini[1]!), stream };
    } catch {
      return { kind: "inference", protocol: "google", stream, invalid: "the model in the URL path is not valid percent-encoding" };
    }
  }
  return undefined;
}

/**
 * The caller's credential: `Authorization: Bearer` on every protocol, plus the header each SDK
 * uses for its API key (`x-api-key` for Anthropic, `x-goog-api-key` or `?key=` for Google).
 */
export function readCredential(headers: Headers, url?: URL): string | undefined {
  const authorization = headers.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return match[1]!.trim();
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
