#!/usr/bin/env -S node --
// The `--` ends Node's own options: Node 20-22 otherwise take a script argument named --env-file
// for theirs and exit 9 when the file is missing (nodejs/node#54232).
import { runCli } from "./cli.js";
import { startUpdateCheck } from "./update-check.js";

// A reader that goes away (`bitrouter status | head`) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const args = process.argv.slice(2);
const updateCheck = startUpdateCheck(args, process.env, process.stderr);
process.exitCode = await runCli(args);
await updateCheck?.report();
