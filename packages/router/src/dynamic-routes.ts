import type { Strategy } from "./balancer.js";

/** A route added at runtime (`bitrouter route add`): in memory, kept across reloads, gone on restart. */
export interface DynamicRoute {
  name: string;
  strategy: Strategy;
  /** `provider:model_id` targets, in order. */
  endpoints: string[];
}

/**
 * The dynamic routes of one process. It lives outside any router instance so a hot reload, which
 * builds a new router, keeps them.
 */
export class DynamicRoutes {
  readonly #routes = new Map<string, DynamicRoute>();

  list(): DynamicRoute[] {
    return [...this.#routes.values()].map((r) => ({ ...r, endpoints: [...r.endpoints] }));
  }

  get(name: string): DynamicRoute | undefined {
    return this.#routes.get(name);
  }

  set(route: DynamicRoute): void {
    this.#routes.set(route.name, { ...route, endpoints: [...route.endpoints] });
  }

  delete(name: string): boolean {
    return this.#routes.delete(name);
  }
}
