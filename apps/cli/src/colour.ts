// Colour on a terminal, following the conventions: FORCE_COLOR (not "0") turns it on anywhere,
// NO_COLOR (any non-empty value) turns it off, otherwise a terminal that is not "dumb" gets it.
type Env = Record<string, string | undefined>;

export interface Paint {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

export function colourEnabled(stream: { isTTY?: boolean }, env: Env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false") return true;
  if (env.NO_COLOR) return false;
  return stream.isTTY === true && env.TERM !== "dumb";
}

const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const plain = (text: string) => text;

export const NO_PAINT: Paint = { red: plain, green: plain, yellow: plain, bold: plain, dim: plain };

export function paintFor(stream: { isTTY?: boolean }, env: Env): Paint {
  if (!colourEnabled(stream, env)) return NO_PAINT;
  return { red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), bold: sgr(1, 22), dim: sgr(2, 22) };
}
