/**
 * A URL fit for logs, error messages and status output: its password replaced with `***`. A string
 * that does not parse as a URL is cut at the last `@` after the scheme, so a password never leaks.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === "") return url;
    u.password = "***";
    return u.toString();
  } catch {
    const at = url.lastIndexOf("@");
    const scheme = url.indexOf("://");
    if (at === -1 || scheme === -1 || at < scheme) return url;
    const userInfo = url.slice(scheme + 3, at);
    const colon = userInfo.indexOf(":");
    if (colon === -1) return url;
    return `${url.slice(0, scheme + 3)}${userInfo.slice(0, colon)}:***${url.slice(at)}`;
  }
}
