/** Keeps an upstream's credentials out of what callers see (error texts can echo request headers). */

/** The secret strings among the headers sent upstream: every value, and a Bearer token alone. */
export function secretsOf(headers: Record<string, string>): string[] {
  const out: string[] = [];
  for (const value of Object.values(headers)) {
    // Short values (a project id, "json") are not worth hiding and would mangle ordinary text.
    if (value.length >= 8) out.push(value);
    const bearer = /^Bearer\s+(.+)$/i.exec(value);
    if (bearer && bearer[1]!.length >= 8) out.push(bearer[1]!);
  }
  return out.sort((a, b) => b.length - a.length);
}

export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("***");
  return out;
}
