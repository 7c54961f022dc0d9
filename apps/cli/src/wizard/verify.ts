// A cheap check that a key works: list the provider's models with it (no tokens spent).
import type { ProviderOption } from "./plan.js";

export type VerifyResult = { ok: true; message: string } | { ok: false; rejected: boolean; message: string };

/** The models listing of each protocol, and how it takes the key. */
function listRequest(option: ProviderOption, key: string): { url: string; headers: Record<string, string> } {
  const base = option.apiBase.replace(/\/+$/, "");
  switch (option.protocol) {
    case "anthropic":
      return { url: `${base}/v1/models`, headers: { "x-api-key": key, "anthropic-version": "2023-06-01" } };
    case "google":
      return { url: `${base}/v1beta/models`, headers: { "x-goog-api-key": key } };
    default:
      return { url: `${base}/models`, headers: { authorization: `Bearer ${key}` } };
  }
}

/** Never throws, never mentions the key. */
export async function verifyKey(option: ProviderOption, key: string, timeoutMs = 4000): Promise<VerifyResult> {
  const { url, headers } = listRequest(option, key);
  const host = new URL(url).host;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
  } catch {
    return { ok: false, rejected: false, message: `could not reach ${host}: key not verified` };
  }
  await response.body?.cancel();
  if (response.ok) return { ok: true, message: `${host} accepted the key` };
  if (response.status === 401 || response.status === 403) {
    return { ok: false, rejected: true, message: `${host} rejected the key (HTTP ${response.status})` };
  }
  return { ok: false, rejected: false, message: `${host} answered HTTP ${response.status}: key not verified` };
}
