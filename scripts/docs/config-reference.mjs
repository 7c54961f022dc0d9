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

/** Rows for `schema` (the value at `path`) and everything below it. */
function walk(schema, path, key, rows, note = "") {
  const children = (child, childPath, childKey) => walk(child, childPath, childKey, rows);
  if (path) {
    const constraints = [schema.minItems ? `at least ${schema.minItems}` : ""].filter(Boolean);
    rows.push({
      path,
      type: [typeOf(schema), ...constraints].join(", "),
      required: schema.__required ?? false,
      default: schema.default === undefined ? "" : code(schema.default),
      description: note + (schema.description ?? ""),
    });
  }
  if (schema.properties) {
    const required = new Set(schema.required ?? []);
    for (const [name, child] of Object.entries(schema.properties)) {
      children({ ...child, __required: required.has(name) }, path ? `${path}.${name}` : name, name);
    }
  } else if (schema.type === "object" && typeof schema.additionalProperties === "object" && Object.keys(schema.additionalProperties).length) {
    children(schema.additionalProperties, `${path}.${KEY_NAMES[key] ?? "<key>"}`, KEY_NAMES[key]);
  }
  if (schema.type === "array" && schema.items && (schema.items.properties || schema.items.additionalProperties)) {
    walk(schema.items, `${path}[]`, key, rows);
  }
  for (const variant of schema.anyOf ?? schema.oneOf ?? []) {
    const tag = variant.properties?.type?.const;
    if (!variant.properties) continue;
    const label = tag === undefined ? "" : `(type: ${tag}) `;
    rows.push({ path: `${path} {type: ${tag}}`, type: "object", required: false, default: "", description: variant.description ?? "" });
    for (const [name, child] of Object.entries(variant.properties)) {
      if (name === "type") continue;
      walk({ ...child, __required: (variant.required ?? []).includes(name) }, `${path}.${name}`, name, rows, label);
    }
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
