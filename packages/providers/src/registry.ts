// The open protocol registry. The four built-in protocols are served inbound and outbound; a
// provider package may add more (outbound only) by exporting codecs under new names. Registries are
// plain objects owned by whoever loads the packages (a configuration, a router): no global state,
// so a reload starts from the built-ins again. Light on purpose (no codecs): the config loader uses it.
import { PROTOCOLS } from "@bitrouter/core";
import type { UpstreamCodec } from "./codec.js";
import { API_PROTOCOLS } from "./provider.js";

/** Names a package cannot take: the built-in protocols and the built-in `api_protocol` values. */
const RESERVED: ReadonlySet<string> = new Set([...PROTOCOLS, ...API_PROTOCOLS]);
const NAME = /^[a-z][a-z0-9._-]*$/;
const METHODS = ["encodeRequest", "decodeResponse", "createStreamDecoder", "decodeError"] as const;

/** Why `codec` cannot be registered as `name` beside `registered` (undefined: it can). */
export function protocolProblem(name: string, codec: unknown, registered: Readonly<Record<string, UpstreamCodec>> = {}): string | undefined {
  if (RESERVED.has(name)) return `protocol "${name}" is built in and cannot be replaced: give the package's protocol another name`;
  if (!NAME.test(name)) return `protocol name "${name}": expected lowercase letters, digits, ".", "_" or "-", starting with a letter`;
  if (Object.hasOwn(registered, name)) return `protocol "${name}" is already registered by another provider package`;
  if (codec === null || typeof codec !== "object") return `protocol "${name}": expected a codec object`;
  const missing = METHODS.filter((method) => typeof (codec as Record<string, unknown>)[method] !== "function");
  if (missing.length > 0) return `protocol "${name}": the codec does not implement ${missing.join(", ")}`;
  const own = (codec as { protocol?: unknown }).protocol;
  if (own !== name) return `protocol "${name}": the codec's protocol field is ${JSON.stringify(own) ?? "missing"}; it must be "${name}"`;
  return undefined;
}

/** Adds `codec` to `registry` as `name`; throws a TypeError saying why it cannot be (see protocolProblem). */
export function registerProtocol(registry: Record<string, UpstreamCodec>, name: string, codec: UpstreamCodec): void {
  const problem = protocolProblem(name, codec, registry);
  if (problem !== undefined) throw new TypeError(problem);
  registry[name] = codec;
}
