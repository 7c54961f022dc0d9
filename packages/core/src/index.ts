// @bitrouter/core: the contracts every other package shares, each defined once. No dependencies.
export {
  FREEFORM_INPUT,
  PROTOCOLS,
  type AssistantMessage,
  type CacheControl,
  type CanonicalRequest,
  type CanonicalResponse,
  type ContentPart,
  type ErrorInfo,
  type ErrorKind,
  type FilePart,
  type HostedTool,
  type ImagePart,
  type JsonObject,
  type JsonValue,
  type MediaSource,
  type Message,
  type Protocol,
  type ProtocolName,
  type ReasoningConfig,
  type ReasoningEffort,
  type ReasoningPart,
  type ResponseFormat,
  type StopReason,
  type StreamEvent,
  type SystemMessage,
  type TextPart,
  type ToolCallPart,
  type ToolChoice,
  type ToolDefinition,
  type ToolResultPart,
  type Usage,
  type UserMessage,
} from "./canonical.js";
export { BitrouterError, STATUS_BY_KIND, invalidRequest, toErrorInfo } from "./errors.js";
export type { CompletionRecord, Principal, RequestContext, RequestPayment, RouterHook, WireDirection } from "./hooks.js";
export {
  CUSTOM_PATTERN_DIRECTIONS,
  GUARDRAIL_ACTIONS,
  PARAM_RESTRICTION_ACTIONS,
  type BlockMessageConfig,
  type CustomPatternConfig,
  type GuardrailAction,
  type GuardrailDirection,
  type GuardrailsConfig,
  type ParamRestriction,
  type ToolGuardrailsConfig,
  type ToolProviderRules,
} from "./guardrails.js";
export { newRequestId } from "./ids.js";
export { LOG_LEVELS, type LogLevel } from "./log.js";
export { redactUrl } from "./redact.js";
export { installHint, isMissingPackage } from "./packages.js";
