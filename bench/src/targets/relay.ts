/**
 * The floor under every Node proxy: a TCP relay. Each client connection gets its own connection to
 * the upstream and bytes are piped both ways, with no HTTP parsed at all, so it cannot route,
 * pick an upstream or see a request end. Its added latency is what the loopback hops and the
 * process's wake-ups cost on this machine before any proxy does any work.
 */
import { connect, createServer } from "node:net";
import { parseArgs } from "node:util";
import { serveTarget } from "./serve.js";

const { values } = parseArgs({ options: { upstream: { type: "string" } } });
if (!values.upstream) throw new Error("relay needs --upstream <origin>");
const upstream = new URL(values.upstream);

const server = createServer({ noDelay: true }, (client) => {
  const up = connect({ host: upstream.hostname, port: Number(upstream.port), noDelay: true });
  client.pipe(up);
  up.pipe(client);
  const close = () => {
    client.destroy();
    up.destroy();
  };
  client.on("error", close).on("close", close);
  up.on("error", close).on("close", close);
});
serveTarget(server, "relay");
