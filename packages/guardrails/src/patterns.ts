/**
 * Built-in detection patterns. Every pattern is combined with the others into one alternation
 * (one regex pass per text), so they are written without flags: case-insensitive words are
 * spelled with character classes (`ci("password")`), and each pattern carries its own
 * boundaries (lookbehind/lookahead) so that it does not fire inside longer words or numbers.
 */

import type { GuardrailAction, GuardrailDirection as Direction } from "@bitrouter/core";

export interface BuiltinPattern {
  readonly name: BuiltinPatternName;
  readonly direction: Direction;
  /** The action used when the pattern is enabled and the config does not set one. */
  readonly defaultAction: GuardrailAction;
  readonly description: string;
  readonly source: string;
}

export type BuiltinPatternName = "api_keys" | "private_keys" | "credentials" | "pii_emails" | "pii_phone_numbers" | "ip_addresses" | "suspicious_commands";

/** `ci("abc")` → `[Aa][Bb][Cc]`: case-insensitive without the `i` flag (the combined regex has none). */
function ci(word: string): string {
  return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"))).join("");
}

const alt = (...parts: string[]): string => `(?:${parts.join("|")})`;

// Not preceded by a key character, so "task-force" never starts an `sk-` key.
const KEY_START = "(?<![A-Za-z0-9_-])";

const API_KEYS =
  KEY_START +
  alt(
    // Anthropic (before OpenAI: both start with sk-)
    "sk-ant-[a-z]+[0-9]{2}-[A-Za-z0-9_-]{20,}",
    // OpenAI: legacy sk-…, project sk-proj-…, service account / admin keys; at least one digit
    "sk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}",
    // AWS access key ids (long-term AKIA, temporary ASIA)
    "(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Za-z])",
    // Google API keys
    "AIza[0-9A-Za-z_-]{35}",
    // GitHub classic and fine-grained tokens
    "gh[pousr]_[A-Za-z0-9]{36,}",
    "github_pat_[A-Za-z0-9_]{22,}",
    // Stripe secret / publishable / restricted keys
    "(?:sk|pk|rk)_(?:test|live)_[A-Za-z0-9]{16,}",
  );

const PEM_LABEL = "(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?";
// Body characters: base64, whitespace and RFC 1421 headers (Proc-Type: 4,ENCRYPTED). A body never
// runs into the next BEGIN line, so many unterminated headers cannot make the scan quadratic.
const PEM_BODY = "(?:(?!-----BEGIN )[A-Za-z0-9+/=\\s:,-])";
// A whole PEM block; a block cut off before its END line is matched through its body.
const PRIVATE_KEYS = `-----BEGIN ${PEM_LABEL}-----` + alt(`${PEM_BODY}*?-----END ${PEM_LABEL}-----`, `${PEM_BODY}*`);

const SECRET_WORD = alt(
  ci("password"),
  ci("passwd"),
  ci("pwd"),
  ci("passphrase"),
  ci("secret"),
  ci("token"),
  `${ci("api")}[_-]?${ci("key")}`,
  `${ci("access")}[_-]?${ci("key")}`,
  `${ci("private")}[_-]?${ci("key")}`,
);
// Quoted literal, or an unquoted value of 6+ characters with a digit or symbol in it: code such
// as `token = getToken()` or `password = user.password` is not a secret.
const SECRET_VALUE = alt(`"[^"\\s]{4,}"`, `'[^'\\s]{4,}'`, "(?=[^\\s\"'`,;(){}\\[\\]<>]*[0-9!@#$%^&*+/=])[^\\s\"'`,;(){}\\[\\]<>]{6,}(?![\\w(])");
const CREDENTIALS = alt(
  // password: hunter22, DB_PASSWORD="…", "client_secret": "…" (the match starts at the secret word)
  `(?<![A-Za-z0-9])${SECRET_WORD}(?:[_-][A-Za-z0-9]+)*["']?[ \\t]*[:=][ \\t]*${SECRET_VALUE}`,
  // Authorization: Basic …, Proxy-Authorization: Bearer …
  `(?<![A-Za-z0-9-])(?:${ci("proxy")}-)?${ci("authorization")}["']?[ \\t]*:[ \\t]*["']?(?:${ci("basic")}|${ci("bearer")})[ \\t]+[A-Za-z0-9._~+/-]{8,}=*`,
  // URLs with a password: postgres://user:pass@host, https://user:pass@host
  "(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\\s:/@\"'<>]+:[^\\s@/\"'<>]+@[^\\s/\"'<>]+",
  // JSON Web Tokens
  "(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}",
);

// The local part is matched atomically (lookahead + backreference): without it, every word of
// prose is re-tried at each shorter length before the missing "@" fails it.
const PII_EMAILS =
  "(?<![A-Za-z0-9._%+-])(?=(?<email_local>[A-Za-z0-9._%+-]+))\\k<email_local>@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}(?![A-Za-z0-9-])";

// Phone numbers: international with a leading + (E.164 style, spaced or dashed), or North American
// (555) 123-4567 / 555-123-4567 / 555.123.4567. Dates, versions, UUIDs and IPs do not have these shapes,
// and the boundaries keep it from firing inside longer digit/hex runs.
const PHONE_START = "(?<![\\w.+/:-])";
const PHONE_END = "(?![\\w/:-]|[.-]\\d)";
const PII_PHONE_NUMBERS = alt(
  `${PHONE_START}\\+[1-9][0-9]{0,2}(?:[ .-]?\\([0-9]{1,4}\\))?(?:[ .-]?[0-9]{1,4})(?:[ .-]?[0-9]{2,4}){2,4}${PHONE_END}`,
  `${PHONE_START}(?:\\([0-9]{3}\\) ?|[0-9]{3}[-. ])[0-9]{3}[-. ][0-9]{4}${PHONE_END}`,
);

const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const HEX = "[0-9A-Fa-f]{1,4}";
const IP_ADDRESSES = alt(
  `(?<![\\w.])(?:${OCTET}\\.){3}${OCTET}(?![\\w]|\\.[0-9])`,
  // IPv6, full or compressed (fe80::1, 2001:db8::8a2e:370:7334). Compressed forms need a group
  // before "::" and a digit, so C++/Rust paths (abc::def) and Python slices (x[::2]) are not
  // addresses. The lookahead for "hex:" rejects ordinary words before any backtracking.
  `(?<![\\w:])(?=[0-9A-Fa-f]{1,4}:)(?:(?:${HEX}:){7}${HEX}|(?=[0-9A-Fa-f:]*[0-9])${HEX}(?::${HEX}){0,6}::(?:${HEX}(?::${HEX}){0,6})?)(?![\\w:])`,
);

// The end of a shell word: whitespace, an operator, a quote or the end of the text.
const WORD_END = "(?=$|[\\s;&|\"'`)])";
const FLAGS = "(?:-[A-Za-z]+[ \\t]+|--[a-z-]+[ \\t]+)*";
const SYSTEM_DIRS = "(?:bin|boot|dev|etc|home|lib|lib64|opt|root|sbin|srv|sys|usr|var)";
const SUSPICIOUS_COMMANDS = alt(
  // rm -rf / (and -fr, -Rf, -r -f, --recursive, --no-preserve-root), on /, /*, ~, $HOME or a system dir
  `\\brm[ \\t]+(?=${FLAGS}(?:-[A-Za-z]*[rR]|--recursive))${FLAGS}(?:/(?:${SYSTEM_DIRS}/?)?\\*?|~/?\\*?|\\$\\{?HOME\\}?/?\\*?)${WORD_END}`,
  // mkfs on a device
  `\\bmkfs(?:\\.[A-Za-z0-9]+)?[ \\t]+(?:[^\\s;&|]+[ \\t]+){0,6}?/dev/\\S+`,
  // dd writing to a device
  `\\bdd[ \\t]+(?:[^\\s;&|]+[ \\t]+){0,8}?of=/dev/(?:sd|hd|vd|xvd|nvme|mmcblk|disk|rdisk)\\w*`,
  // the classic fork bomb
  `:\\(\\)[ \\t]*\\{[ \\t]*:[ \\t]*\\|[ \\t]*:[ \\t]*&[ \\t]*\\}[ \\t]*;[ \\t]*:`,
  // chmod -R 777 /
  `\\bchmod[ \\t]+(?=${FLAGS}(?:-[A-Za-z]*R|--recursive))${FLAGS}0?777[ \\t]+${FLAGS}/\\*?${WORD_END}`,
  // curl/wget … | sh (bash, zsh, sudo sh, …)
  `\\b(?:curl|wget)\\b[^\\n|;&]{0,300}\\|[ \\t]*(?:sudo[ \\t]+(?:-\\S+[ \\t]+)*)?(?:ba|z|da|k|fi)?sh\\b`,
  // sh -c "$(curl …)" and bash <(wget …)
  `\\b(?:ba|z|da|k)?sh[ \\t]+(?:-c[ \\t]+["']?\\$\\(|<\\()[ \\t]*(?:curl|wget)\\b`,
);

export const BUILTIN_PATTERNS: readonly BuiltinPattern[] = [
  { name: "private_keys", direction: "upgoing", defaultAction: "block", description: "PEM private key blocks", source: PRIVATE_KEYS },
  {
    name: "api_keys",
    direction: "upgoing",
    defaultAction: "redact",
    description: "provider API keys (OpenAI, Anthropic, AWS, Google, GitHub, Stripe)",
    source: API_KEYS,
  },
  {
    name: "credentials",
    direction: "upgoing",
    defaultAction: "redact",
    description: "password/secret/token assignments, Authorization headers, URLs with passwords, JWTs",
    source: CREDENTIALS,
  },
  { name: "pii_emails", direction: "upgoing", defaultAction: "warn", description: "email addresses", source: PII_EMAILS },
  { name: "pii_phone_numbers", direction: "upgoing", defaultAction: "warn", description: "phone numbers", source: PII_PHONE_NUMBERS },
  { name: "ip_addresses", direction: "upgoing", defaultAction: "warn", description: "IPv4 and IPv6 addresses", source: IP_ADDRESSES },
  {
    name: "suspicious_commands",
    direction: "downgoing",
    defaultAction: "block",
    description: "destructive shell commands (rm -rf /, mkfs, dd to a device, fork bomb, chmod -R 777 /, curl | sh)",
    source: SUSPICIOUS_COMMANDS,
  },
];

export const BUILTIN_PATTERN_NAMES: readonly BuiltinPatternName[] = BUILTIN_PATTERNS.map((p) => p.name);
