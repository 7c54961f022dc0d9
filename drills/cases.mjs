// The attacks and faults of issue 13, replayed against the real server (open mode, SQLite ledger):
// each case says what was sent and what came back.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { checker, control, ledgerCount, rawRequest, startServer, startUpstreams, store, tempHome } from "./lib.mjs";

export async function cases() {
  const { check, problems } = checker();
  const upstreams = await startUpstreams(0);
  const home = tempHome("cases");
  const srv = await startServer(home, upstreams.yaml());
  const port = new URL(srv.url).port;
  const json = { "content-type": "application/json" };
  const chat = JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }] });
  const results = [];
  const run = async (name, expected, send) => {
    const answer = await send();
    results.push({ name, status: answer.status, expected });
    check(answer.status === expected, `${name}: ${answer.status}, expected ${expected} (${answer.body.slice(0, 200)})`);
    return answer;
  };

  for (let i = 0; i < 3; i++)
    await run(`x-request-id "same" repeated (${i + 1}/3)`, 200, () =>
      rawRequest(srv.url, "/v1/chat/completions", { method: "POST", headers: { ...json, "x-request-id": "same" }, body: chat }),
    );
  await run("text/plain POST (no CORS preflight)", 415, () =>
    rawRequest(srv.url, "/v1/chat/completions", { method: "POST", headers: { "content-type": "text/plain" }, body: chat }),
  );
  await run("form POST to /v1/messages", 415, () =>
    rawRequest(srv.url, "/v1/messages", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: chat }),
  );
  await run("Origin: https://evil.example", 403, () =>
    rawRequest(srv.url, "/v1/chat/completions", { method: "POST", headers: { ...json, origin: "https://evil.example" }, body: chat }),
  );
  await run("Host: rebound.example (DNS rebinding)", 403, () => rawRequest(srv.url, "/v1/models", { headers: { host: `rebound.example:${port}` } }));
  await run("GET /admin/routes over HTTP, open mode", 403, () => rawRequest(srv.url, "/admin/routes"));
  await run("100,000 nested [ in a chat body", 400, () =>
    rawRequest(srv.url, "/v1/chat/completions", {
      method: "POST",
      headers: json,
      body: `{"model":"chat","messages":[],"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`,
    }),
  );
  await run("bad %-encoding in a Gemini path", 400, () =>
    rawRequest(srv.url, "/v1beta/models/gem%ZZ:generateContent", { method: "POST", headers: json, body: "{}" }),
  );
  await run("model named valueOf", 404, () =>
    rawRequest(srv.url, "/v1/chat/completions", { method: "POST", headers: json, body: JSON.stringify({ model: "valueOf", messages: [] }) }),
  );
  for (const [name, yaml] of [
    ["an empty bitrouter.yaml", ""],
    ["a truncated bitrouter.yaml", upstreams.yaml().slice(0, upstreams.yaml().indexOf("models:") + 8)],
  ]) {
    writeFileSync(join(home, "bitrouter.yaml"), yaml);
    const answer = await control(srv, "/reload", { method: "POST" });
    results.push({ name: `reload of ${name}`, status: answer.status, expected: 422 });
    check(answer.status === 422, `reload of ${name}: ${answer.status}`);
  }
  await run("a request after the refused reloads", 200, () => rawRequest(srv.url, "/v1/chat/completions", { method: "POST", headers: json, body: chat }));

  const exit = await srv.stop();
  check(exit.code === 0, `the server exited with ${JSON.stringify(exit)}`);
  await upstreams.close();
  // One ledger row per answered inference request (the refused ones included), three for "same".
  const inference = results.filter((r) => !r.name.startsWith("reload") && !r.name.includes("Host:") && !r.name.includes("/admin")).length;
  const rows = await ledgerCount("sqlite://bitrouter.db", home);
  check(rows === inference, `ledger has ${rows} rows for ${inference} inference requests`);
  const s = await store.openStore("sqlite://bitrouter.db", { baseDir: home });
  try {
    const same = await s.db.selectFrom("requests").select("id").where("client_request_id", "=", "same").execute();
    check(same.length === 3 && new Set(same.map((r) => r.id)).size === 3, `x-request-id "same" x3: ${same.length} ledger rows`);
  } finally {
    await s.close();
  }
  return { name: "cases", problems, figures: { cases: results, ledgerRows: rows } };
}
