/** JSON Schema <-> Gemini's Schema (an OpenAPI 3.0 subset), for tool parameters and response schemas. */
import type { JsonObject, JsonValue } from "@bitrouter/core";
import { isRecord } from "../util.js";

// ── JSON Schema <-> Gemini Schema ─────────────────────────────────────────────────────────────

/** The Schema fields Gemini's `parameters` / `responseSchema` accept (an OpenAPI 3.0 subset). */
const GEMINI_SCHEMA_KEYS = new Set([
  "type",
  "format",
  "title",
  "description",
  "nullable",
  "enum",
  "maxItems",
  "minItems",
  "properties",
  "required",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "pattern",
  "example",
  "anyOf",
  "propertyOrdering",
  "default",
  "items",
  "minimum",
  "maximum",
]);

/** Formats Gemini accepts per type; others are rejected by the API, so they are dropped. */
const GEMINI_FORMATS: Record<string, string[]> = {
  STRING: ["enum", "date-time"],
  INTEGER: ["int32", "int64"],
  NUMBER: ["float", "double"],
};

const MAX_REF_DEPTH = 8;

/**
 * Rewrites a JSON Schema into Gemini's accepted subset: local `$ref`s are inlined (recursion cut
 * after a few levels), `type: [t, "null"]` becomes `nullable`, `const` becomes a one-value enum,
 * `oneOf` becomes `anyOf`, single-entry `allOf` is inlined, unsupported keys (additionalProperties,
 * $schema, strict, ...) are dropped, types are upper-cased. Key order is kept.
 */
export function toGeminiSchema(schema: JsonObject): JsonObject {
  const defs = { ...(isRecord(schema.definitions) ? schema.definitions : {}), ...(isRecord(schema.$defs) ? schema.$defs : {}) } as JsonObject;
  return convertSchema(schema, defs, 0);
}

function resolveRef(ref: string, defs: JsonObject): JsonObject | undefined {
  const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  const target = match?.[1] !== undefined ? defs[decodeURIComponent(match[1]).replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  return isRecord(target) ? (target as JsonObject) : undefined;
}

function convertSchema(input: JsonObject, defs: JsonObject, depth: number): JsonObject {
  let schema = input;
  if (typeof schema.$ref === "string") {
    const target = depth < MAX_REF_DEPTH ? resolveRef(schema.$ref, defs) : undefined;
    const { $ref: _ref, ...rest } = schema;
    // Keywords next to $ref (a description, typically) win over the referenced schema's.
    schema = target ? { ...target, ...rest } : { type: "object", ...rest };
    depth += 1;
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && isRecord(schema.allOf[0])) {
    const { allOf, ...rest } = schema;
    schema = { ...(allOf as JsonObject[])[0], ...rest };
  }
  const out: JsonObject = {};
  let nullable = schema.nullable === true;
  for (const [key, value] of Object.entries(schema)) {
    if (key === "type") {
      const types = (Array.isArray(value) ? value : [value]).filter((t): t is string => typeof t === "string");
      if (types.some((t) => t.toLowerCase() === "null")) nullable = true;
      const real = types.filter((t) => t.toLowerCase() !== "null");
      const [single, ...more] = real;
      if (single !== undefined && more.length === 0) out.type = single.toUpperCase();
      else if (more.length > 0) out.anyOf = real.map((t) => ({ type: t.toUpperCase() }));
      else if (types.length > 0) out.type = "NULL";
    } else if (key === "const") {
      out.enum = [String(value)];
    } else if (key === "oneOf" || key === "anyOf") {
      if (Array.isArray(value)) {
        const options = value.filter(isRecord).map((s) => convertSchema(s as JsonObject, defs, depth));
        const nonNull = options.filter((o) => o.type !== "NULL");
        if (nonNull.length < options.length) nullable = true;
        if (nonNull.length === 1) Object.assign(out, nonNull[0]);
        else if (nonNull.length > 1) out.anyOf = nonNull;
      }
    } else if (key === "properties" && isRecord(value)) {
      // fromEntries defines own properties, so a property named "__proto__" stays a property.
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, isRecord(sub) ? convertSchema(sub as JsonObject, defs, depth) : {}]),
      );
    } else if (key === "items" && isRecord(value)) {
      out.items = convertSchema(value as JsonObject, defs, depth);
    } else if (key === "enum" && Array.isArray(value)) {
      out.enum = value.filter((v) => v !== null).map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
    } else if (key !== "nullable" && GEMINI_SCHEMA_KEYS.has(key)) {
      out[key] = value;
    }
  }
  // A schema without a type that clearly describes an object or array gets one (Gemini needs it).
  if (out.type === undefined && out.anyOf === undefined) {
    if (out.properties !== undefined) out.type = "OBJECT";
    else if (out.items !== undefined) out.type = "ARRAY";
    else if (out.enum !== undefined) out.type = "STRING";
  }
  if (out.enum !== undefined) {
    if (out.type === undefined || out.type === "STRING") out.type = "STRING";
    else delete out.enum; // Gemini enums are string-only.
  }
  if (typeof out.format === "string" && !(GEMINI_FORMATS[String(out.type)] ?? []).includes(out.format)) delete out.format;
  if (Array.isArray(out.required)) {
    const props = isRecord(out.properties) ? out.properties : {};
    out.required = out.required.filter((name) => typeof name === "string" && Object.hasOwn(props, name));
    if (out.required.length === 0) delete out.required;
  }
  if (nullable) out.nullable = true;
  return out;
}

/** Gemini Schema (upper-case types, `nullable`) back to JSON Schema for the canonical form. */
export function fromGeminiSchema(schema: JsonObject): JsonObject {
  const out: JsonObject = {};
  const nullable = schema.nullable === true;
  for (const [key, value] of Object.entries(schema)) {
    if (key === "type" && typeof value === "string") {
      const type = value.toLowerCase();
      out.type = nullable && type !== "null" ? [type, "null"] : type;
    } else if (key === "nullable") {
    } else if (key === "properties" && isRecord(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, isRecord(sub) ? fromGeminiSchema(sub as JsonObject) : sub]));
    } else if (key === "items" && isRecord(value)) {
      out.items = fromGeminiSchema(value as JsonObject);
    } else if (key === "anyOf" && Array.isArray(value)) {
      out.anyOf = value.map((s) => (isRecord(s) ? fromGeminiSchema(s as JsonObject) : s));
    } else {
      out[key] = value;
    }
  }
  return out;
}

const GEMINI_TYPES = new Set(["STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"]);
/** Keys whose values are data, not schemas: never rewritten. */
const SCHEMA_DATA_KEYS = new Set(["enum", "const", "default", "examples", "example"]);
const SCHEMA_MAP_KEYS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);

/**
 * A `parametersJsonSchema` / `responseJsonSchema` as JSON Schema: Gemini accepts its own upper-case
 * type names there (`OBJECT`, `STRING`; Gemini CLI and @google/genai users write them), which
 * OpenAI and Anthropic reject, so they are lower-cased at every depth. Everything else is kept.
 */
export function lowerCaseSchemaTypes(schema: JsonValue): JsonValue {
  if (Array.isArray(schema)) return schema.map(lowerCaseSchemaTypes);
  if (!isRecord(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema as JsonObject)) {
    if (key === "type") out.type = Array.isArray(value) ? value.map(lowerTypeName) : lowerTypeName(value);
    else if (SCHEMA_DATA_KEYS.has(key)) out[key] = value;
    // Maps from names to schemas: a property may be called "enum" or "default".
    else if (SCHEMA_MAP_KEYS.has(key) && isRecord(value))
      out[key] = Object.fromEntries(Object.entries(value as JsonObject).map(([k, v]) => [k, lowerCaseSchemaTypes(v)]));
    else out[key] = lowerCaseSchemaTypes(value);
  }
  return out;
}

const lowerTypeName = (type: JsonValue): JsonValue => (typeof type === "string" && GEMINI_TYPES.has(type) ? type.toLowerCase() : type);
