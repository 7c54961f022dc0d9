export { startMock, type MockHandler, type MockOptions, type MockUpstream, type RecordedRequest } from "./mock.js";
export { startFastMock, type FastMock, type FastMockOptions } from "./fast.js";
export { serve, type ServeHandle } from "./serve.js";
export {
  estimateTokens,
  type MockErrorReply,
  type MockErrorType,
  type MockProtocol,
  type MockRawReply,
  type MockReply,
  type MockScript,
  type ScriptToolCall,
  type ScriptUsage,
} from "./script.js";
export { type LocalChain, PATH_USD, startTempoChain } from "./anvil.js";
