import { ConfigError } from "@bitrouter/config";

/**
 * Imports a package that the default install leaves out because only some configurations use it
 * (payments, OpenTelemetry: heavy, and optional peer dependencies of @bitrouter/server). When it
 * is missing, the error is a ConfigError at the field that asked for it, naming what to install.
 * `load` is the import itself, so the specifier stays a literal the type checker can follow.
 */
export async function importOptional<T>(name: string, load: () => Promise<T>, field: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    // Only the package itself being absent; a broken install of one of its dependencies is another error.
    const code = (error as { code?: unknown } | null)?.code;
    if ((code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && String((error as Error).message).includes(`'${name}'`)) {
      throw new ConfigError([
        {
          path: field,
          message: `needs the package ${name}, which is not installed: npm install -g ${name} (beside a global @bitrouter/cli), or add it to your project`,
        },
      ]);
    }
    throw error;
  }
}
