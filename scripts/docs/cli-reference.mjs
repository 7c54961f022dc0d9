// docs/reference/cli.md from the clipanion definitions of the bitrouter CLI (apps/cli/src/commands):
// each command's usage, description, details, examples and options, as `bitrouter <cmd> --help` has them.
import { cell, text } from "./markdown.mjs";
import { load } from "./resolve.mjs";

/** Clipanion wraps help text at 80 columns, leaving a space at each line's end: trim them (Markdown joins the lines). */
const prose = (text) =>
  text
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n")
    .trim();
const paragraph = (value) => text(prose(value));

export async function cliReference() {
  const { buildCli, withPlaceholders } = await load("@bitrouter/cli");
  const definitions = buildCli({ colours: false }).definitions();
  // In the order the CLI registers them; the bare `bitrouter` is the dashboard.
  const sections = definitions.map((command) => {
    const out = [`## \`${command.path}\``, "", paragraph(command.description ?? ""), "", "```sh", withPlaceholders(command.usage), "```"];
    if (command.details) out.push("", paragraph(command.details));
    if (command.options.length > 0) {
      out.push("", "| Option | Description |", "| --- | --- |");
      for (const option of command.options) {
        const definition = withPlaceholders(option.definition);
        out.push(`| ${cell(`\`${definition}\``)}${option.required ? " (required)" : ""} | ${cell(option.description ?? "")} |`);
      }
    }
    if (command.examples?.length) {
      out.push("", "Examples:", "", "```sh");
      for (const [description, example] of command.examples) out.push(`# ${prose(description)}`, example.trim());
      out.push("```");
    }
    return out.join("\n");
  });
  const index = definitions.map((command) => `| [\`${command.path}\`](#${anchor(command.path)}) | ${cell(prose(command.description ?? ""))} |`);
  return `<!-- Generated from the bitrouter CLI's command definitions (apps/cli/src/commands) by \`pnpm docs:build\`: do not edit. -->

# CLI reference

Every \`bitrouter\` command with its options, as \`bitrouter <command> --help\` prints them. Exit codes:
0 success, 1 failure, 2 usage error (unknown command or flag). The guide is [cli.md](../cli.md).

| Command | What it does |
| --- | --- |
${index.join("\n")}

${sections.join("\n\n")}
`;
}

/** The heading anchor VitePress (and GitHub) give "## `bitrouter route add`". */
function anchor(path) {
  return path
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .trim()
    .replace(/ /g, "-");
}
