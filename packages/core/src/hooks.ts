import type { CanonicalRequest, CanonicalResponse, ErrorKind, Protocol, StreamEvent, Usage } from "./canonical.js";

/**
 * Per-request state shared by the router and its hooks. Created by the host (server or
 * `router.fetch`) for each request; hooks may fill the mutable fields.
 */
export interface RequestContext {
  readonly requestId: string;
  /** The protocol the caller spoke; "canonical" for the library API (router.generate / router.stream). */
  readonly inboundProtocol: Protocol | "canonical";
  /** Epoch milliseconds when the request arrived. */
  readonly startedAt: number;
  /** The model name the caller asked for (virtual, dynamic or `provider:model_id`). */
  model: string;
  /** Whether the caller asked for a stream. */
  stream: boolean;
  /** The caller's credential (Bearer / x-api-key / x-goog-api-key), if any. Never log it. */
  readonly credential?: string;
  /** Inbound request headers. */
  readonly headers: Headers;
  /** Who is calling, once an auth hook has verified the credential. */
  principal?: Principal;
  /** The endpoint currently being tried (set by the router before each attempt). */
  target?: { route: string; provider: string; modelId: string; endpointIndex: number };
  /** Numbers that belong in the ledger row, e.g. `guardrail_violations`. */
  readonly counters: Record<string, number>;
  /** Changes made to fit the target model's catalog limits (see limits.ts), for the debug log. */
  adjusted?: string[];
  /** Private per-hook state, keyed by hook name. */
  readonly state: Map<string, unknown>;
  /** Headers a hook adds to the answer, success or error (e.g. a payment receipt). */
  responseHeaders?: Record<string, string>;
  /** What the caller paid for this request, set by a payments hook once the money moved; its ledger row records it. */
  payment?: RequestPayment;
}

/** A payment a caller made over HTTP 402 (a request, or an MCP tool call), as its ledger row records it. */
export interface RequestPayment {
  /** Base units of the token, as a decimal integer string. */
  amount: string;
  /** `<network>:<method>/charge`: the `mpp.networks` key and the payment method, e.g. `tempo:tempo/charge`. */
  method: string;
  /** On-chain reference: the transaction hash. */
  reference: string;
}

export interface Principal {
  keyId?: string;
  accountId?: string;
  scope?: "api" | "admin";
}

/** What happened, reported once per request after it ends (success or failure). */
export interface CompletionRecord {
  requestId: string;
  inboundProtocol: Protocol | "canonical";
  /** Model name the caller asked for. */
  model: string;
  /** Route name (virtual or dynamic model), or the direct `provider:model_id`. */
  route: string;
  provider?: string;
  modelId?: string;
  stream: boolean;
  /** HTTP status answered (200 for a stream that started, even if it later failed). */
  status: number;
  errorKind?: ErrorKind;
  /** Epoch milliseconds. */
  startedAt: number;
  latencyMs: number;
  /** Time to first byte of the answer sent to the client. */
  ttfbMs?: number;
  usage?: Usage;
  /** Cost in integer micro-USD from the catalog pricing, when usage and pricing are known. */
  costMicroUsd?: number;
  /** Endpoints tried, including the one that answered. */
  attempts: number;
  principal?: Principal;
  counters: Record<string, number>;
  /** Changes made to fit the target model's catalog limits (max tokens lowered, reasoning dropped…). */
  adjusted?: string[];
}

/** Which body admitsWire is asked about: the caller's request, or the upstream's answer. */
export type WireDirection = "request" | "response";

/**
 * A hook plugs behaviour (auth, guardrails, payments, metering) around each request without the
 * router knowing what it does. Every method is optional. To reject a request, throw an error with
 * `kind`, `status` and `message` (see BitrouterError), and optionally `headers` for the answer (e.g.
 * `WWW-Authenticate` challenges); the host answers in the caller's protocol.
 */
export interface RouterHook {
  readonly name: string;
  /**
   * True when the hook must see parsed request/response content. When any enabled hook says so,
   * the same-protocol fast path (raw byte forwarding) is not used.
   */
  readonly inspectsContent?: boolean;
  /** First step, before routing: authenticate, authorise the model, check budgets. */
  onRequest?(ctx: RequestContext): void | Promise<void>;
  /**
   * Before each dispatch, with `ctx.target` set to the endpoint about to be tried (spans, per-attempt
   * counters). It sees no content, so unlike beforeDispatch it keeps requests on the fast path.
   * Throwing fails the attempt like an upstream error would.
   */
  onAttempt?(ctx: RequestContext): void;
  /** After the route is resolved, before each dispatch: may return a rewritten request, or throw. */
  beforeDispatch?(ctx: RequestContext, request: CanonicalRequest): CanonicalRequest | void | Promise<CanonicalRequest | void>;
  /**
   * Each streamed event, in order (synchronous: this is the hot path). Return the event (or a
   * replacement), several events, or null to drop it. Throw to end the stream with an error event.
   */
  onStreamEvent?(ctx: RequestContext, event: StreamEvent): StreamEvent | StreamEvent[] | null | void;
  /** A complete non-stream response: may return a rewritten one, or throw. */
  onResponse?(ctx: RequestContext, response: CanonicalResponse): CanonicalResponse | void | Promise<CanonicalResponse | void>;
  /**
   * Lets a content hook keep a same-protocol non-stream request on the fast path. Asked about the
   * caller's body (parsed JSON) once beforeDispatch returned the canonical request unchanged, and
   * about the upstream's answer once onResponse returned it unchanged. True when the hook has nothing
   * to say about anything in that body, fields the canonical form leaves out included: the wire
   * bytes then go on as they are. False (or a hook without this method) sends the attempt through
   * the canonical form, re-encoded, as every request of a content hook went before.
   */
  admitsWire?(ctx: RequestContext, direction: WireDirection, body: unknown): boolean;
  /**
   * The answer exists and nothing of it has reached the caller: a complete response (after
   * onResponse), or a stream's first content event (held back until this resolves). Throw to refuse
   * the answer: the caller gets the error instead. E.g. a payment is settled only here, so a request
   * that fails on every upstream is not charged.
   */
  beforeCommit?(ctx: RequestContext): void | Promise<void>;
  /**
   * After the request ended. Must not throw and must not block (queue work, don't await it). A host
   * that writes the answer itself may have it run on the next tick, after the answer went out
   * (InboundRequest.completeAfterTurn); the record's timing is the answer's either way.
   */
  onComplete?(record: CompletionRecord, ctx: RequestContext): void;
}
