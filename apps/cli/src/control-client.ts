// Talks to a running server over its control socket (`<run-dir>/bitrouter.sock`).
import { existsSync } from "node:fs";
import { fetchOverSocket } from "@bitrouter/server/control-client";
import { CliError } from "./base.js";

export class NoServerError extends CliError {
  constructor(socket: string) {
    super(`no BitRouter server is running (no control socket at ${socket}). Start one with \`bitrouter serve\` or \`bitrouter start\`.`);
    this.name = "NoServerError";
  }
}

/** One control API call; a missing or dead socket becomes a NoServerError with what to do next. */
export async function controlCall(socket: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: unknown }> {
  if (!existsSync(socket)) throw new NoServerError(socket);
  try {
    return await fetchOverSocket(socket, path, init);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ECONNREFUSED" || code === "ENOENT") throw new NoServerError(socket);
    throw error;
  }
}
