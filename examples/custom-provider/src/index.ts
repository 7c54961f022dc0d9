// A custom provider package: everything BitRouter needs to route to "Acme AI" — its wire protocol,
// default base URL, where its key comes from, and its model catalog with pricing. Publish it to npm;
// users pass it to @bitrouter/config and then use `acme:<model>` or reference it from bitrouter.yaml.
import { defineProvider } from "@bitrouter/config";

export const acme = defineProvider({
  // Acme speaks the OpenAI Chat Completions protocol (could be "anthropic" or "google").
  api_protocol: "openai",
  api_base: "https://api.acme.example/v1",
  // Keys come from ACME_API_KEY, and ACME_BASE_URL overrides the base URL.
  env_prefix: "ACME",
  default_headers: { "x-acme-client": "bitrouter" },
  models: {
    "acme-large": {
      name: "Acme Large",
      max_input_tokens: 200_000,
      max_output_tokens: 8_192,
      input_modalities: ["text", "image"],
      output_modalities: ["text"],
      pricing: { input_tokens: { no_cache: 3, cache_read: 0.3 }, output_tokens: { text: 15 } },
    },
    "acme-mini": {
      name: "Acme Mini",
      max_input_tokens: 128_000,
      max_output_tokens: 4_096,
      pricing: { input_tokens: { no_cache: 0.2 }, output_tokens: { text: 0.8 } },
    },
  },
});

/** Convenience for `parseConfig(text, { providers })` / `loadConfig({ providers })`. */
export const providers = { acme };
