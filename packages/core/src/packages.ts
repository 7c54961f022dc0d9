/**
 * Optional packages: heavy dependencies only some configurations use (payments, OpenTelemetry,
 * the MCP gateway, the PostgreSQL and MySQL drivers) are optional peer dependencies, imported when
 * a configuration asks for them. These say when one is missing and how to install it.
 */

/** Whether an import failed because `name` itself is not installed (not one of its own dependencies). */
export function isMissingPackage(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && String((error as Error).message).includes(`'${name}'`);
}

/** How a user installs an optional package, for the error that names it. */
export function installHint(name: string): string {
  return `npm install -g ${name} (beside a global @bitrouter/cli), or add it to your project`;
}
