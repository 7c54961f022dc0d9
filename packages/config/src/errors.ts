import { closest, distance } from "fastest-levenshtein";

export type PathSegment = string | number;

/** One problem a user can fix, located in their file when possible. */
export interface ConfigIssue {
  /** Dotted path of the field, e.g. `models.smart.endpoints[1].provider`. */
  path: string;
  message: string;
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
}

/**
 * The error of @bitrouter/config. Its message lists every issue as
 * `file:line:col: path.to.field: message`. Issue messages never contain secret values.
 */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(formatIssues(issues));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  let where = "";
  if (issue.file !== undefined) {
    where = issue.file;
    if (issue.line !== undefined) where += `:${issue.line}:${issue.column ?? 1}`;
    where += ": ";
  }
  return `${where}${issue.path === "" ? "(root)" : issue.path}: ${issue.message}`;
}

function formatIssues(issues: ConfigIssue[]): string {
  const head = issues.length === 1 ? "Invalid configuration:" : `Invalid configuration (${issues.length} problems):`;
  return [head, ...issues.map((issue) => `  ${formatIssue(issue)}`)].join("\n");
}

/** `["models", "smart", "endpoints", 1, "provider"]` -> `models.smart.endpoints[1].provider`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The nearest candidate to a misspelt word, if it is close enough to be a plausible typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || word === "") return undefined;
  const best = closest(word, [...candidates]);
  const limit = Math.max(2, Math.floor(word.length / 3));
  if (distance(word.toLowerCase(), best.toLowerCase()) <= limit) return best;
  // A longer or shorter spelling of a valid word ("warning" for "warn", "anthropic-v2").
  return candidates.find((c) => c.length >= 3 && (word.startsWith(c) || c.startsWith(word)));
}

/** ` (did you mean "x"?)` or an empty string. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const best = suggest(word, candidates);
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}
