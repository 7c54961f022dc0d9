/**
 * Polls `check` until it holds. `timeoutMs` is a ceiling for a test that would otherwise hang, not a
 * schedule: the test goes on as soon as the condition is true, however slow or loaded the machine.
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
