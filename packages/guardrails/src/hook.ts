import type { CanonicalRequest, CanonicalResponse, RequestContext, RouterHook, StreamEvent, WireDirection } from "@bitrouter/core";
import type { Guardrails, StreamGuard } from "./guardrails.js";

interface HookState {
  /** The request as the router passed it, and its pattern-scanned form (provider independent). */
  input?: CanonicalRequest;
  scanned?: CanonicalRequest;
  /** What earlier dispatches were given (a router may hand one back on failover). */
  outputs?: WeakSet<CanonicalRequest>;
  /** Undefined until the first event of an attempt. */
  stream?: StreamGuard | undefined;
}

const NAME = "guardrails";

/** The guardrails' RouterHook: its content methods are always present and synchronous. */
export interface GuardrailsHook extends RouterHook {
  readonly inspectsContent: true;
  beforeDispatch(ctx: RequestContext, request: CanonicalRequest): CanonicalRequest;
  onStreamEvent(ctx: RequestContext, event: StreamEvent): StreamEvent | StreamEvent[] | null;
  onResponse(ctx: RequestContext, response: CanonicalResponse): CanonicalResponse;
  admitsWire(ctx: RequestContext, direction: WireDirection, body: unknown): boolean;
}

/**
 * The guardrails as a router hook: upgoing checks before each dispatch, downgoing checks on every
 * stream event and on complete answers. Install it only when createGuardrails returned an object.
 */
export function guardrailsHook(guardrails: Guardrails): GuardrailsHook {
  const stateOf = (ctx: RequestContext): HookState => {
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
      const [only] = out;
      return out.length === 1 && only !== undefined ? only : out;
    },
    onResponse(ctx, response) {
      return guardrails.checkResponse(response, ctx);
    },
    admitsWire(_ctx, direction, body) {
      return guardrails.admitsWire(body, direction === "request" ? "upgoing" : "downgoing");
    },
  };
}
