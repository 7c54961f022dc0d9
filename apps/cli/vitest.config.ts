import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.ts";

// The CLI tests spawn the built binary (dist/bin.js): global-setup brings dist up to date first.
// They start real servers, daemons and terminals while turbo runs every other package's tests on
// the same two cores: one retry keeps a scheduling hiccup from failing the run, and a test that
// fails twice still fails.
export default mergeConfig(sharedConfig, { test: { globalSetup: ["./test/global-setup.ts"] } });
