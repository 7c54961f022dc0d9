/**
 * Requests a web page makes from the operator's browser. In open mode (no operator account) any
 * page the operator visits could otherwise drive the server: a `text/plain` POST needs no CORS
 * preflight, and a DNS-rebound name makes the page "same-origin" with 127.0.0.1. So open mode
 * serves local programs (no `Origin`), the server's own origin, and the origins listed in
 * `server.cors_origins`; nothing else. With API keys a page cannot call without a token anyway.
 */
import { isIP } from "node:net";
import type { ErrorInfo } from "@bitrouter/core";
import { PROTOCOL_DESCRIPTORS } from "@bitrouter/providers";

export interface CrossSitePolicy {
  /** Open mode: no authentication, so the browser checks below are the only line. */
  open: boolean;
  /** The configured listen host (a name the operator chose is a legitimate Host). */
  listenHost: string;
  /** server.cors_origins. */
  corsOrigins: readonly string[];
}

export interface CrossSiteVerdict {
  /** Set when the request must be refused. */
  refusal?: ErrorInfo;
  /** Set when the answer must carry CORS headers for this origin. */
  corsOrigin?: string;
}

/**
 * Checks one request. `jsonBody()`: the endpoint takes a JSON body (inference, admin POSTs), so any
 * other content type is a form or `text/plain` post, the kind a page sends without a preflight.
 */
export function checkCrossSite(headers: Headers, jsonBody: () => boolean, policy: CrossSitePolicy): CrossSiteVerdict {
  const host = headers.get("host");
  if (policy.open && host !== null && !trustedHost(host, policy.listenHost)) {
    return refuse(
      403,
      "host_not_allowed",
      `Host '${host}' is not this server: in open mode only loopback, IP-address and the listen address's host names are answered (DNS rebinding protection)`,
    );
  }
  const origin = headers.get("origin");
  if (origin !== null) {
    if (policy.corsOrigins.includes(origin)) return { corsOrigin: origin };
    const own = host !== null && origin === `http://${host}`;
    if (policy.open && !own) {
      return refuse(
        403,
        "origin_not_allowed",
        `requests from the web origin ${origin} are refused: this server runs without authentication (open mode); list the origin in server.cors_origins to allow it`,
      );
    }
  }
  if (policy.open && !isJson(headers.get("content-type")) && jsonBody()) {
    return refuse(415, "unsupported_media_type", "Content-Type must be application/json");
  }
  return {};
}

/**
 * The request headers a preflight allows when the browser names none: a JSON body and the API key,
 * in any protocol's credential header (each protocol's descriptor names its own).
 */
const ALLOWED_HEADERS = ["authorization", "content-type", ...Object.values(PROTOCOL_DESCRIPTORS).flatMap((d) => d.credentialHeader ?? [])].join(", ");

/** The answer to a CORS preflight (OPTIONS) from an allowed origin. */
export function preflightHeaders(origin: string, requestedHeaders: string | null): Record<string, string> {
  return {
    ...corsHeaders(origin),
    "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
    "access-control-allow-headers": requestedHeaders ?? ALLOWED_HEADERS,
    "access-control-max-age": "600",
  };
}

export function corsHeaders(origin: string): Record<string, string> {
  return { "access-control-allow-origin": origin, vary: "Origin", "access-control-expose-headers": "x-request-id" };
}

function refuse(status: number, code: string, message: string): CrossSiteVerdict {
  return { refusal: { kind: status === 415 ? "invalid_request" : "permission", status, code, message } };
}

function isJson(contentType: string | null): boolean {
  if (contentType === null) return false;
  const media = contentType.split(";")[0]!.trim().toLowerCase();
  return media === "application/json" || (media.startsWith("application/") && media.endsWith("+json"));
}

/** A name a DNS-rebinding page cannot have: localhost, an IP literal, or the configured listen host. */
function trustedHost(hostHeader: string, listenHost: string): boolean {
  const name = hostName(hostHeader).toLowerCase();
  return name === "localhost" || isIP(name) !== 0 || name === listenHost.toLowerCase().replace(/^\[|\]$/g, "");
}

/** The host part of a Host header ("[::1]:8787" -> "::1", "example.com:80" -> "example.com"). */
function hostName(hostHeader: string): string {
  if (hostHeader.startsWith("[")) return hostHeader.slice(1, hostHeader.indexOf("]") === -1 ? undefined : hostHeader.indexOf("]"));
  const colon = hostHeader.lastIndexOf(":");
  return colon === -1 ? hostHeader : hostHeader.slice(0, colon);
}
