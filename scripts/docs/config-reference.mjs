// docs/reference/configuration.md from the zod schema of bitrouter.yaml (packages/config/src/schema.ts):
// every field's path, type, allowed values, default and description, so the reference cannot drift.
import { cell } from "./markdown.mjs";
import { load } from "./resolve.mjs";

/** What a map's keys stand for in a path (`providers.<provider>.api_base`), by the map's own key. */
const KEY_NAMES = {
  providers: "<provider>",
  models: "<model>",
  tools: "<tool>",
  agents: "<agent>",
  networks: "<network>",
  default_headers: "<header>",
  env: "<VAR>",
  params: "<param>",
  upgoing: "<pattern>",
  downgoing: "<pattern>",
  custom_upgoing: "<pattern>",
  custom_downgoing: "<pattern>",
  overrides: "<service_id>",
  rules: "<tool>",
  input_schema: "<key>",
};

// A documented default in words ("true for api.openai.com, else false") is prose, not a value.
const code = (value) => (typeof value === "string" && value.includes(" ") ? value : `\`${typeof value === "string" ? value : JSON.stringify(value)}\``);

function typeOf(schema) {
  if (schema.const !== undefined) return code(schema.const);
  if (schema.enum) return schema.enum.map(code).join(" | ");
  if (schema.anyOf || schema.oneOf) return "one of the forms below";
  const types = [schema.type ?? "any"].flat();
  const named = types.map((type) => {
    if (type === "array") return `list of ${schema.items ? typeOf(schema.items) : "any"}`;
    if (type === "object" && schema.additionalProperties && !schema.properties) return "map";
    if (type === "integer" && schema.minimum === 0) return "integer ≥ 0";
    if (type === "number" && schema.minimum === 0) return "number ≥ 0";
    return type;
  });
  return named.join(" or ");
}

/**
 * Rows for `schema` (the value at `path`) and everything below it. `key` is the field's own name
 * (it names a map's keys); `required` and `note` come from the object that holds the field.
 */
function walk(schema, path, key, rows, { required = false, note = "" } = {}) {
  if (path) {
    rows.push({
      path,
      type: [typeOf(schema), schema.minItems ? `at least ${schema.minItems}` : ""].filter(Boolean).join(", "),
      required,
      default: schema.default === undefined ? "" : code(schema.default),
      description: note + (schema.description ?? ""),
    });
  }
  const fields = (object, prefix, options = {}) => {
    const required = new Set(object.required ?? []);
    for (const [name, child] of Object.entries(object.properties)) {
      if (options.skip !== name) walk(child, prefix ? `${prefix}.${name}` : name, name, rows, { required: required.has(name), note: options.note });
    }
  };
  if (schema.properties) fields(schema, path);
  else if (schema.type === "object" && typeof schema.additionalProperties === "object" && Object.keys(schema.additionalProperties).length > 0) {
    walk(schema.additionalProperties, `${path}.${KEY_NAMES[key] ?? "<key>"}`, KEY_NAMES[key], rows);
  }
  if (schema.type === "array" && (schema.items?.properties || schema.items?.additionalProperties)) walk(schema.items, `${path}[]`, key, rows);
  // A discriminated union (auth): a row per form, then its fields.
  for (const form of schema.anyOf ?? schema.oneOf ?? []) {
    if (!form.properties) continue;
    const tag = form.properties.type?.const;
    rows.push({ path: `${path} {type: ${tag}}`, type: "object", required: false, default: "", description: form.description ?? "" });
    fields(form, path, { skip: "type", note: `(type: ${tag}) ` });
  }
}

export async function configReference() {
  const { z } = await load("zod");
  const { ConfigFileSchema } = await load("@bitrouter/config");
  // "input": the file as written (a duration may be "10m" or milliseconds), before transforms.
  // Zod drops a documented default from a transforming field (a size, a duration) in "input" mode:
  // put it back from the schema's metadata.
  const json = z.toJSONSchema(ConfigFileSchema, {
    io: "input",
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      const documented = z.globalRegistry.get(zodSchema)?.default;
      if (documented !== undefined) jsonSchema.default = documented;
    },
  });
  const sections = [];
  for (const [name, schema] of Object.entries(json.properties)) {
    const rows = [];
    walk(schema, name, name, rows);
    const table = rows.map(
      (row) => `| ${cell(`\`${row.path}\``)} | ${cell(row.type)}${row.required ? " (required)" : ""} | ${cell(row.default)} | ${cell(row.description)} |`,
    );
    sections.push(`## \`${name}\`\n\n| Field | Type | Default | Description |\n| --- | --- | --- | --- |\n${table.join("\n")}\n`);
  }
  return `<!-- Generated from packages/config/src/schema.ts by \`pnpm docs:build\`: do not edit. -->

# Configuration reference

Every field of \`bitrouter.yaml\`, generated from the schema BitRouter validates the file with. Every
mapping is strict: an unknown key is an error naming the nearest valid one. A \`<name>\` in a path is
a key you choose. Defaults marked here are applied when the field is absent; \`\${VAR}\` may stand for
any string, number or boolean. The guide to these fields is [configuration.md](../configuration.md).

${sections.join("\n")}`;
}
