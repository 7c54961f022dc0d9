/**
 * Endpoint ordering for one request. `priority` tries endpoints in configuration order;
 * `load_balance` rotates the starting point round-robin per route, and moves endpoints that
 * failed recently to the back so a dead key or provider is skipped while it cools down.
 */
export type Strategy = "priority" | "load_balance";

/** How long an endpoint that failed is skipped by load_balance (it is still tried last). */
const DEFAULT_COOLDOWN_MS = 30_000;
/** Bound on remembered failures, so a router that sees many routes cannot grow without limit. */
const MAX_TRACKED = 10_000;

export class Balancer {
  readonly #cursors = new Map<string, number>();
  readonly #failedUntil = new Map<string, number>();
  readonly #cooldownMs: number;
  readonly #now: () => number;

  constructor(options: { cooldownMs?: number; now?: () => number } = {}) {
    this.#cooldownMs = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Indices into `count` endpoints, in the order to try them. */
  order(route: string, strategy: Strategy, count: number, keyOf: (index: number) => string): number[] {
    // A loop, not Array.from({ length }, fn): V8 takes a slow generic path for that, once per request.
    const indices: number[] = [];
    for (let i = 0; i < count; i++) indices.push(i);
    if (strategy === "priority" || count <= 1) return indices;
    const start = this.#cursors.get(route) ?? 0;
    this.#cursors.set(route, (start + 1) % count);
    const rotated = indices.map((_, i) => (start + i) % count);
    const now = this.#now();
    const healthy = rotated.filter((i) => (this.#failedUntil.get(keyOf(i)) ?? 0) <= now);
    const cooling = rotated.filter((i) => (this.#failedUntil.get(keyOf(i)) ?? 0) > now);
    return [...healthy, ...cooling];
  }

  markFailure(key: string): void {
    if (this.#failedUntil.size >= MAX_TRACKED) this.#failedUntil.clear();
    this.#failedUntil.set(key, this.#now() + this.#cooldownMs);
  }

  markSuccess(key: string): void {
    this.#failedUntil.delete(key);
  }
}
