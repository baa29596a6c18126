/** Polls `condition` until it holds (true) or `timeoutMs` passes (false). */
export async function eventually(condition: () => Promise<boolean>, timeoutMs = 15_000, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
