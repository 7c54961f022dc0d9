import { BitrouterError, type GuardrailDirection as Direction } from "@bitrouter/core";

/** Where the block message's help link points (`block_message.include_help_link`). */
export const GUARDRAILS_DOCS_URL = "https://github.com/bitrouter/bitrouter/blob/main/docs/guardrails.md";

/**
 * A request or answer refused by a guardrail. Kind `guardrail`, status 400, code
 * `guardrail_blocked`; the host maps it to the inbound protocol's error shape (or, mid-stream,
 * to its error event). The message never contains the matched text.
 */
export class GuardrailError extends BitrouterError {
  /** The pattern (or tool rule) that blocked; undefined when details are hidden. */
  readonly pattern?: string;
  readonly direction: Direction;

  constructor(info: { message: string; direction: Direction; pattern?: string; param?: string; status?: number }) {
    super({
      kind: "guardrail",
      message: info.message,
      status: info.status ?? 400,
      code: "guardrail_blocked",
      ...(info.param === undefined ? {} : { param: info.param }),
    });
    this.name = "GuardrailError";
    this.direction = info.direction;
    if (info.pattern !== undefined) this.pattern = info.pattern;
  }
}

/** The `guardrails:` config section is invalid; `field` is the dotted path of the offending value. */
export class GuardrailConfigError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "GuardrailConfigError";
    this.field = field;
  }
}
