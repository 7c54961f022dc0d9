/**
 * A Node request's headers as a Web `Headers` (what the router and its hooks read), built lazily.
 * Filling a `Headers` validates and stores every header (~1 µs each; an SDK sends ~15), while a
 * request's own path only reads a few by name: `get` and `has` answer from a plain map of the raw
 * headers, with the same values a filled `Headers` gives (names case-insensitive, each value trimmed,
 * repeats joined by ", "); any other use (a hook iterating or changing them) fills it first.
 */
export function nodeRequestHeaders(raw: readonly string[]): Headers | undefined {
  const headers = new NodeRequestHeaders(raw);
  return headers.refused ? undefined : (headers as unknown as Headers);
}

// A subclass of the runtime's Headers class; TypeScript's Headers type declares its methods as
// properties, which a subclass cannot override, so it is extended untyped and called through Web.
const Web = Headers.prototype;
type WebThis = Headers;

class NodeRequestHeaders extends (Headers as unknown as new () => object) {
  /** Lowercase name -> value, until the first use that needs the real `Headers`. */
  #byName: Map<string, string> | undefined;
  readonly #raw: readonly string[];
  /** A value `Headers` refuses (NUL, CR or LF; Node's parser refuses them too, and names that are not tokens). */
  readonly refused: boolean;

  /** `raw` as Node's `req.rawHeaders` (name, value, name, value, ...); HTTP/2 pseudo-headers are left out. */
  constructor(raw: readonly string[]) {
    super();
    this.#raw = raw;
    const byName = new Map<string, string>();
    let refused = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.charCodeAt(0) === 58) continue;
      const key = name.toLowerCase();
      const value = trimHttpWhitespace(raw[i + 1]!);
      if (hasForbidden(value)) refused = true;
      const before = byName.get(key);
      byName.set(key, before === undefined ? value : `${before}, ${value}`);
    }
    this.#byName = byName;
    this.refused = refused;
  }

  /** Turns into the `Headers` it stands for; throws as `Headers#append` does for a header it refuses. */
  #fill(): void {
    if (this.#byName === undefined) return;
    this.#byName = undefined;
    const raw = this.#raw;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.charCodeAt(0) !== 58) Web.append.call(this.#web, raw[i]!, raw[i + 1]!);
  }

  get(name: string): string | null {
    if (this.#byName === undefined) return Web.get.call(this.#web, name);
    return this.#byName.get(name.toLowerCase()) ?? null;
  }

  has(name: string): boolean {
    if (this.#byName === undefined) return Web.has.call(this.#web, name);
    return this.#byName.has(name.toLowerCase());
  }

  append(name: string, value: string): void {
    this.#fill();
    Web.append.call(this.#web, name, value);
  }

  set(name: string, value: string): void {
    this.#fill();
    Web.set.call(this.#web, name, value);
  }

  delete(name: string): void {
    this.#fill();
    Web.delete.call(this.#web, name);
  }

  getSetCookie(): string[] {
    this.#fill();
    return Web.getSetCookie.call(this.#web);
  }

  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this.#fill();
    Web.forEach.call(this.#web, callback, thisArg);
  }

  keys(): ReturnType<WebThis["keys"]> {
    this.#fill();
    return Web.keys.call(this.#web);
  }

  values(): ReturnType<WebThis["values"]> {
    this.#fill();
    return Web.values.call(this.#web);
  }

  entries(): ReturnType<WebThis["entries"]> {
    this.#fill();
    return Web.entries.call(this.#web);
  }

  [Symbol.iterator](): ReturnType<WebThis["entries"]> {
    this.#fill();
    return Web[Symbol.iterator].call(this.#web);
  }

  get #web(): WebThis {
    return this as unknown as WebThis;
  }
}

const FORBIDDEN_IN_VALUE = /[\0\r\n]/;

/**
 * NUL, CR or LF in a value. A regex is cheapest on a short value; on a long one (a bearer token)
 * it costs ~8 instructions per character, where three native searches cost next to nothing.
 */
function hasForbidden(value: string): boolean {
  return value.length < 64 ? FORBIDDEN_IN_VALUE.test(value) : value.includes("\n") || value.includes("\r") || value.includes("\0");
}

/** As the Fetch standard normalises a header value: leading and trailing tabs, spaces, CRs and LFs removed. */
function trimHttpWhitespace(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isHttpWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}
