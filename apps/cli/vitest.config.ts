import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.ts";

// The CLI tests spawn the built binary (dist/bin.js): global-setup brings dist up to date first.
// They start real servers, daemons and terminals, each waiting for a readiness signal (a PID file,
// a control socket, a line of output), never for a fixed time. No retry: a test that fails once
// is a bug. The timeout is only a ceiling for a hung test: on two cores shared with turbo's other
// packages (load average 20 measured), a test that starts three daemons took 30 s.
export default mergeConfig(sharedConfig, { test: { globalSetup: ["./test/global-setup.ts"], testTimeout: 120_000, hookTimeout: 120_000 } });
