import { readFileSync } from "node:fs";

/** Reported to upstream servers (clientInfo) and downstream clients (serverInfo): the package's version (set by changesets). */
export const VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
