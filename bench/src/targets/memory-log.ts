/**
 * With `BENCH_MEMORY_LOG=<dir>` set, a target appends one line every 100 ms to `<dir>/<name>-<pid>.tsv`:
 * wall-clock ms, then MB of VmRSS and what it is made of (V8 heap committed and used, its young
 * generation, the external memory of Buffers and ArrayBuffers). For finding where a peak of RSS
 * comes from and in which scenario (`pnpm bench` prints each scenario as it goes). Off otherwise.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getHeapSpaceStatistics } from "node:v8";

export function logMemory(name: string): void {
  const dir = process.env.BENCH_MEMORY_LOG;
  if (!dir) return;
  const file = join(dir, `${name}-${process.pid}.tsv`);
  writeFileSync(file, "ms\trss\theap_total\theap_used\tnew_space\told_space\tcode\texternal\tarray_buffers\n");
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  setInterval(() => {
    const m = process.memoryUsage();
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
    const row = [Date.now(), m.rss, m.heapTotal, m.heapUsed, spaces.new_space ?? 0, spaces.old_space ?? 0, spaces.code_space ?? 0, m.external, m.arrayBuffers];
    appendFileSync(file, `${row.map((v, i) => (i === 0 ? String(v) : mb(v))).join("\t")}\n`);
  }, 100).unref();
}
