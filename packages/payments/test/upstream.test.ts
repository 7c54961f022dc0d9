// The upstream payer's own refusals, before anything is signed or sent: a method the wallet does not
// pay, a price above the cap, a challenge without an amount. (Paying for real: apps/server/test/payments.test.ts.)
import { describe, expect, test } from "vitest";
import { Challenge } from "mppx";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { createUpstreamPayer } from "../src/index.js";

const recipient = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const paid: unknown[] = [];
// An RPC nobody answers: any attempt to pay would fail loudly instead of passing the test.
const pay = createUpstreamPayer({
  account: privateKeyToAccount(generatePrivateKey()),
  rpcUrl: "http://127.0.0.1:9",
  maxAmount: 1000n,
  onPaid: (p) => paid.push(p),
});

function challenge402(...challenges: Challenge.Challenge[]) {
  const headers = new Headers();
  for (const c of challenges) headers.append("www-authenticate", Challenge.serialize(c));
  return { url: "http://upstream.test/v1/chat/completions", headers, body: "" };
}
const offer = (method: string, amount: string | undefined) =>
  Challenge.from({
    id: `id-${method}-${amount}`,
    realm: "upstream.test",
    method,
    intent: "charge",
    request: { ...(amount === undefined ? {} : { amount }), currency: "0x20c0000000000000000000000000000000000000", recipient },
  });

describe("createUpstreamPayer refuses before paying", () => {
  test("a method the wallet does not pay", async () => {
    await expect(pay(challenge402(offer("stripe", "10")))).rejects.toThrow(/asks for stripe\/charge; the wallet pays tempo\/charge/);
  });
  test("a price above the cap, exactly named", async () => {
    await expect(pay(challenge402(offer("stripe", "5"), offer("tempo", "1001")))).rejects.toThrow(
      /asks 1001 base units, more than wallet\.payment\.session_max_deposit \(1000\)/,
    );
  });
  test("a challenge without an amount", async () => {
    await expect(pay(challenge402(offer("tempo", undefined)))).rejects.toThrow(/names no amount/);
    expect(paid).toEqual([]);
  });
});
