// Turns zod issues into messages a user can act on: "expected X, got Y (did you mean "Z"?)".
// Values are described by type only (never printed), except enum-like words and unknown keys,
// so a secret in the wrong place never reaches an error message.
import type { z } from "zod";
import { ConfigError, didYouMean, type ConfigIssue, type PathSegment } from "./errors.js";
import { issueAt, rawValueAt, type ParsedDocument } from "./document.js";

/** The slice of zod's internal definition this file walks (stable across zod 4 releases). */
interface SchemaDef {
  type: string;
  innerType?: Schema;
  in?: Schema;
  out?: Schema;
  shape?: Record<string, Schema>;
  valueType?: Schema;
  element?: Schema;
  options?: Schema[];
  discriminator?: string;
  values?: unknown[];
}
interface Schema {
  _zod: { def: SchemaDef };
}

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"]);

function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    const def = current._zod.def;
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === "pipe" && def.in && def.out) current = def.in._zod.def.type === "transform" ? def.out : def.in;
    else return current;
  }
}

/** For a union, the option the data selects by its discriminator (or undefined). */
function pickOption(schema: Schema, data: unknown): Schema | undefined {
  const def = schema._zod.def;
  if (!def.options || !def.discriminator || !isRecord(data)) return undefined;
  const wanted = data[def.discriminator];
  return def.options.find((option) => {
    const field = unwrap(option)._zod.def.shape?.[def.discriminator as string];
    return field !== undefined && (unwrap(field)._zod.def.values ?? []).includes(wanted);
  });
}

function schemaAt(root: Schema, path: readonly PathSegment[], data: unknown): { schema: Schema | undefined; data: unknown } {
  let schema: Schema | undefined = unwrap(root);
  let value = data;
  for (const segment of path) {
    if (!schema) break;
    const def: SchemaDef = schema._zod.def;
    if (def.type === "union") schema = pickOption(schema, value);
    const current: SchemaDef | undefined = schema?._zod.def;
    if (current?.type === "object") schema = current.shape?.[String(segment)];
    else if (current?.type === "record") schema = current.valueType;
    else if (current?.type === "array") schema = current.element;
    else schema = undefined;
    schema = schema && unwrap(schema);
    value = isRecord(value) || Array.isArray(value) ? (value as Record<string, unknown>)[segment as string] : undefined;
  }
  return { schema, data: value };
}

/** Valid keys of the object schema at `path` (for a union, of the option the data selects, else of all). */
function keysAt(root: Schema, path: readonly PathSegment[], data: unknown): string[] {
  const { schema, data: value } = schemaAt(root, path, data);
  if (!schema) return [];
  const def = schema._zod.def;
  if (def.type === "object") return Object.keys(def.shape ?? {});
  if (def.type === "union") {
    const option = pickOption(schema, value);
    const options = option ? [option] : (def.options ?? []);
    return [...new Set(options.flatMap((o) => Object.keys(unwrap(o)._zod.def.shape ?? {})))];
  }
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (value === "") return "an empty value (is the environment variable set?)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return "a number";
  if (typeof value === "boolean") return "a boolean";
  return typeof value;
}

const EXPECTED: Record<string, string> = {
  object: "a mapping",
  record: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
};

/**
 * A misspelt enum word is worth echoing ("warning" for "warn", with the suggestion); other values
 * only when short and plain, as a long one may be a key pasted into the wrong field.
 */
function gotWord(value: unknown, options: readonly string[]): string {
  if (typeof value !== "string") return describe(value);
  const hint = didYouMean(value, options);
  if (hint !== "" || /^[A-Za-z0-9_.-]{1,12}$/.test(value)) return `"${value}"${hint}`;
  return describe(value);
}

function optionList(values: readonly unknown[]): string {
  return values.map(String).join("|");
}

/** Convert zod issues on the user's data into located ConfigIssues. */
export function toConfigIssues(schema: z.ZodType, zodIssues: readonly z.core.$ZodIssue[], data: unknown, parsed: ParsedDocument | undefined): ConfigIssue[] {
  const root = schema as unknown as Schema;
  const issues: ConfigIssue[] = [];
  for (const issue of zodIssues) {
    const path = issue.path.filter((s): s is PathSegment => typeof s !== "symbol");
    const raw = parsed ? rawValueAt(parsed, path) : undefined;
    switch (issue.code) {
      case "unrecognized_keys": {
        const valid = keysAt(root, path, data);
        for (const key of issue.keys) {
          const hint = didYouMean(key, valid) || (valid.length > 0 ? ` (valid keys: ${valid.join(", ")})` : "");
          issues.push(issueAt(parsed, [...path, key], `unknown key "${key}"${hint}`, true));
        }
        break;
      }
      case "invalid_value": {
        const values = issue.values.map(String);
        issues.push(issueAt(parsed, path, `expected ${optionList(values)}, got ${gotWord(valueAt(data, path) ?? raw, values)}`));
        break;
      }
      case "invalid_union": {
        // zod reports the discriminator's valid values in `options` (not in its issue type).
        const options = (issue as { options?: unknown }).options;
        if (issue.discriminator !== undefined && Array.isArray(options)) {
          const values = options.map(String);
          issues.push(issueAt(parsed, path, `expected ${optionList(values)}, got ${gotWord(valueAt(data, path) ?? raw, values)}`));
        } else {
          issues.push(issueAt(parsed, path, issue.message));
        }
        break;
      }
      case "invalid_type": {
        const got = valueAt(data, path) ?? raw;
        const expected = EXPECTED[issue.expected] ?? issue.expected;
        const message = got === undefined && raw === undefined ? `required: expected ${expected}` : `expected ${expected}, got ${describe(got ?? raw)}`;
        issues.push(issueAt(parsed, path, message));
        break;
      }
      case "too_small": {
        const message =
          issue.origin === "array"
            ? `expected at least ${String(issue.minimum)} item${issue.minimum === 1 ? "" : "s"}`
            : `expected a value >= ${String(issue.minimum)}`;
        issues.push(issueAt(parsed, path, message));
        break;
      }
      case "too_big":
        issues.push(issueAt(parsed, path, `expected a value <= ${String(issue.maximum)}`));
        break;
      default:
        issues.push(issueAt(parsed, path, issue.message));
    }
  }
  return sortByPosition(issues);
}

/** In file order, so the list reads top to bottom (stable for issues without a position). */
export function sortByPosition(issues: ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => (a.issue.line ?? 0) - (b.issue.line ?? 0) || (a.issue.column ?? 0) - (b.issue.column ?? 0) || a.index - b.index)
    .map(({ issue }) => issue);
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of path) {
    if (isRecord(value) || Array.isArray(value)) value = (value as Record<string, unknown>)[segment as string];
    else return undefined;
  }
  return value;
}

/** Validate `data` against `schema`; throw one ConfigError listing every issue. */
export function validate<T extends z.ZodType>(schema: T, data: unknown, parsed: ParsedDocument | undefined): z.output<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issues = toConfigIssues(schema, result.error.issues, data, parsed);
  throw new ConfigError(issues);
}
