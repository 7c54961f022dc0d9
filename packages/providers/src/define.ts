// @bitrouter/providers/define: the light entry for provider packages (and the configuration loader):
// the provider interface and the protocol registry, without the HTTP client.
export type { CanonicalRequest, CanonicalResponse, ErrorInfo, ErrorKind, Message, StreamEvent, Usage } from "@bitrouter/core";
export type { EncodeRequestOptions, SseEvent, StreamDecoder, UpstreamCodec, UpstreamRequest } from "./codec.js";
export {
  API_PROTOCOLS,
  MODALITIES,
  defineProvider,
  type ApiProtocol,
  type ApiProtocolName,
  type AuthDefinition,
  type Modality,
  type ModelDefinition,
  type PricingDefinition,
  type ProviderDefinition,
  type ProviderPackage,
} from "./provider.js";
export { protocolProblem, registerProtocol } from "./registry.js";
