// The hooks `bitrouter serve` installs, built from the loaded configuration.
import type { LoadedConfig, ResolvedConfig } from "@bitrouter/config";
import type { RouterHook } from "@bitrouter/router";

export interface ServeHooks {
  /** Hooks for one configuration generation (rebuilt on every reload). */
  perGeneration(config: ResolvedConfig): RouterHook[] | Promise<RouterHook[]>;
  /** Flushes whatever must not be lost (the ledger) once requests have drained. */
  shutdown(): Promise<void>;
}

export async function buildHooks(_loaded: LoadedConfig): Promise<ServeHooks> {
  return {
    perGeneration: () => [],
    shutdown: async () => {},
  };
}
