// Types of install.mjs.
/** Exact versions of the real clients: a client release changes what it sends, so bumps are deliberate. */
export const PINS: Readonly<Record<string, string>>;
/** The model names each CLI uses when none is configured (at the pinned versions). */
export const DEFAULT_MODELS: { readonly claude: string; readonly codex: string; readonly gemini: readonly string[] };
export interface Installed {
  /** node_modules holding every pinned client. */
  modules: string;
  /** A Node >= 22 binary. */
  node24: string;
}
export function installedPaths(): Installed;
/** Installs whatever is missing; a no-op when the cache is complete. */
export function ensureInstalled(log?: (line: string) => void): Installed;
