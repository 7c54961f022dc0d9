/**
 * The scripted answer model: one protocol-neutral description of what the mock "model" answers,
 * rendered in whichever wire protocol the request came in on.
 */

/** The wire protocols the mock serves. */
export type MockProtocol = "openai-chat" | "openai-responses" | "anthropic" | "google";

export interface ScriptToolCall {
  /** Tool-call id; a deterministic protocol-style id (`call_…`, `toolu_…`) when omitted. */
  id?: string;
  name: string;
  /** JSON-encoded arguments object. */
  arguments: string;
  /** How the arguments are split across stream chunks (must join to `arguments`). Default: two halves. */
  chunks?: string[];
}

/**
 * Token counts in OpenAI's accounting: `input` is the whole prompt (cache reads and writes included),
 * `output` the whole completion (reasoning included). Each protocol renders them its own way
 * (Anthropic's input_tokens excludes cache tokens; Gemini's candidatesTokenCount excludes thoughts).
 */
export interface ScriptUsage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
  reasoning?: number;
}

export type MockErrorType = "invalid_request" | "authentication" | "permission" | "not_found" | "rate_limit" | "server_error" | "overloaded";

export interface MockScript {
  /** Answer text; an array gives the stream chunks (non-stream answers join them). */
  text?: string | string[];
  toolCalls?: ScriptToolCall[];
  /** Reasoning / thinking text, rendered before the answer text. */
  reasoning?: string;
  usage?: ScriptUsage;
  /** Default: "tool_calls" when there are tool calls, else "stop". */
  finish?: "stop" | "length" | "tool_calls";
  /** The model name to answer with (default: the requested one). */
  model?: string;
  /** Wait this long before sending the response head. */
  delayMs?: number;
  /** Wait this long between stream chunks (SSE events). */
  chunkDelayMs?: number;
  /**
   * Stream: destroy the socket after this many SSE events (a mid-stream network failure; 0 = right
   * after the response head). Non-stream: destroy it instead of answering (a connection reset).
   */
  failAfterChunks?: number;
  /** Stream: after `afterChunks` events, send the protocol's own in-band error event and end. */
  streamError?: { afterChunks: number; error: MockErrorType; message?: string };
  /** Never answer (timeout tests); the request stays open until the client gives up. */
  hang?: boolean;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/** An error answer in the called provider's own error shape (status defaults per provider). */
export interface MockErrorReply {
  error: MockErrorType;
  status?: number;
  message?: string;
  delayMs?: number;
  headers?: Record<string, string>;
}

/** A literal HTTP answer: an object body is sent as JSON, a string as is. */
export interface MockRawReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Then this many filler bytes ("x"): a huge body, written in chunks without building it in memory. */
  padBytes?: number;
  /** Reset the connection after the body instead of ending the answer (a body cut after the head). */
  cutAfterBody?: boolean;
}

export type MockReply = MockScript | MockErrorReply | MockRawReply;

export function isRawReply(reply: MockReply): reply is MockRawReply {
  return typeof (reply as MockRawReply).status === "number" && !isErrorReply(reply);
}

export function isErrorReply(reply: MockReply): reply is MockErrorReply {
  return typeof (reply as MockErrorReply).error === "string";
}

/** A script resolved against one request: every field filled in, ready to render. */
export interface Answer {
  id: string;
  model: string;
  created: number;
  textChunks: string[];
  text: string;
  reasoningChunks: string[];
  reasoning: string;
  toolCalls: Array<{ id: string; name: string; arguments: string; chunks: string[]; index: number }>;
  usage: Required<ScriptUsage>;
  finish: "stop" | "length" | "tool_calls";
}

/** What the mock extracted from a request body, whatever its protocol. */
export interface PromptInfo {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  lastUserText: string;
  /** Every text in the prompt, for the length-based token estimate. */
  promptChars: number;
}

/** A deterministic token estimate: about four characters per token, at least one. */
export function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

/** Splits text into word-sized chunks that keep their spaces ("a b" -> ["a ", "b"]). */
export function splitWords(text: string): string[] {
  const parts = text.match(/\S+\s*|\s+/g);
  return parts ?? [text];
}

function halves(text: string): string[] {
  if (text.length < 2) return [text];
  const mid = Math.ceil(text.length / 2);
  return [text.slice(0, mid), text.slice(mid)];
}

/**
 * Resolves a script (or the default answer `mock: <last user text>`) against a request.
 * Throws with a clear message when the script is inconsistent (the mock answers 500 with it).
 */
export function resolveAnswer(script: MockScript | undefined, prompt: PromptInfo, seq: number, idPrefix: string): Answer {
  const s = script ?? {};
  const defaultText = s.text === undefined && s.toolCalls === undefined && s.reasoning === undefined;
  const textChunks = defaultText ? splitWords(`mock: ${prompt.lastUserText}`) : typeof s.text === "string" ? [s.text] : (s.text ?? []);
  const text = textChunks.join("");
  const reasoning = s.reasoning ?? "";
  const reasoningChunks = reasoning ? splitWords(reasoning) : [];
  const toolCalls = (s.toolCalls ?? []).map((call, index) => {
    try {
      JSON.parse(call.arguments);
    } catch {
      throw new Error(`mock script: toolCalls[${index}].arguments is not valid JSON: ${call.arguments}`);
    }
    const chunks = call.chunks ?? halves(call.arguments);
    if (chunks.join("") !== call.arguments) {
      throw new Error(`mock script: toolCalls[${index}].chunks do not join to its arguments`);
    }
    return { id: call.id ?? `${idPrefix}_${seq}_${index}`, name: call.name, arguments: call.arguments, chunks, index };
  });
  const outputChars = text.length + reasoning.length + toolCalls.reduce((n, c) => n + c.name.length + c.arguments.length, 0);
  const u = s.usage ?? {};
  const reasoningTokens = u.reasoning ?? (reasoning ? estimateTokens(reasoning.length) : 0);
  return {
    id: String(seq),
    model: s.model ?? prompt.model,
    created: 1_700_000_000 + seq,
    textChunks,
    text,
    reasoningChunks,
    reasoning,
    toolCalls,
    usage: {
      input: u.input ?? estimateTokens(prompt.promptChars),
      output: u.output ?? estimateTokens(outputChars),
      cacheRead: u.cacheRead ?? 0,
      cacheWrite: u.cacheWrite ?? 0,
      reasoning: reasoningTokens,
    },
    finish: s.finish ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
  };
}
