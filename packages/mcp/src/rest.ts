/** A plain-HTTP tool provider (`api_protocol: rest`): a call is `POST {api_base}/{service_id}` with the JSON arguments. */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { UpstreamStatus } from "./upstream.js";
import { UpstreamUnavailable } from "./upstream.js";
import type { RestUpstreamSpec } from "./types.js";
import { scrub, secretsOf } from "./scrub.js";

/** Longest error body kept in a result: enough to read the error, never a whole page. */
const MAX_ERROR_BODY = 4096;

export class RestUpstream {
  readonly name: string;
  readonly spec: RestUpstreamSpec;
  readonly #secrets: string[];

  constructor(spec: RestUpstreamSpec) {
    this.name = spec.name;
    this.spec = spec;
    this.#secrets = secretsOf(spec.headers);
  }

  status(): UpstreamStatus {
    // Nothing to connect to: a REST provider is as healthy as its last call.
    return { name: this.name, transport: "rest", state: "connected", bridge: false };
  }

  async callTool(serviceId: string, args: Record<string, unknown>, options: { signal?: AbortSignal; timeoutMs?: number }): Promise<CallToolResult> {
    const url = `${this.spec.url.replace(/\/+$/, "")}/${encodeURIComponent(serviceId)}`;
    const signals = [options.signal, options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined].filter((s): s is AbortSignal => s !== undefined);
    let response: Response;
    try {
      const auth = this.spec.bearerToken ? { authorization: `Bearer ${await this.spec.bearerToken()}` } : {};
      response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", ...this.spec.headers, ...auth },
        body: JSON.stringify(args),
        ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new UpstreamUnavailable(this.name, scrub(error instanceof Error ? error.message : String(error), this.#secrets));
    }
    const text = await response.text();
    if (!response.ok) {
      return {
        isError: true,
        content: [{ type: "text", text: `${this.name} answered HTTP ${response.status}: ${scrub(text, this.#secrets).slice(0, MAX_ERROR_BODY)}` }],
      };
    }
    const result: CallToolResult = { content: [{ type: "text", text }] };
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) result.structuredContent = parsed as Record<string, unknown>;
    } catch {
      // Not JSON: the text alone is the result.
    }
    return result;
  }

  async close(): Promise<void> {}
}
