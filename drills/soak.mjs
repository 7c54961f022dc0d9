// Soak: mixed protocols, stream and not, fast path and translated, against upstreams where 10% of
// the first endpoint's answers are faults (failover to the second). RSS and open handles are
// sampled ten times; after the run, every answered request must be on the ledger.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { checker, control, ledgerCount, percentile, processFigures, runLoad, sleep, startServer, startUpstreams, tempHome } from "./lib.mjs";

const RSS_CEILING_MIB = 512;

export async function soak({ durationMs, concurrency = 8 }) {
  const { check, problems } = checker();
  const upstreams = await startUpstreams(0.1);
  const home = tempHome("soak");
  const srv = await startServer(home, upstreams.yaml());
  const curve = [];
  const started = Date.now();
  let stop = false;
  const load = runLoad({ url: srv.url, concurrency, until: () => stop });
  // Sample at 0%, 10%, ... 100% of the run; forget the mocks' request records as we go.
  for (let i = 0; i <= 10; i++) {
    const at = started + (durationMs * i) / 10;
    await sleep(Math.max(0, at - Date.now()));
    curve.push({ atS: Math.round((Date.now() - started) / 1000), ...processFigures(srv.pid) });
    upstreams.reset();
  }
  stop = true;
  const stats = await load;
  const exit = await srv.stop();
  await upstreams.close();
  const rows = await ledgerCount("sqlite://bitrouter.db", home);

  check(stats.failed === 0, `${stats.failed} of ${stats.sent} requests failed: ${stats.failures.join(" | ")}`);
  check(exit.code === 0, `the server exited with ${JSON.stringify(exit)} on SIGTERM`);
  check(rows === stats.sent, `ledger has ${rows} rows for ${stats.sent} answered requests`);
  // Plateau: the last samples are not far above the middle ones (warm-up excluded). V8 grows its
  // heap in steps long before it must collect (a sawtooth of a minute or more), so only a run of
  // several minutes can tell growth from a step; a short run checks the hard ceiling only.
  const mid = curve.slice(3, 6);
  const end = curve.slice(-3);
  const maxOf = (list, key) => Math.max(...list.map((p) => p[key]));
  if (durationMs >= 300_000) {
    const rssGrowth = maxOf(end, "rssMiB") / maxOf(mid, "rssMiB");
    check(rssGrowth < 1.3, `RSS kept growing: ${maxOf(mid, "rssMiB")} MiB mid-run -> ${maxOf(end, "rssMiB")} MiB at the end`);
  }
  check(maxOf(curve, "rssMiB") < RSS_CEILING_MIB, `RSS reached ${maxOf(curve, "rssMiB")} MiB (ceiling ${RSS_CEILING_MIB})`);
  check(maxOf(end, "fds") <= maxOf(mid, "fds") + concurrency * 2, `open handles kept growing: ${maxOf(mid, "fds")} mid-run -> ${maxOf(end, "fds")} at the end`);
  return {
    name: "soak",
    problems,
    figures: {
      durationS: Math.round(durationMs / 1000),
      concurrency,
      sent: stats.sent,
      failed: stats.failed,
      rps: Math.round(stats.sent / (durationMs / 1000)),
      p50Ms: Math.round(percentile(stats.latenciesMs, 50) * 10) / 10,
      p99Ms: Math.round(percentile(stats.latenciesMs, 99) * 10) / 10,
      ledgerRows: rows,
      upstreamFaults: "10% of its answers (503, 429 with Retry-After, or a connection reset)",
      curve,
    },
  };
}

// 50 hot reloads under load, valid and invalid alternating (bad YAML, an unknown field, an empty
// file, a truncated one): every valid one is applied, every invalid one refused with a reason, and
// not one request fails.
export async function reloads({ count = 50, concurrency = 6 }) {
  const { check, problems } = checker();
  const upstreams = await startUpstreams(0);
  const home = tempHome("reload");
  const srv = await startServer(home, upstreams.yaml());
  let stop = false;
  const load = runLoad({ url: srv.url, concurrency, until: () => stop });
  const invalid = [
    ["bad YAML", "providers: [unclosed\n"],
    ["unknown field", `${upstreams.yaml()}\nserver:\n  lisen: 1\n`],
    ["empty file", ""],
    ["truncated file", upstreams.yaml().slice(0, upstreams.yaml().indexOf("models:") + "models:\n".length)],
  ];
  let applied = 0;
  let refused = 0;
  for (let i = 0; i < count; i++) {
    const valid = i % 2 === 0;
    const [label, yaml] = valid
      ? ["valid", upstreams.yaml(`  extra-${i}: { strategy: priority, endpoints: [{ provider: oai-b, model_id: gpt-drill }] }\n`)]
      : invalid[(i >> 1) % invalid.length];
    writeFileSync(join(home, "bitrouter.yaml"), yaml);
    const answer = await control(srv, "/reload", { method: "POST" });
    if (valid) {
      if (check(answer.status === 200, `reload ${i} (${label}) answered ${answer.status}: ${JSON.stringify(answer.body)}`)) applied++;
    } else if (
      check(
        answer.status === 422 && typeof answer.body?.error === "string" && answer.body.error.length > 0,
        `reload ${i} (${label}) was not refused with a reason: ${answer.status}`,
      )
    ) {
      refused++;
    }
    await sleep(100);
  }
  // The last valid reload took effect: its extra model is served.
  const routes = await control(srv, "/routes");
  check(
    routes.body.routes.some((r) => r.name === `extra-${count - 2}`),
    "the last valid reload's model is not in the routing table",
  );
  stop = true;
  const stats = await load;
  const exit = await srv.stop();
  await upstreams.close();
  check(stats.failed === 0, `${stats.failed} of ${stats.sent} requests failed during the reloads: ${stats.failures.join(" | ")}`);
  check(exit.code === 0, `the server exited with ${JSON.stringify(exit)}`);
  return { name: "reloads", problems, figures: { reloads: count, applied, refused, requests: stats.sent, failed: stats.failed } };
}
