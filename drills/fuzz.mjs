// Property-based bad input (fast-check): random and near-valid bodies for each of the four inbound
// protocols against the running server (never a 500, and it keeps serving), and random and
// near-valid documents for the config loader (a config error or a config, never a crash).
import fc from "fast-check";
import { checker, config, startServer, startUpstreams, tempHome } from "./lib.mjs";

const jsonish = fc.jsonValue({ maxDepth: 4 });
const model = fc.oneof(fc.constantFrom("chat", "claude", "gemini", "nope", "oai-a:gpt-drill", "ant-b:x", ":", ""), jsonish);
const content = fc.oneof(
  fc.string(),
  jsonish,
  fc.array(
    fc.record(
      { type: fc.constantFrom("text", "image_url", "image", "tool_use", "tool_result", "input_text", "thinking"), text: jsonish, id: jsonish, input: jsonish },
      { requiredKeys: ["type"] },
    ),
    { maxLength: 3 },
  ),
);
const message = fc.record(
  { role: fc.oneof(fc.constantFrom("user", "assistant", "system", "tool", "developer", "model"), fc.string()), content, tool_calls: jsonish, parts: jsonish },
  { requiredKeys: ["role"] },
);
/** Nesting as deep as 100,000 levels, as text (an object that deep would overflow the drill's own stack). */
const deep = fc
  .tuple(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom("chat", "claude", "gemini"))
  .map(
    ([n, m]) =>
      `{"model":"${m}","messages":[{"role":"user","content":"x"}],"contents":[{"role":"user","parts":[{"text":"x"}]}],"input":"x","x":${"[".repeat(n)}${"]".repeat(n)}}`,
  );
const nearValid = fc.record(
  {
    model,
    messages: fc.oneof(fc.array(message, { maxLength: 4 }), jsonish),
    input: fc.oneof(fc.string(), fc.array(message, { maxLength: 3 }), jsonish),
    contents: fc.oneof(
      fc.array(fc.record({ role: fc.string(), parts: fc.oneof(jsonish, fc.array(fc.record({ text: jsonish }), { maxLength: 2 })) }), { maxLength: 3 }),
      jsonish,
    ),
    stream: fc.oneof(fc.boolean(), jsonish),
    max_tokens: fc.oneof(fc.integer(), jsonish),
    tools: fc.oneof(
      jsonish,
      fc.array(fc.record({ type: fc.constantFrom("function", "web_search"), name: jsonish, function: jsonish, input_schema: jsonish, parameters: jsonish }), {
        maxLength: 2,
      }),
    ),
    tool_choice: jsonish,
    temperature: jsonish,
    system: jsonish,
    generationConfig: jsonish,
  },
  { requiredKeys: [] },
);
/** A body as bytes on the wire: near-valid objects mostly, then any JSON, then not JSON at all. */
const body = fc.oneof(
  { weight: 6, arbitrary: nearValid.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: jsonish.map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.string({ unit: "binary" }) },
  { weight: 1, arbitrary: deep },
);
const geminiModel = fc.oneof(
  fc.constantFrom("gemini", "claude", "nope"),
  fc.string({ minLength: 1, maxLength: 20 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom("gem%ZZ", "%", "a%2", "%E0%A4%A"),
);

export async function fuzz({ runs }) {
  const { check, problems } = checker();
  const upstreams = await startUpstreams(0);
  const home = tempHome("fuzz");
  const srv = await startServer(home, upstreams.yaml());
  const figures = { runsPerTarget: runs, statuses: {} };
  const post = async (path, text) => {
    const res = await fetch(srv.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: text });
    await res.arrayBuffer();
    figures.statuses[res.status] = (figures.statuses[res.status] ?? 0) + 1;
    return res.status;
  };
  const targets = {
    "openai-chat": fc.tuple(fc.constant("/v1/chat/completions"), body),
    "openai-responses": fc.tuple(fc.constant("/v1/responses"), body),
    anthropic: fc.tuple(fc.constant("/v1/messages"), body),
    google: fc.tuple(
      fc.tuple(geminiModel, fc.constantFrom("generateContent", "streamGenerateContent?alt=sse")).map(([m, a]) => `/v1beta/models/${m}:${a}`),
      body,
    ),
  };
  for (const [protocol, arbitrary] of Object.entries(targets)) {
    try {
      await fc.assert(
        fc.asyncProperty(arbitrary, async ([path, text]) => (await post(path, text)) !== 500),
        { numRuns: runs },
      );
    } catch (error) {
      check(false, `${protocol}: a body answered 500: ${String(error.message).slice(0, 600)}`);
    }
  }
  // Still serving after all that.
  check(
    (await post("/v1/chat/completions", JSON.stringify({ model: "chat", messages: [{ role: "user", content: "still there?" }] }))) === 200,
    "the server stopped serving after the fuzzing",
  );
  const exit = await srv.stop();
  check(exit.code === 0, `the server exited with ${JSON.stringify(exit)}`);
  await upstreams.close();

  // The config loader: every document is either a configuration or a ConfigError naming the field.
  const valid = upstreams.yaml();
  const document = fc.oneof(
    fc.string({ unit: "binary" }),
    fc.integer({ min: 0, max: valid.length }).map((n) => valid.slice(0, n)),
    fc.tuple(fc.integer({ min: 0, max: valid.length }), fc.string({ maxLength: 8 })).map(([n, s]) => valid.slice(0, n) + s + valid.slice(n)),
    fc
      .record(
        {
          server: fc.record(
            { listen: fc.oneof(fc.string(), jsonish), body_limit: jsonish, request_timeout: jsonish, cors_origins: jsonish, log_level: jsonish },
            { requiredKeys: [] },
          ),
          providers: fc.oneof(
            jsonish,
            fc.dictionary(
              fc.string(),
              fc.record({ api_protocol: jsonish, api_base: jsonish, api_key: jsonish, derives: jsonish, models: jsonish }, { requiredKeys: [] }),
            ),
          ),
          models: fc.oneof(jsonish, fc.dictionary(fc.string(), fc.record({ strategy: jsonish, endpoints: jsonish }, { requiredKeys: [] }))),
          guardrails: jsonish,
          inherit_defaults: jsonish,
          database: jsonish,
        },
        { requiredKeys: [] },
      )
      .map((doc) => JSON.stringify(doc)),
  );
  let configs = 0;
  let errors = 0;
  try {
    fc.assert(
      fc.property(document, (text) => {
        try {
          config.parseConfig(text, { env: {}, home });
          configs++;
        } catch (error) {
          if (!(error instanceof config.ConfigError)) throw error;
          errors++;
        }
      }),
      { numRuns: runs * 4 },
    );
  } catch (error) {
    check(false, `config loader: a document crashed it instead of a ConfigError: ${String(error.message).slice(0, 600)}`);
  }
  figures.configDocuments = { tried: runs * 4, loaded: configs, refused: errors };
  return { name: "fuzz", problems, figures };
}
