import type { GuardrailContext, GuardrailLogger, GuardrailViolation, GuardrailsConfig, Guardrails } from "../src/index.js";
import { createGuardrails } from "../src/index.js";

export interface Ctx extends GuardrailContext {
  counters: Record<string, number>;
  state: Map<string, unknown>;
  target?: { provider: string };
}

export function ctx(provider?: string): Ctx {
  return { requestId: "req-1", counters: {}, state: new Map(), ...(provider ? { target: { provider } } : {}) };
}

export function recordingLogger(): GuardrailLogger & { lines: Array<{ fields: GuardrailViolation; message: string }> } {
  const lines: Array<{ fields: GuardrailViolation; message: string }> = [];
  return { lines, warn: (fields, message) => lines.push({ fields, message }) };
}

/** Guardrails with every built-in pattern redacting in the upgoing direction. */
export function redactAll(extra: GuardrailsConfig = {}): Guardrails {
  const g = createGuardrails(
    {
      enabled: true,
      upgoing: {
        api_keys: "redact",
        private_keys: "redact",
        credentials: "redact",
        pii_emails: "redact",
        pii_phone_numbers: "redact",
        ip_addresses: "redact",
        suspicious_commands: "redact",
      },
      ...extra,
    },
    { logger: recordingLogger() },
  );
  if (!g) throw new Error("guardrails disabled");
  return g;
}

/** The pattern names that fired on a text, in order. */
export function detect(g: Guardrails, text: string): string[] {
  const out = g.scanText(text, "upgoing", ctx());
  return [...out.matchAll(/\[REDACTED:([a-z_]+)\]/g)].map((m) => m[1]);
}
