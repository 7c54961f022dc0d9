/** OpenAI Responses errors: the bodies are OpenAI's (../openai-chat/errors.ts); in a stream, an `error` event. */
import type { ErrorInfo } from "@bitrouter/core";
import { openaiErrorObject } from "../openai-chat/errors.js";

/** A standalone `error` event of a Responses stream: `{type, code, message, param}`. */
export function encodeResponsesStreamError(error: ErrorInfo): string {
  const { code, message, param } = openaiErrorObject(error);
  const event = { type: "error", code, message, param };
  return `event: error\ndata: ${JSON.stringify(event)}\n\n`;
}
