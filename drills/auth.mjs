// Every route x every kind of credential, against a server with an operator account (keys mode):
// the status each must get. Each credential goes in the header its protocol's SDK uses.
import { join } from "node:path";
import { auth, checker, control, rawRequest, secrets, startServer, startUpstreams, tempHome } from "./lib.mjs";

const KINDS = ["none", "malformed", "foreign", "expired", "revoked", "api", "admin"];
const REFUSED = { none: 401, malformed: 401, foreign: 401, expired: 401, revoked: 401 };

const chat = JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }] });
const ROUTES = [
  { route: "GET /health", method: "GET", path: "/health", header: "authorization", expect: {} },
  { route: "GET /v1/models", method: "GET", path: "/v1/models", header: "authorization", expect: REFUSED },
  { route: "GET /v1/usage", method: "GET", path: "/v1/usage", header: "authorization", expect: REFUSED },
  { route: "POST /v1/chat/completions", method: "POST", path: "/v1/chat/completions", header: "authorization", body: chat, expect: REFUSED },
  {
    route: "POST /v1/responses",
    method: "POST",
    path: "/v1/responses",
    header: "authorization",
    body: JSON.stringify({ model: "chat", input: "hi" }),
    expect: REFUSED,
  },
  {
    route: "POST /v1/messages",
    method: "POST",
    path: "/v1/messages",
    header: "x-api-key",
    body: JSON.stringify({ model: "claude", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
    expect: REFUSED,
  },
  {
    route: "POST /v1beta/models/{m}:generateContent",
    method: "POST",
    path: "/v1beta/models/gemini:generateContent",
    header: "x-goog-api-key",
    body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    expect: REFUSED,
  },
  { route: "GET /admin/routes", method: "GET", path: "/admin/routes", header: "authorization", expect: { ...REFUSED, api: 403 } },
  { route: "POST /admin/reload", method: "POST", path: "/admin/reload", header: "authorization", body: "{}", expect: { ...REFUSED, api: 403 } },
];

export async function authTable() {
  const { check, problems } = checker();
  const upstreams = await startUpstreams(0);
  const home = tempHome("auth");
  const keysDir = join(home, ".keys");
  await auth.createAccount(keysDir, { label: "drill operator" });
  const operator = await auth.unlockAccount(keysDir, 0);
  const otherDir = join(tempHome("auth-other"), ".keys");
  await auth.createAccount(otherDir);
  const stranger = await auth.unlockAccount(otherDir, 0);
  const mint = (account, claims) => auth.mintToken(account, claims, { chain: "solana" });
  const credentials = {
    none: undefined,
    malformed: "not.a.token",
    foreign: await mint(stranger, { scope: "api", id: "drill-foreign" }),
    expired: await mint(operator, { scope: "api", id: "drill-expired", exp: Math.floor(Date.now() / 1000) - 60 }),
    revoked: await mint(operator, { scope: "api", id: "drill-revoked" }),
    api: await mint(operator, { scope: "api", id: "drill-api" }),
    admin: await mint(operator, { scope: "admin", id: "drill-admin" }),
  };
  for (const kind of ["foreign", "expired", "revoked", "api", "admin"]) {
    secrets.add(credentials[kind]);
    secrets.add(credentials[kind].split(".")[2]); // the signature alone is as good as the token
  }
  const srv = await startServer(home, upstreams.yaml());
  const revoked = await control(srv, "/keys/drill-revoked/revoke", { method: "POST", body: { reason: "drill" } });
  check(revoked.status === 200, `revoking over the control socket answered ${revoked.status}`);

  const table = [];
  for (const r of ROUTES) {
    const row = { route: r.route, cells: {} };
    for (const kind of KINDS) {
      const value = credentials[kind];
      const headers = {
        "content-type": "application/json",
        ...(value === undefined ? {} : { [r.header]: r.header === "authorization" ? `Bearer ${value}` : value }),
      };
      const answer = await rawRequest(srv.url, r.path, { method: r.method, headers, ...(r.body ? { body: r.body } : {}) });
      const expected = r.expect[kind] ?? 200;
      row.cells[kind] = { status: answer.status, expected };
      check(answer.status === expected, `${r.route} with a ${kind} credential: ${answer.status}, expected ${expected} (${answer.body.slice(0, 160)})`);
    }
    table.push(row);
  }
  const exit = await srv.stop();
  check(exit.code === 0, `the server exited with ${JSON.stringify(exit)}`);
  await upstreams.close();
  return { name: "auth-table", problems, figures: { kinds: KINDS, table } };
}
