import { ConfigError } from "@bitrouter/config";
import { installHint, isMissingPackage } from "@bitrouter/core";

/**
 * Imports an optional peer dependency (payments, OpenTelemetry, the MCP gateway). When it is
 * missing, the error is a ConfigError at the field that asked for it, naming what to install.
 * `load` is the import itself, so the specifier stays a literal the type checker can follow;
 * `install` is what to install when the package comes with siblings (OpenTelemetry's four).
 */
export async function importOptional<T>(name: string, load: () => Promise<T>, field: string, install = name): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, name))
      throw new ConfigError([{ path: field, message: `needs the package ${name}, which is not installed: ${installHint(install)}` }]);
    throw error;
  }
}
