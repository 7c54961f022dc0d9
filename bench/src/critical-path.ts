/**
 * Preloaded into a proxy (`node --import <bench/dist/critical-path.js>`, see critical.ts): times each
 * request's critical path on the proxy's main thread without touching the proxy's code. Per request:
 *
 *   in    the 'request' event -> the first write of the upstream request
 *   wait  that write -> the first read of the upstream's answer (the upstream, the hops, waking up)
 *   out   that read -> the first write of the answer to the client
 *
 * Work after the answer's write (a log line, metering) is not in it: the client has its answer.
 * Requests that overlap (the next one arrives before this one's answer left) are left out, since
 * their writes cannot be told apart; at a moderate rate they are few. A built file may call
 * `globalThis.__criticalMark?.("label")` to split a phase: each label's median offset from the
 * 'request' event is reported too. SIGUSR2 writes the medians since the last report as JSON to
 * $CRITICAL_PATH_OUT and starts over.
 */
import { writeFileSync } from "node:fs";
import { Server } from "node:http";
import { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";

interface Timing {
  start: number;
  upstreamWrite: number;
  upstreamRead: number;
  answerWrite: number;
  marks: Map<string, number>;
}

export interface CriticalPathReport {
  /** Requests measured (not overlapping another), and all seen. */
  measured: number;
  seen: number;
  /** Medians, µs. */
  inUs: number;
  waitUs: number;
  outUs: number;
  totalUs: number;
  /** Median offset of each `__criticalMark` label from the 'request' event, µs. */
  marks: Record<string, number>;
}

const out = process.env.CRITICAL_PATH_OUT;
if (!out) throw new Error("critical-path: set CRITICAL_PATH_OUT to the file the report goes to");

const clientSockets = new WeakSet<Socket>();
let timings: Timing[] = [];
let current: Timing | undefined;

const emit = Server.prototype.emit;
Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
  if (event === "connection") clientSockets.add(args[0] as Socket);
  else if (event === "request") {
    current = { start: performance.now(), upstreamWrite: 0, upstreamRead: 0, answerWrite: 0, marks: new Map() };
    timings.push(current);
  }
  return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
} as typeof Server.prototype.emit;

// Every socket write (write, writev, end) goes through _writeGeneric; a socket a server accepted
// carries answers, any other one upstream requests.
type WriteGeneric = (this: Socket, writev: boolean, data: unknown, encoding: string, cb: (error?: Error | null) => void) => void;
const socketProto = Socket.prototype as unknown as { _writeGeneric: WriteGeneric; push: (chunk: unknown, encoding?: BufferEncoding) => boolean };
const writeGeneric = socketProto._writeGeneric;
socketProto._writeGeneric = function (this: Socket, writev, data, encoding, cb) {
  if (current) {
    const at = performance.now();
    if (clientSockets.has(this)) current.answerWrite ||= at;
    else current.upstreamWrite ||= at;
  }
  return writeGeneric.call(this, writev, data, encoding, cb);
};
// An upstream socket's reads reach JS through push (a server's sockets are read by its parser in C++).
socketProto.push = function (this: Socket, chunk: unknown, encoding?: BufferEncoding) {
  if (current?.upstreamWrite && !current.upstreamRead && !clientSockets.has(this)) current.upstreamRead = performance.now();
  return Readable.prototype.push.call(this, chunk, encoding);
};

(globalThis as { __criticalMark?: (label: string) => void }).__criticalMark = (label) => {
  if (current && !current.marks.has(label)) current.marks.set(label, performance.now());
};

const median = (values: number[]): number => {
  const sorted = values.sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!;
};

process.on("SIGUSR2", () => {
  const done = timings.filter((t, i) => {
    const next = timings[i + 1];
    return next !== undefined && t.upstreamWrite && t.upstreamRead && t.answerWrite && next.start > t.answerWrite;
  });
  const us = (f: (t: Timing) => number) => median(done.map(f)) * 1000;
  const labels = new Set(done.flatMap((t) => [...t.marks.keys()]));
  const report: CriticalPathReport = {
    measured: done.length,
    seen: timings.length,
    inUs: us((t) => t.upstreamWrite - t.start),
    waitUs: us((t) => t.upstreamRead - t.upstreamWrite),
    outUs: us((t) => t.answerWrite - t.upstreamRead),
    totalUs: us((t) => t.answerWrite - t.start),
    marks: Object.fromEntries(
      [...labels].map((label) => [label, median(done.filter((t) => t.marks.has(label)).map((t) => t.marks.get(label)! - t.start)) * 1000]),
    ),
  };
  writeFileSync(out, JSON.stringify(report));
  timings = [];
  current = undefined;
});
