// @bitrouter/providers: one codec per wire protocol and the outbound HTTP client. The canonical model
// the codecs translate to and from is in @bitrouter/core.
export type {
  Codec,
  DecodeRequestOptions,
  EncodeRequestOptions,
  SseEvent,
  StreamDecoder,
  StreamEncoder,
  UpstreamCodec,
  UpstreamRequest,
} from "./codec.js";
export type { FieldPath, InboundRoute, LimitFields, ModelDescription, ModelShape, ProtocolDescriptor, StreamUsage, TokenCounting } from "./descriptor.js";
export {
  CODECS,
  PROTOCOL_DESCRIPTORS,
  anthropicCodec,
  anthropicProtocol,
  googleCodec,
  googleProtocol,
  openaiChatCodec,
  openaiChatProtocol,
  openaiResponsesCodec,
  openaiResponsesProtocol,
  protocolForApiProtocol,
} from "./protocols/index.js";
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
export { codecTable, upstreamCodec, upstreamProtocol, type CodecTable } from "./codec-table.js";
export { encodeStreamError } from "./stream-error.js";
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  EventStreamDecoder,
  MAX_ERROR_BODY,
  NO_EVENTS,
  ProviderError,
  createProviderClient,
  isAbortedError,
  isRetryableStatus,
  readAnswer,
  readAnswerBytes,
  readErrorBody,
  upstreamError,
  upstreamErrorFrom,
  upstreamFailure,
  type ErrorBody,
  type ProviderClient,
  type ProviderClientOptions,
  type ProviderEndpoint,
  type ResponseBody,
  type SendOptions,
  type UpstreamHttpRequest,
  type UpstreamHttpResponse,
  type WholeResponse,
  type UpstreamPayer,
} from "./client.js";
export { MAX_SSE_EVENT_SIZE, sseEvents, type ByteSource } from "./sse.js";
