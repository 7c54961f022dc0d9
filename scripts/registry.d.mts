// Types of scripts/registry.mjs for the TypeScript tests that import it.
export interface Registry {
  /** The registry's base URL on 127.0.0.1. */
  url: string;
  /** npm configuration for installing from it (registry, an empty cache of its own, no audit). */
  env: Record<string, string>;
  /** Stops the registry and removes the npm cache. */
  close(): void;
}
/** Starts the loopback registry serving `tarballs` (packed by scripts/pack.mjs) and what pnpm installed. */
export function startRegistry(tarballs: string[]): Promise<Registry>;
