// Types of scripts/pack.mjs for the TypeScript tests that import it.
export interface Packed {
  /** The tarball paths, sorted. */
  tarballs: string[];
  /** `file:<tarball>` by package name: npm `dependencies` or `overrides` values. */
  specs: Record<string, string>;
}
export function packWorkspace(roots: string[], outDir: string, options?: { build?: boolean; peers?: boolean }): Packed;
/** npm flags for installing the packed tarballs in tests (cache first, failed requests retried over ~20 s, quiet). */
export const NPM_INSTALL_FLAGS: readonly string[];
/** An npm failure worth running the whole install again for (the registry's passing TLS errors, a reset, a timeout). */
export const TRANSIENT_NPM_ERROR: RegExp;
/** The pause before another attempt, times the number of the attempt that failed. */
export const NPM_ATTEMPT_PAUSE_MS: number;
/** How many times a test runs an install that keeps failing on TRANSIENT_NPM_ERROR. */
export const NPM_INSTALL_ATTEMPTS: number;
/** npm environment (`npm_config_better_sqlite3_local_prebuilds`) using the workspace's compiled better-sqlite3; `{}` without one. */
export function localPrebuilds(dir: string): Record<string, string>;
