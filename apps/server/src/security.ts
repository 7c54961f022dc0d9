/**
 * Who may call, and what is guarded: the auth hook (operator-signed API keys) and the guardrails
 * hook, built from the configuration and the operator's keystore.
 */
import type { ResolvedConfig } from "@bitrouter/config";
import { existsSync } from "node:fs";
import type { Authenticator } from "@bitrouter/auth";
import { isLoopbackAddress } from "@bitrouter/auth/net";
import type { RouterHook } from "@bitrouter/core";
import type { CallerPrincipal } from "./app.js";
import type { Logger } from "./logger.js";
import type { Metering } from "./metering.js";

export interface AuthSetup {
  /** "open": no operator account, every caller is served (loopback only unless allowed). */
  mode: "open" | "keys";
  authenticator?: Authenticator;
  /** The operator account whose signed tokens are accepted. */
  account?: { prefix: string; solanaAddress: string; evmAddress: string };
  hook?: RouterHook;
  /** Verifies a caller of the endpoints outside the router (/v1/models, /v1/usage, /admin); keys mode only. */
  authorize?(credential: string | undefined, needAdmin: boolean): Promise<CallerPrincipal>;
  close(): void;
}

/** The Solana address of the keystore's active account (what setupAuth trusts), if any. */
export async function activeAccountAddress(keysDir: string | undefined): Promise<string | undefined> {
  if (!keysDir || !existsSync(keysDir)) return undefined;
  const auth = await import("@bitrouter/auth");
  return (await auth.getActiveAccount(keysDir))?.solanaAddress;
}

/**
 * Reads the active operator account from `<home>/.keys`. With one, every request needs a token it
 * signed; without one the server runs open, which is only allowed on loopback unless `allowOpen`.
 */
export async function setupAuth(options: {
  keysDir?: string;
  listenHost: string;
  allowOpen?: boolean;
  metering?: Metering;
  logger: Logger;
}): Promise<AuthSetup> {
  // The auth library (and its crypto) loads only when a keystore exists: open mode stays light.
  const auth = options.keysDir && existsSync(options.keysDir) ? await import("@bitrouter/auth") : undefined;
  const account = auth && options.keysDir ? await auth.getActiveAccount(options.keysDir) : undefined;
  if (!auth || !account) {
    if (!isLoopbackAddress(options.listenHost) && !options.allowOpen) {
      throw new Error(
        `refusing to listen on ${options.listenHost} without authentication: anyone who can reach it could spend your provider keys. ` +
          "Create an operator account (`bitrouter account -g`) and give callers tokens (`bitrouter keygen`), " +
          "or pass --allow-open-network if a firewall or proxy in front already restricts access.",
      );
    }
    options.logger.warn(
      isLoopbackAddress(options.listenHost)
        ? "open mode: no operator account, so requests are served without authentication (loopback only). Run `bitrouter account -g` to require API keys."
        : "open mode on a network address (--allow-open-network): requests are served without authentication",
    );
    return { mode: "open", close() {} };
  }
  const store = options.metering?.store;
  // The store's queries load only with a database (see openMetering).
  const queries = store ? await import("@bitrouter/store") : undefined;
  const authenticator = auth.createAuthenticator({
    trusted: [account.solanaAddress, account.evmAddress],
    ...(store && queries
      ? {
          revocations: { isRevoked: (keyId) => queries.isRevoked(store, keyId), listRevocations: (since) => queries.listRevocations(store, since) },
          spend: { spend: (query) => queries.spend(store, query) },
        }
      : {}),
    onError: (error, context) => options.logger.warn("auth background task failed", { context, error: error instanceof Error ? error.message : String(error) }),
  });
  options.logger.info("auth: API keys signed by the operator account are required", { account: account.prefix });
  const hook: RouterHook = {
    name: "auth",
    onRequest(ctx) {
      // A token seen before is admitted without a promise: each await would be a turn of the
      // microtask queue before the upstream write.
      const admitted = authenticator.admitCached(ctx.credential, { model: ctx.model });
      if (admitted) {
        ctx.principal = admitted;
        return;
      }
      return authenticator.authenticate(ctx.credential, { model: ctx.model }).then((principal) => {
        ctx.principal = principal;
      });
    },
    onComplete(record) {
      if (record.principal && record.costMicroUsd) authenticator.addSpend(record.principal, record.costMicroUsd);
    },
  };
  return {
    mode: "keys",
    authenticator,
    account: { prefix: account.prefix, solanaAddress: account.solanaAddress, evmAddress: account.evmAddress },
    hook,
    async authorize(credential, needAdmin) {
      const principal = await authenticator.authenticate(credential, { needAdmin });
      return { keyId: principal.keyId, scope: principal.scope, allowsModel: (model) => auth.matchesModel(principal.claims.models, model) };
    },
    close: () => authenticator.close(),
  };
}

/** Whether a configuration turns guardrails on: the package's own test (an absent section or `enabled: false` is off). */
export function guardrailsOn(config: ResolvedConfig): boolean {
  return config.guardrails !== undefined && config.guardrails !== null && config.guardrails.enabled !== false;
}

/**
 * The guardrails hook for one configuration generation, or none when disabled. The package (with its
 * regex parser) loads only once a configuration has guardrails: the bench's plain target starts at
 * ~80 MB RSS without it, 81-87 MB with it (docs/performance.md, Round 15).
 */
export async function guardrailHooks(config: ResolvedConfig, logger: Logger): Promise<RouterHook[]> {
  if (!guardrailsOn(config)) return [];
  const { createGuardrails, guardrailsHook } = await import("@bitrouter/guardrails");
  const guardrails = createGuardrails(config.guardrails, {
    logger: { warn: (violation, message) => logger.warn(message, { ...violation }) },
  });
  return guardrails ? [guardrailsHook(guardrails)] : [];
}
