import type { Protocol } from "@bitrouter/providers";

/** What an HTTP path asks for: one of the four inbound protocols, or a read-only endpoint. */
export type RouteMatch =
  | { kind: "inference"; protocol: Protocol; model?: string; stream?: boolean }
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
    return { kind: "inference", protocol: "google", model: decodeURIComponent(gemini[1]!), stream: gemini[2] === "streamGenerateContent" };
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
    // A payment credential may follow the token in the same header: `Bearer <jwt>, Payment <credential>`.
    const match = /^Bearer\s+([^\s,]+)/i.exec(authorization.trim());
    if (match) return match[1]!;
  }
  return headers.get("x-api-key") ?? headers.get("x-goog-api-key") ?? url?.searchParams.get("key") ?? undefined;
}
