// The client side of the control API: a tiny module of its own (no server code), so the CLI can
// talk to a running server without loading the whole server stack.
import { request } from "node:http";

/** GET/POST to a server on a Unix socket (the control API). */
export async function fetchOverSocket(socketPath: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
    const req = request(
      { socketPath, path, method: init.method ?? "GET", headers: payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {} },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // plain text answer
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("control socket timed out")));
    req.end(payload);
  });
}
