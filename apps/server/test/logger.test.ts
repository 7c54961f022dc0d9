import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger, redact, timestamp } from "../src/logger.js";

describe("the logger", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes the lines of a request burst to stderr together, within 50 ms; warnings at once, in order", async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const logger = createLogger({ level: "info" });
    logger.info("request", { id: "a", ms: 3, stream: false });
    logger.info("request", { id: "b", note: "two words", key: "sk-abcdefghijklmnop" });
    expect(writes).toEqual([]); // a request does not wait for a write
    await new Promise((resolve) => setImmediate(resolve));
    logger.info("request", { id: "c" }); // a later turn shares the write
    expect(writes).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(writes).toHaveLength(1);
    expect(writes[0]!.split("\n")).toEqual([
      expect.stringMatching(/^\S+ INFO {2}request id=a ms=3 stream=false$/),
      expect.stringMatching(/^\S+ INFO {2}request id=b note="two words" key=sk-a…\[redacted\]$/),
      expect.stringMatching(/^\S+ INFO {2}request id=c$/),
      "",
    ]);
    logger.info("pending");
    logger.warn("disk almost full");
    expect(writes.slice(1).join("")).toMatch(/INFO {2}pending\n.*WARN {2}disk almost full\n$/);
    await logger.close();
  });

  it("stamps lines with the ISO time, across second boundaries and a clock set back", () => {
    const base = Date.parse("2026-12-05T22:13:15.990Z");
    for (const t of [base, base + 9, base + 10, base + 99, base + 100, base + 999, base + 1000, base + 1001, base - 5_000, base + 86_400_000])
      expect(timestamp(t)).toBe(new Date(t).toISOString());
  });

  it("masks keys and tokens wherever they are in a line", () => {
    expect(redact("model=sk-ant-abcdefghijkl key=AIzaSyA1234567890abcdefghij jwt=eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.abc plain=skip")).toBe(
      "model=sk-a…[redacted] key=AIza…[redacted] jwt=eyJh…[redacted] plain=skip",
    );
  });

  it("writes the log file, and keeps serving on stderr when the log file cannot be opened", async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const logsDir = mkdtempSync(join(tmpdir(), "bitrouter-logs-"));
    const logger = createLogger({ level: "info", logsDir });
    logger.info("to the file", { id: "a" });
    await logger.flush();
    expect(readFileSync(join(logsDir, "bitrouter.log"), "utf8")).toMatch(/INFO {2}to the file id=a\n$/);
    await logger.close();

    const blocked = mkdtempSync(join(tmpdir(), "bitrouter-logs-"));
    mkdirSync(join(blocked, "bitrouter.log")); // a directory where the file should be
    const fallback = createLogger({ level: "info", logsDir: blocked });
    fallback.warn("still logged");
    expect(writes.join("")).toMatch(/WARN {2}still logged\n$/);
    await fallback.close();
  });
});
