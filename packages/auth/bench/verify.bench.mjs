// Verify cost, uncached vs cached. Run: pnpm --filter @bitrouter/auth bench (builds dist first).
import { accountFromSeed, createAuthenticator, issuersOf, mintToken, verifyToken } from "../dist/index.js";

const account = await accountFromSeed(new Uint8Array(32).fill(42));
const trusted = issuersOf(account);

async function time(label, n, fn) {
  for (let i = 0; i < Math.min(200, n); i++) await fn(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const us = Number(process.hrtime.bigint() - start) / 1000 / n;
  console.log(`${label.padEnd(58)} ${us.toFixed(2).padStart(9)} µs/call  (n=${n})`);
  return us;
}

const N = Number(process.env.N ?? 2000);
for (const chain of ["solana", "base"]) {
  const token = await mintToken(account, { models: ["openai:*"], budget: 1_000_000 }, { chain });
  await time(`verifyToken ${chain === "solana" ? "SOL_EDDSA" : "EIP191K"} (signature check every call)`, N, () => verifyToken(token, { trusted }));
}

for (const chain of ["solana", "base"]) {
  const tokens = [];
  for (let i = 0; i < N + 200; i++) tokens.push(await mintToken(account, {}, { chain }));
  const auth = createAuthenticator({ trusted, cacheSize: 100_000 });
  await time(`authenticate, cache miss (new token each call, ${chain})`, N, (i) =>
    auth.authenticate(tokens[i + (i < 200 ? 0 : 200)], { model: "openai:gpt-4o" }),
  );
  auth.close();
}

const spend = { spend: async () => ({ microUsd: 10, requests: 1 }) };
const auth = createAuthenticator({ trusted, cacheSize: 1000, spend, spendTtlMs: 60_000 });
const hot = await mintToken(account, { models: ["openai:*"], budget: 1_000_000, budget_range: { type: "rounds", count: 10 } });
await time("authenticate, cache hit (models + budget checked)", N * 50, () => auth.authenticate(hot, { model: "openai:gpt-4o" }));
const plain = await mintToken(account, {});
await time("authenticate, cache hit (no claims to check)", N * 50, () => auth.authenticate(plain, {}));
console.log(auth.stats());
auth.close();
