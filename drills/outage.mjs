// The ledger's database goes away under load, twice: once it comes back while the server runs, once
// the server is stopped (SIGTERM) during the outage. The outage is real for the server: a TCP proxy
// between it and the loopback PostgreSQL / MariaDB cuts every connection and refuses new ones (the
// shared database servers themselves are never stopped). Afterwards every request the server
// answered must be on the ledger exactly once: written after recovery, or spilled at shutdown and
// written by the next start.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { checker, ledgerCount, runLoad, secret, sleep, startServer, startUpstreams, tempHome, testkit } from "./lib.mjs";

const BACKENDS = {
  postgres: {
    port: 5432,
    create: (db) =>
      execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", `CREATE DATABASE ${db}`], { stdio: "pipe" }),
    drop: (db) =>
      execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`], { stdio: "pipe" }),
    // PostgreSQL trusts loopback: the password is there to prove it never reaches a log line.
    url: (port, db) => `postgres://postgres:${secret("Drill-Pa55")}@127.0.0.1:${port}/${db}`,
  },
  mysql: {
    port: 3306,
    create: (db) => execFileSync("mariadb", ["-h", "127.0.0.1", "-uroot", "-e", `CREATE DATABASE ${db}`], { stdio: "pipe" }),
    drop: (db) => execFileSync("mariadb", ["-h", "127.0.0.1", "-uroot", "-e", `DROP DATABASE IF EXISTS ${db}`], { stdio: "pipe" }),
    url: (port, db) => `mysql://root@127.0.0.1:${port}/${db}`,
  },
};

const answered = (stats) => Object.entries(stats.byStatus).reduce((n, [status, count]) => (status === "network" ? n : n + count), 0);

export async function outage(backendName, { outageMs, concurrency = 6 }) {
  const { check, problems } = checker();
  const backend = BACKENDS[backendName];
  const db = `bitrouter_drill_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  backend.create(db);
  const proxy = await testkit.startTcpProxy(backend.port);
  const upstreams = await startUpstreams(0);
  const home = tempHome(`outage-${backendName}`);
  const env = { BITROUTER_DATABASE_URL: backend.url(proxy.port, db) };
  const figures = { backend: backendName, outageS: outageMs / 1000 };
  try {
    // 1. An outage the running server rides out.
    let srv = await startServer(home, upstreams.yaml(), env);
    let stop = false;
    let load = runLoad({ url: srv.url, concurrency, until: () => stop });
    await sleep(2000);
    await proxy.stop();
    await sleep(outageMs);
    await proxy.start();
    await sleep(3000);
    // 2. A second outage, and SIGTERM in the middle of it, under load.
    await proxy.stop();
    await sleep(Math.min(outageMs, 3000));
    const exit = await srv.stop();
    stop = true;
    const stats = await load;
    const spill = join(home, "run", "ledger-spill.jsonl");
    check(exit.code === 0, `SIGTERM during the outage: exit ${JSON.stringify(exit)}\n${srv.output().slice(-2000)}`);
    check(!existsSync(srv.pidFile), "the PID file was left behind");
    check(existsSync(spill), "no spill file: the rows queued during the outage went nowhere");
    // Requests sent after the listener closed are refused (network errors); every answered one succeeded.
    check(stats.ok === answered(stats), `${answered(stats) - stats.ok} requests answered with an error: ${stats.failures.join(" | ")}`);
    figures.requests = answered(stats);
    figures.refusedAfterStop = stats.byStatus.network ?? 0;
    // 3. The database is back; the next start writes the spill file, once.
    await proxy.start();
    srv = await startServer(home, undefined, env);
    check(!existsSync(spill), "the next start did not write (and remove) the spill file");
    const again = await srv.stop();
    check(again.code === 0, `second start: exit ${JSON.stringify(again)}`);
    const rows = await ledgerCount(backend.url(backend.port, db));
    figures.ledgerRows = rows;
    check(rows === figures.requests, `ledger has ${rows} rows for ${figures.requests} answered requests`);
  } finally {
    await proxy.stop();
    await upstreams.close();
    backend.drop(db);
  }
  return { name: `outage-${backendName}`, problems, figures };
}
