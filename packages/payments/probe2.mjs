import { Mppx as S, tempo as ts, Store } from "mppx/server";
import { Mppx as C, tempo as tc } from "mppx/client";
import { privateKeyToAccount } from "viem/accounts";
import { createClient, http } from "viem";
import { tempoLocalnet } from "viem/chains";
const chain = { ...tempoLocalnet, id: 31337, rpcUrls: { default: { http: ["http://127.0.0.1:18545"] } } };
const getClient = () => createClient({ chain, transport: http("http://127.0.0.1:18545") });
const payer = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const recipient = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const server = S.create({
  methods: [ts.charge({ currency: "0x20c0000000000000000000000000000000000000", recipient, getClient, chainId: 31337, store: Store.memory() })],
  secretKey: "x".repeat(40),
  realm: "test",
});
const handler = async (req) => {
  const r = await server.charge({ amount: "0.25" })(req);
  if (r.status === 402) return r.challenge;
  return r.withReceipt(Response.json({ ok: true }));
};
const client = C.create({ methods: [tc({ account: payer, getClient })], polyfill: false, fetch: (input, init) => handler(new Request(input, init)) });
const first = await handler(new Request("http://x/paid"));
console.log(first.status, first.headers.get("www-authenticate"));
try {
  const res = await client.fetch("http://x/paid");
  console.log(res.status, await res.text(), res.headers.get("payment-receipt"));
} catch (e) {
  console.log("ERR", e.message, e.cause?.message);
}
