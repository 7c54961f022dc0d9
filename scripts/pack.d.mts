// Types of scripts/pack.mjs for the TypeScript tests that import it.
export interface Packed {
  /** The tarball paths, sorted. */
  tarballs: string[];
  /** `file:<tarball>` by package name: npm `dependencies` or `overrides` values. */
  specs: Record<string, string>;
}
export function packWorkspace(roots: string[], outDir: string, options?: { build?: boolean; peers?: boolean }): Packed;
/** npm environment (`npm_config_better_sqlite3_local_prebuilds`) using the workspace's compiled better-sqlite3; `{}` without one. */
export function localPrebuilds(dir: string): Record<string, string>;
