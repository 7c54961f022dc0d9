import { describe, expect, it } from "vitest";
import { FirstContent } from "../src/load.js";

const event = (delta: object) => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;

describe("first content of an OpenAI stream", () => {
  it("skips a role-only chunk and finds the first text, even split across reads", () => {
    const seen = new FirstContent();
    expect(seen.push(event({ role: "assistant", content: "" }))).toBe(false);
    const content = event({ content: "Hello" });
    expect(seen.push(content.slice(0, 20))).toBe(false);
    expect(seen.push(content.slice(20))).toBe(true);
  });

  it("counts a tool call as content, and neither comments nor [DONE]", () => {
    expect(new FirstContent().push(": keep-alive\n\ndata: [DONE]\n\n")).toBe(false);
    expect(new FirstContent().push(event({ tool_calls: [{ index: 0, function: { name: "f", arguments: "" } }] }))).toBe(true);
  });
});
