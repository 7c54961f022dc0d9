import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values<T extends Options> = ReturnType<typeof parseArgs<{ options: T }>>["values"];

/**
 * The options of one of the bench's tools: `--help` (`-h`) prints `usage` and exits 0; an unknown
 * or malformed option is named on stderr above the usage, exit 2 (instead of a stack trace).
 */
export function toolOptions<const T extends Options>(usage: string, options: T): Values<T> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ options: { ...options, help: { type: "boolean", short: "h" } } }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage}\n`);
    process.exit(2);
  }
  if (values.help === true) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return values as Values<T>;
}
