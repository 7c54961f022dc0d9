/**
 * Tokens saved locally by `keygen --name`: one JSON file (0600), `<keysDir>/tokens.json` by default.
 * Listings never show a whole token: key id, name, scope, expiry, models and a short fingerprint.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { AuthError, invalidInput } from "./errors.js";
import { isNotFound, writePrivateFile } from "./fsutil.js";
import { type TokenClaims, decodeToken } from "./token.js";

export interface SavedTokenInfo {
  id: string;
  name: string;
  scope: TokenClaims["scope"];
  iss: string;
  /** Epoch seconds, or undefined for never. */
  exp?: number;
  models?: string[];
  /** First 12 hex characters of the token's SHA-256: tells tokens apart without revealing them. */
  fingerprint: string;
  /** ISO 8601. */
  savedAt: string;
}

interface TokensFile {
  version: 1;
  tokens: { id: string; name: string; token: string; savedAt: string }[];
}

export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 12);
}

/** `target` is a keys directory (-> `<dir>/tokens.json`) or a path to a `.json` tokens file. */
async function resolveFile(target: string): Promise<string> {
  if (target.endsWith(".json")) return target;
  try {
    if (!(await stat(target)).isDirectory()) throw invalidInput("bad_tokens_path", `${target} is neither a directory nor a .json file`);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  return join(target, "tokens.json");
}

async function load(file: string): Promise<TokensFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (isNotFound(error)) return { version: 1, tokens: [] };
    throw error;
  }
  try {
    const data = JSON.parse(text) as TokensFile;
    if (data.version === 1 && Array.isArray(data.tokens)) return data;
  } catch {
    // fall through
  }
  throw invalidInput("bad_tokens_file", `${file} is not a BitRouter tokens file (version 1)`);
}

function info(entry: TokensFile["tokens"][number]): SavedTokenInfo {
  const c = decodeToken(entry.token);
  const out: SavedTokenInfo = {
    id: entry.id,
    name: entry.name,
    scope: c.scope,
    iss: c.iss,
    fingerprint: tokenFingerprint(entry.token),
    savedAt: entry.savedAt,
  };
  if (c.exp !== undefined) out.exp = c.exp;
  if (c.models !== undefined) out.models = c.models;
  return out;
}

function find(data: TokensFile, idOrName: string): TokensFile["tokens"][number] {
  const entry = data.tokens.find((t) => t.id === idOrName) ?? data.tokens.find((t) => t.name === idOrName);
  if (!entry) {
    const choices = data.tokens.map((t) => `  ${t.id}  ${t.name}`).join("\n");
    throw new AuthError("not_found", "token_not_found", `no saved token with id or name "${idOrName}"${choices ? `; saved:\n${choices}` : " (none saved)"}`);
  }
  return entry;
}

/**
 * Saves a token under a name (its claims are decoded, not verified). Saving the same key id again
 * replaces it; a name already used by another key is an error.
 */
export async function saveToken(target: string, name: string, token: string): Promise<SavedTokenInfo> {
  if (name.trim() === "") throw invalidInput("bad_token_name", "the token name is empty", "name");
  const claims = decodeToken(token);
  const file = await resolveFile(target);
  const data = await load(file);
  const clash = data.tokens.find((t) => t.name === name && t.id !== claims.id);
  if (clash) throw invalidInput("duplicate_token_name", `a saved token is already named "${name}" (id ${clash.id}): remove it or pick another name`, "name");
  const entry = { id: claims.id, name, token, savedAt: new Date().toISOString() };
  data.tokens = [...data.tokens.filter((t) => t.id !== claims.id), entry];
  await writePrivateFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return info(entry);
}

export async function listTokens(target: string): Promise<SavedTokenInfo[]> {
  return (await load(await resolveFile(target))).tokens.map(info);
}

/** The decoded claims of a saved token (by key id or name), for `keys --show`. */
export async function showToken(target: string, idOrName: string): Promise<TokenClaims> {
  return decodeToken(find(await load(await resolveFile(target)), idOrName).token);
}

/** The whole saved token, for a user who asked to print or copy it. */
export async function getSavedToken(target: string, idOrName: string): Promise<string> {
  return find(await load(await resolveFile(target)), idOrName).token;
}

/** Removes a saved token (by key id or name). Does not revoke it: revocation is the store's job. */
export async function removeToken(target: string, idOrName: string): Promise<SavedTokenInfo> {
  const file = await resolveFile(target);
  const data = await load(file);
  const entry = find(data, idOrName);
  data.tokens = data.tokens.filter((t) => t !== entry);
  await writePrivateFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return info(entry);
}
