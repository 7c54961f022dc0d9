// Tokens minted by an earlier release (signed with @solana/kit and viem) must keep verifying, and
// the same account must still derive the same addresses and mint the same bytes: Ed25519 and
// RFC 6979 secp256k1 signatures are deterministic, so any change of crypto library shows here.
import { describe, expect, it } from "vitest";
import { AuthError, accountFromSeed, issuersOf, mintToken, verifyToken } from "../src/index.js";
import { seedOf, segments } from "./helpers.js";

const NOW = Date.UTC(2026, 0, 1);
const SOLANA_ADDRESS = "GmaDrppBC7P5ARKV8g3djiwP89vz1jLK23V2GBjuAEGB";
const EVM_ADDRESS = "0x4a62316623ad457F02cDC5D997deD67a383EC569";
const TOKENS = {
  solana:
    "eyJhbGciOiJTT0xfRUREU0EiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJzb2xhbmE6NWV5a3Q0VXNGdjhQOE5KZFRSRXBZMXZ6cUtxWkt2ZHA6R21hRHJwcEJDN1A1QVJLVjhnM2RqaXdQODl2ejFqTEsyM1YyR0JqdUFFR0IiLCJjaGFpbiI6InNvbGFuYTo1ZXlrdDRVc0Z2OFA4TkpkVFJFcFkxdnpxS3FaS3ZkcCIsInNjb3BlIjoiYXBpIiwiaWF0IjoxNzY3MjI1NjAwLCJtb2RlbHMiOlsib3BlbmFpOioiXSwiYnVkZ2V0IjoxMDAwLCJpZCI6ImZpeGVkLXNvbGFuYSJ9.4-jpSFO5qb9e_7hKmbgPHGmaZhC7qvmCX7UjnmnACxkhVQefCbikoDx9Q14J2_dWypuv_PJS8g08fCXAmho1DQ",
  base: "eyJhbGciOiJFSVAxOTFLIiwidHlwIjoiSldUIn0.eyJpc3MiOiJlaXAxNTU6ODQ1MzoweDRhNjIzMTY2MjNhZDQ1N0YwMmNEQzVEOTk3ZGVENjdhMzgzRUM1NjkiLCJjaGFpbiI6ImVpcDE1NTo4NDUzIiwic2NvcGUiOiJhcGkiLCJpYXQiOjE3NjcyMjU2MDAsIm1vZGVscyI6WyJvcGVuYWk6KiJdLCJidWRnZXQiOjEwMDAsImlkIjoiZml4ZWQtYmFzZSJ9.sbgs_4vDSlIHHWi5Hl2mIWAwXn4rtZsqQLRi6bUToAR2nnZEew4Lu8uuIg4_jrDoQMJIa9lNycu5N8-GlKoabRw",
} as const;

describe("tokens from an earlier release", () => {
  it("the seed derives the same Solana and EIP-55 addresses", async () => {
    const account = await accountFromSeed(seedOf(7));
    expect(account.solanaAddress).toBe(SOLANA_ADDRESS);
    expect(account.evmAddress).toBe(EVM_ADDRESS);
    expect(issuersOf(account)).toEqual([`solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:${SOLANA_ADDRESS}`, `eip155:8453:${EVM_ADDRESS}`]);
  });

  it.each(["solana", "base"] as const)("a %s token still verifies, and minting it again gives the same bytes", async (chain) => {
    const claims = await verifyToken(TOKENS[chain], { trusted: [SOLANA_ADDRESS, EVM_ADDRESS], now: NOW });
    expect(claims).toMatchObject({ scope: "api", models: ["openai:*"], budget: 1000, id: `fixed-${chain}` });
    const account = await accountFromSeed(seedOf(7));
    expect(await mintToken(account, { scope: "api", models: ["openai:*"], budget: 1000, id: `fixed-${chain}` }, { chain, now: NOW })).toBe(TOKENS[chain]);
  });

  it.each(["solana", "base"] as const)("a %s token with one signature byte changed is refused", async (chain) => {
    const [header, payload, signature] = segments(TOKENS[chain]);
    const bytes = Buffer.from(signature, "base64url");
    bytes[5]! ^= 1;
    const tampered = `${header}.${payload}.${bytes.toString("base64url")}`;
    const error = await verifyToken(tampered, { trusted: [SOLANA_ADDRESS, EVM_ADDRESS], now: NOW }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe("bad_signature");
  });
});
