/**
 * OpenTelemetry traces as a collector receives them: the real server exports over OTLP/HTTP to a
 * collector stand-in in this test, requests go through the official OpenAI SDK.
 */
import { createServer, type Server } from "node:http";
import OpenAI from "openai";
import { startMock, type MockUpstream } from "@bitrouter/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tracingSettings } from "../src/tracing.js";
import { providersYaml, startTestServer } from "./harness.js";

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
interface Received {
  service: string | undefined;
  spans: OtlpSpan[];
}

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

/** The OTLP/HTTP traces endpoint of a collector: keeps what it is sent (JSON encoding). */
async function startCollector(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const payload = JSON.parse(body) as {
        resourceSpans: { resource: { attributes: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of payload.resourceSpans) {
        received.push({
          service: rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue,
          spans: rs.scopeSpans.flatMap((s) => s.spans),
        });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/v1/traces`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const attr = (span: OtlpSpan, key: string) => {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : v?.boolValue);
};

let mock: MockUpstream;
beforeAll(async () => {
  mock = await startMock();
});
afterAll(async () => {
  await mock?.close();
});

describe("OpenTelemetry traces", () => {
  it("one span per request, a child per upstream attempt, GenAI attributes, received over OTLP", async () => {
    const collector = await startCollector();
    const yaml = `${providersYaml(mock)}
  dead:
    api_protocol: openai
    api_base: http://127.0.0.1:1/v1
    api_key: key-dead
models:
  smart:
    endpoints:
      - { provider: dead, model_id: gpt-test }
      - { provider: oai, model_id: gpt-test }
tracing:
  enabled: true
  endpoint: ${collector.url}
  service_name: bitrouter-test
`;
    const server = await startTestServer(yaml);
    try {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      mock.enqueue({ text: "hello", usage: { input: 7, output: 3 } });
      await client.chat.completions.create({ model: "smart", messages: [{ role: "user", content: "hi" }] });
      mock.enqueue({ error: "invalid_request", message: "no" });
      await expect(client.chat.completions.create({ model: "oai:gpt-test", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({
        status: 400,
      });
    } finally {
      await server.close(); // flushes the exporter
      await collector.close();
    }
    expect(collector.received.every((r) => r.service === "bitrouter-test")).toBe(true);
    const spans = collector.received.flatMap((r) => r.spans);

    const smart = spans.find((s) => s.kind === SERVER && attr(s, "gen_ai.request.model") === "smart")!;
    expect(smart.name).toBe("chat smart");
    expect(attr(smart, "gen_ai.operation.name")).toBe("chat");
    expect(attr(smart, "gen_ai.response.model")).toBe("gpt-test");
    expect(attr(smart, "gen_ai.provider.name")).toBe("oai");
    expect(attr(smart, "gen_ai.usage.input_tokens")).toBe(7);
    expect(attr(smart, "gen_ai.usage.output_tokens")).toBe(3);
    expect(attr(smart, "bitrouter.attempts")).toBe(2);
    expect(attr(smart, "http.response.status_code")).toBe(200);
    const attempts = spans.filter((s) => s.parentSpanId === smart.spanId);
    expect(attempts.map((s) => [s.kind, s.traceId, attr(s, "gen_ai.provider.name")])).toEqual([
      [CLIENT, smart.traceId, "dead"],
      [CLIENT, smart.traceId, "oai"],
    ]);
    expect(attempts[0]!.status?.code).toBe(ERROR);
    expect(attr(attempts[1]!, "gen_ai.request.model")).toBe("gpt-test");
    expect(attr(attempts[1]!, "gen_ai.usage.output_tokens")).toBe(3);

    const failed = spans.find((s) => s.kind === SERVER && attr(s, "gen_ai.request.model") === "oai:gpt-test")!;
    expect(failed.status?.code).toBe(ERROR);
    expect(attr(failed, "error.type")).toBe("invalid_request");
    expect(attr(failed, "http.response.status_code")).toBe(400);
    expect(spans.filter((s) => s.parentSpanId === failed.spanId)).toHaveLength(1);
  });

  it("the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT turns it on without any config", async () => {
    const collector = await startCollector();
    const server = await startTestServer(providersYaml(mock), {
      processEnv: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.url, OTEL_SERVICE_NAME: "from-env" },
    });
    try {
      mock.reset();
      mock.enqueue({ text: "hello" });
      // Spacing and a field of a message the canonical model does not carry: only the fast path
      // (the caller's bytes forwarded, model spliced) sends them on as they are.
      const body = '{"model": "oai:gpt-test",  "messages": [{"role": "user", "content": "hi", "x_note": 1}]}';
      const response = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect(response.status).toBe(200);
      await response.text();
      // Tracing does not cost the fast path.
      expect(mock.requests[0]!.rawBody).toBe(body.replace('"oai:gpt-test"', '"gpt-test"'));
    } finally {
      await server.close();
      await collector.close();
    }
    expect(collector.received.map((r) => r.service)).toContain("from-env");
    expect(collector.received.flatMap((r) => r.spans).some((s) => s.name === "chat oai:gpt-test")).toBe(true);
  });

  it("is off by default, by tracing.enabled: false, and by OTEL_SDK_DISABLED", () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" };
    expect(tracingSettings(undefined, {})).toBeUndefined();
    expect(tracingSettings(undefined, env)).toEqual({ endpoint: "http://127.0.0.1:4318/v1/traces", serviceName: "bitrouter" });
    expect(tracingSettings({ enabled: false }, env)).toBeUndefined();
    expect(tracingSettings(undefined, { ...env, OTEL_SDK_DISABLED: "true" })).toBeUndefined();
    expect(tracingSettings(undefined, { ...env, OTEL_TRACES_EXPORTER: "none" })).toBeUndefined();
    expect(tracingSettings({ endpoint: "http://collector:4318/v1/traces" }, {})).toEqual({
      endpoint: "http://collector:4318/v1/traces",
      serviceName: "bitrouter",
    });
  });
});
