import { describe, expect, test } from "vitest";
import { redactUrl } from "../src/index.js";

describe("redactUrl", () => {
  test("replaces the password only", () => {
    expect(redactUrl("postgres://user:s3cret@db:5432/x")).toBe("postgres://user:***@db:5432/x");
    expect(redactUrl("postgres://app:s3cr%40t@db:5432/br?sslmode=require")).toBe("postgres://app:***@db:5432/br?sslmode=require");
    expect(redactUrl("mysql://root@127.0.0.1:3306/br")).toBe("mysql://root@127.0.0.1:3306/br");
    expect(redactUrl("sqlite://bitrouter.db?mode=rwc")).toBe("sqlite://bitrouter.db?mode=rwc");
  });

  test("strings that are not URLs still lose their password", () => {
    const redacted = redactUrl("postgres://app:pa ss@wo rd@host/db");
    expect(redacted).not.toContain("pa ss");
    expect(redacted).toContain("@host/db");
  });
});
