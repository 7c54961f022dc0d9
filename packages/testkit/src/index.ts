export { MOCK_TOKEN_COUNT, startMock, type MockHandler, type MockOptions, type MockUpstream, type RecordedRequest } from "./mock.js";
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
export { codeBlocks, importExample, tsExample } from "./markdown.js";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
export { DEFAULT_MCP_TOOLS, serveMcp, startMcpMock, type McpCall, type McpHost, type McpMock, type McpMockOptions, type MockTool } from "./mcp.js";
export { startConformanceMock } from "./conformance.js";
export { type LocalChain, type LocalChainOptions, PATH_USD, startEvmChain, startTempoChain } from "./anvil.js";
export { deployTestToken } from "./token.js";
export { waitFor } from "./wait.js";
export { type DevAccount, type EvmTokens, type PaymentChains, type PaymentChainsOptions, type TestTokenSpec, startPaymentChains } from "./payments.js";
