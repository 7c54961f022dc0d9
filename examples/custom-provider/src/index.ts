// A provider package: everything BitRouter needs to route to "Acme AI": its wire protocol (its own,
// registered below), default base URL, where its key comes from, and its model catalog with pricing.
// Users install it into their home dir and name it in bitrouter.yaml:
//   npm install --prefix ~/.bitrouter @bitrouter-examples/provider-acme
//   providers: { acme: { package: "@bitrouter-examples/provider-acme" } }
import { defineProvider } from "@bitrouter/providers/define";
import { ACME_PROTOCOL, acmeCodec } from "./acme-protocol.js";

export const provider = defineProvider({
  // Acme's own protocol, which this package registers (an OpenAI-compatible service would say "openai").
  api_protocol: ACME_PROTOCOL,
  api_base: "https://api.acme.example/v1",
  // Keys come from ACME_API_KEY, and ACME_BASE_URL overrides the base URL.
  env_prefix: "ACME",
  default_headers: { "x-acme-client": "bitrouter" },
  models: {
    "acme-large": {
      name: "Acme Large",
      max_input_tokens: 200_000,
      max_output_tokens: 8_192,
      input_modalities: ["text"],
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

/** Protocols this package adds, by the name `api_protocol` uses. */
export const protocols = { [ACME_PROTOCOL]: acmeCodec };

export { ACME_PROTOCOL, acmeCodec };
