import type { RequestContext } from "@bitrouter/core";
import type { GuardrailLogger, GuardrailViolation, GuardrailsConfig, Guardrails } from "../src/index.js";
import { createGuardrails } from "../src/index.js";

export type Ctx = RequestContext;

/** A request context as the router makes one, dispatching to `provider` when given. */
export function ctx(provider?: string): Ctx {
  return {
    requestId: "req-1",
    inboundProtocol: "openai-chat",
    startedAt: Date.now(),
    model: "smart",
    stream: false,
    headers: new Headers(),
    counters: {},
    state: new Map(),
    ...(provider ? { target: { route: "smart", provider, modelId: "m", endpointIndex: 0 } } : {}),
  };
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
  return [...out.matchAll(/\[REDACTED:([a-z_]+)\]/g)].map((m) => m[1] ?? "");
}

// Fake secrets are assembled at run time so that no secret-shaped literal sits in the repository.
const rep = (s: string, n: number) => s.repeat(n);
export const FAKE = {
  openai: "sk-" + rep("T3stKeyAbc", 5),
  openaiProject: "sk-" + "proj-" + rep("aB3_x-Z9", 20),
  anthropic: "sk-" + "ant-api03-" + rep("Qw9-", 24),
  aws: "AKIA" + "IOSFODNN7EXAMPLE",
  google: "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
  githubClassic: "ghp" + "_" + rep("a1B2c3", 6),
  githubServer: "ghs" + "_" + rep("Z9y8X7", 6),
  githubOauth: "gho" + "_" + rep("m4N5b6", 6),
  githubFine: "github" + "_pat_" + "11ABCDEFG0" + rep("x", 12) + "_" + rep("Yz01", 15),
  stripeSecret: "sk" + "_live_" + rep("4eC39HqLyjWDarjtT1zdp7dc", 1),
  stripePublishable: "pk" + "_test_" + rep("TYooMQauvdEDq54NiTphI7jx", 1),
  stripeRestricted: "rk" + "_live_" + rep("51H8x2", 5),
};
