import { describe, expect, it } from "vitest";
import { PANELS, WIDE_COLUMNS, fit, layout, type Box } from "../src/tui/view.js";

const overlaps = (a: Box, b: Box) => a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;

describe("dashboard layout", () => {
  it("at every terminal size the panels stay between header and footer and never overlap", () => {
    for (let cols = 40; cols <= 220; cols += 7) {
      for (let rows = 16; rows <= 70; rows += 3) {
        for (const content of [
          { server: 6, traffic: 5, providers: 11, routes: 2 },
          { server: 7, traffic: 11, providers: 40, routes: 30 },
        ]) {
          const boxes = layout(cols, rows, content);
          for (const name of PANELS) {
            const b = boxes[name];
            expect(b.top, `${name} at ${cols}x${rows}`).toBeGreaterThanOrEqual(1);
            expect(b.top + b.height, `${name} at ${cols}x${rows}`).toBeLessThanOrEqual(rows - 1);
            expect(b.left + b.width).toBeLessThanOrEqual(cols);
            expect(b.height).toBeGreaterThanOrEqual(3);
          }
          for (const [i, a] of PANELS.entries())
            for (const b of PANELS.slice(i + 1)) expect(overlaps(boxes[a], boxes[b]), `${a}/${b} at ${cols}x${rows}`).toBe(false);
        }
      }
    }
  });

  it("wide terminals get a grid, narrow ones a single column", () => {
    const lines = { server: 6, traffic: 5, providers: 11, routes: 4 };
    const wide = layout(WIDE_COLUMNS, 40, lines);
    expect(wide.providers.top).toBe(wide.routes.top);
    expect(wide.routes.left).toBe(WIDE_COLUMNS / 2);
    const narrow = layout(WIDE_COLUMNS - 1, 40, lines);
    expect(PANELS.map((p) => narrow[p].left)).toEqual([0, 0, 0, 0]);
    expect(narrow.routes.top).toBeGreaterThan(narrow.providers.top);
    // Enough room: every panel shows all of its lines.
    for (const p of PANELS) expect(narrow[p].height).toBeGreaterThanOrEqual(lines[p] + 2);
  });

  it("a panel too short for its text says how much is hidden", () => {
    expect(fit("a\nb\nc\nd\ne", 3)).toBe("a\nb\n... 3 more lines (enlarge the terminal)");
    expect(fit("a\nb", 3)).toBe("a\nb");
    expect(fit("a\nb\nc", 1)).toBe("a");
  });
});
