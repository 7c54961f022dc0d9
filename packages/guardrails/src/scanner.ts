import type { ActiveRule } from "./config.js";
import type { Matcher } from "./matcher.js";

/**
 * Called for every match: reports it, then returns the replacement text (redact), null to keep
 * the text (warn), or throws (block).
 */
export type OnMatch = (rule: ActiveRule) => string | null;

/** Scans a whole text in one pass of the combined regex; returns it with redactions applied. */
export function scanText(matcher: Matcher, text: string, onMatch: OnMatch): string {
  let out = "";
  let last = 0;
  for (const m of matcher.findAll(text)) {
    const replacement = onMatch(m.rule);
    if (replacement !== null) {
      out += text.slice(last, m.start) + replacement;
      last = m.end;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Characters of already released text kept as context, so lookbehinds at the cut see their neighbours. */
const CONTEXT = 32;

/**
 * Stream-safe scanning of one text part. Each push releases everything that can no longer be
 * part of a match and holds back only the tail that could still grow into one, at most
 * `maxHold` characters; a match is redacted (or blocks) before any of it is released.
 */
export class StreamScanner {
  private held = "";
  private context = "";

  /**
   * @param observeOnly every rule only warns: text is released as it comes (nothing can change
   *   it) while the window is still kept to detect matches that span chunks.
   */
  constructor(
    private readonly matcher: Matcher,
    private readonly onMatch: OnMatch,
    private readonly maxHold: number,
    private readonly observeOnly = false,
  ) {}

  /** Number of characters currently held back from the client. */
  get heldLength(): number {
    return this.observeOnly ? 0 : this.held.length;
  }

  push(text: string): string {
    if (text === "") return "";
    const out = this.scan(text);
    return this.observeOnly ? text : out;
  }

  private scan(text: string): string {
    const buf = this.context + this.held + text;
    const base = this.context.length;
    const floor = Math.max(base, buf.length - this.maxHold);
    let pos = base;
    let hold = this.matcher.holdStart(buf, floor);
    let out = "";
    for (let m = this.matcher.find(buf, pos); m && m.start < hold; m = this.matcher.find(buf, pos, true)) {
      // Starts before the live tail: complete, and no longer match can start there.
      const replacement = this.onMatch(m.rule);
      out += buf.slice(pos, m.start) + (replacement ?? buf.slice(m.start, m.end));
      pos = m.end;
      if (pos > hold) hold = this.matcher.holdStart(buf, Math.max(pos, floor));
    }
    if (hold > pos) {
      // Nothing was held, nothing matched and nothing is held now: the text passes as the very
      // string that came, not a copy of it.
      const whole = pos === base && hold === buf.length && this.held === "";
      out = whole ? text : out + buf.slice(pos, hold);
      pos = hold;
    }
    this.held = buf.slice(pos);
    this.context = buf.slice(Math.max(0, pos - CONTEXT), pos);
    return out;
  }

  /** End of the part: everything held is final. */
  flush(): string {
    if (this.held === "") return "";
    const buf = this.context + this.held;
    const base = this.context.length;
    let out = "";
    let pos = base;
    for (let m = this.matcher.find(buf, pos); m; m = this.matcher.find(buf, pos, true)) {
      const replacement = this.onMatch(m.rule);
      out += buf.slice(pos, m.start) + (replacement ?? buf.slice(m.start, m.end));
      pos = m.end;
    }
    out += buf.slice(pos);
    this.held = "";
    this.context = "";
    return this.observeOnly ? "" : out;
  }
}

/** Lexer states of the JSON text around strings. */
const Lex = { Outside: 0, InString: 1, Escape: 2, Unicode: 3 } as const;
type LexState = (typeof Lex)[keyof typeof Lex];

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/**
 * Streamed tool-call arguments (JSON text in arbitrary fragments): only the content of JSON
 * strings is scanned, decoded, so a redaction always lands inside a string value and the
 * arguments stay valid JSON. A string's end is a hard boundary: nothing is held across it.
 */
export class JsonStringStreamScanner {
  private state: LexState = Lex.Outside;
  private unicode = "";
  private readonly inner: StreamScanner;

  constructor(
    matcher: Matcher,
    onMatch: OnMatch,
    maxHold: number,
    private readonly observeOnly = false,
  ) {
    this.inner = new StreamScanner(matcher, onMatch, maxHold);
  }

  get heldLength(): number {
    return this.observeOnly ? 0 : this.inner.heldLength + this.unicode.length;
  }

  push(fragment: string): string {
    const out = this.scan(fragment);
    return this.observeOnly ? fragment : out;
  }

  private scan(fragment: string): string {
    let out = "";
    let decoded = "";
    let outsideStart = -1;
    for (let i = 0; i < fragment.length; i++) {
      const c = fragment.charAt(i);
      switch (this.state) {
        case Lex.Outside:
          if (c === '"') {
            if (outsideStart >= 0) out += fragment.slice(outsideStart, i + 1);
            else out += c;
            outsideStart = -1;
            this.state = Lex.InString;
          } else if (outsideStart < 0) {
            outsideStart = i;
          }
          break;
        case Lex.InString:
          if (c === '"') {
            out += encode(this.inner.push(decoded) + this.inner.flush()) + '"';
            decoded = "";
            this.state = Lex.Outside;
          } else if (c === "\\") {
            this.state = Lex.Escape;
          } else {
            decoded += c;
          }
          break;
        case Lex.Escape:
          if (c === "u") {
            this.state = Lex.Unicode;
            this.unicode = "";
          } else {
            decoded += SIMPLE_ESCAPES[c] ?? c;
            this.state = Lex.InString;
          }
          break;
        case Lex.Unicode:
          this.unicode += c;
          if (this.unicode.length === 4) {
            const code = Number.parseInt(this.unicode, 16);
            decoded += Number.isNaN(code) ? this.unicode : String.fromCharCode(code);
            this.unicode = "";
            this.state = Lex.InString;
          }
          break;
      }
    }
    if (outsideStart >= 0) out += fragment.slice(outsideStart);
    if (decoded !== "") out += encode(this.inner.push(decoded));
    return out;
  }

  /** Releases what is held but keeps the JSON state: more of these arguments may follow. */
  release(): string {
    const rest = this.inner.flush();
    return rest === "" || this.observeOnly ? "" : encode(rest);
  }

  /** End of the arguments: releases what is held (arguments cut off inside a string stay cut off). */
  flush(): string {
    return this.release();
  }
}

/** JSON string content (without the quotes) for decoded text. */
function encode(text: string): string {
  return text === "" ? "" : JSON.stringify(text).slice(1, -1);
}
