#!/usr/bin/env node
// (Not `env -S node --`, which would keep Node from reading a script argument named --env-file as
// its own option (nodejs/node#54232): BusyBox's env, as on Alpine, has no -S. The daemon and the
// root `pnpm bitrouter` script run `node -- bin.js`.)
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
