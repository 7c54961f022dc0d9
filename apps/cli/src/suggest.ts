// "Did you mean" for a mistyped flag: clipanion names an unknown option but not the nearest one.
import { closest, distance } from "fastest-levenshtein";

/**
 * The valid option nearest to the unknown one in clipanion's "Unsupported option name" error, from
 * the usages of the commands it considered; undefined when nothing is close.
 */
export function suggestOption(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const typed = /Unsupported option name \("([^"=]+)/.exec(error.message)?.[1];
  if (!typed) return undefined;
  const candidates = (error as { candidates?: { usage?: string }[] }).candidates ?? [];
  const names = new Set(candidates.flatMap((c) => c.usage?.match(/(?<=[[\s])--?[A-Za-z][\w-]*/g) ?? []));
  if (names.size === 0) return undefined;
  const best = closest(typed, [...names]);
  return distance(typed, best) <= Math.max(2, Math.floor(typed.length / 3)) ? best : undefined;
}
