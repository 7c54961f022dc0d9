import type { CanonicalRequest, CanonicalResponse, StreamEvent } from "@bitrouter/providers";
import type { GuardrailContext, Guardrails, StreamGuard } from "./guardrails.js";

/** The context a router hook receives; the router's RequestContext satisfies it structurally. */
export interface GuardrailHookContext extends GuardrailContext {
  /** Private per-hook state, keyed by hook name. */
  readonly state: Map<string, unknown>;
}

/**
 * Structurally a `RouterHook` of @bitrouter/router (which this package must not import):
 * upgoing checks before each dispatch, downgoing checks on every stream event and on complete
 * answers. Install it only when createGuardrails returned an object.
 */
export interface GuardrailsHook {
  readonly name: "guardrails";
  readonly inspectsContent: true;
  beforeDispatch(ctx: GuardrailHookContext, request: CanonicalRequest): CanonicalRequest;
  onStreamEvent(ctx: GuardrailHookContext, event: StreamEvent): StreamEvent | StreamEvent[] | null;
  onResponse(ctx: GuardrailHookContext, response: CanonicalResponse): CanonicalResponse;
}

interface HookState {
  /** The request as the router passed it, and its pattern-scanned form (provider independent). */
  input?: CanonicalRequest;
  scanned?: CanonicalRequest;
  /** What earlier dispatches were given (a router may hand one back on failover). */
  outputs?: WeakSet<CanonicalRequest>;
  stream?: StreamGuard;
}

const NAME = "guardrails";

export function guardrailsHook(guardrails: Guardrails): GuardrailsHook {
  const stateOf = (ctx: GuardrailHookContext): HookState => {
    let state = ctx.state.get(NAME) as HookState | undefined;
    if (!state) {
      state = {};
      ctx.state.set(NAME, state);
    }
    return state;
  };

  return {
    name: NAME,
    inspectsContent: true,
    beforeDispatch(ctx, request) {
      const state = stateOf(ctx);
      // On failover the patterns are not scanned (and violations not counted) twice; tool rules
      // are applied again because they depend on the new target provider.
      if (!state.scanned || (request !== state.input && !state.outputs?.has(request))) {
        state.input = request;
        state.scanned = guardrails.scanRequest(request, ctx);
        state.outputs = new WeakSet();
      }
      const output = guardrails.applyToolRules(state.scanned, ctx);
      state.outputs?.add(output);
      state.stream = undefined; // a new attempt starts a new stream
      return output;
    },
    onStreamEvent(ctx, event) {
      const state = stateOf(ctx);
      state.stream ??= guardrails.createStreamGuard(ctx);
      const out = state.stream.push(event);
      return out.length === 1 ? out[0] : out;
    },
    onResponse(ctx, response) {
      return guardrails.checkResponse(response, ctx);
    },
  };
}
