// The blessed dashboard: four bordered panels, a header and a footer. Each tick fetches a snapshot,
// sets the panels' content and renders once; blessed's smart CSR repaints only changed cells, so
// the screen never flickers (no clear).
import blessed from "blessed";
import { FOOTER, PANELS, TITLES, fit, layout, panelText, type PanelName } from "./view.js";
import type { Snapshot } from "./data.js";

export interface DashboardOptions {
  title: string;
  /** One poll of the server. */
  poll(): Promise<Snapshot>;
  /**
   * `r`: reload the server's configuration. `note` goes to the footer; `problems` (a failed
   * reload's whole message) is shown in a box over the panels until Esc or the next reload.
   */
  reload(): Promise<{ note: string; problems?: string }>;
  intervalMs?: number;
}

/** Runs until the user quits (q, Ctrl+C) or `stop()` is called; resolves after the screen is restored. */
export function runDashboard(options: DashboardOptions): { done: Promise<void>; stop(): void } {
  const screen = blessed.screen({
    smartCSR: true,
    title: options.title,
    warnings: false,
    autoPadding: true,
  });
  const header = blessed.box({ parent: screen, top: 0, left: 0, width: "100%", height: 1, tags: true, style: { fg: "black", bg: "cyan" } });
  const footer = blessed.box({
    parent: screen,
    bottom: 0,
    left: 0,
    width: "100%",
    height: 1,
    tags: true,
    content: FOOTER,
    style: { fg: "black", bg: "white" },
  });
  const boxes = {} as Record<PanelName, blessed.Widgets.BoxElement>;
  for (const name of PANELS) {
    boxes[name] = blessed.box({ parent: screen, label: ` ${TITLES[name]} `, border: { type: "line" }, tags: true, style: { border: { fg: "cyan" } } });
  }

  const problemsBox = blessed.box({
    parent: screen,
    label: " Reload failed: the previous configuration keeps serving ",
    border: { type: "line" },
    top: "center",
    left: "center",
    width: "90%",
    height: "shrink",
    hidden: true,
    tags: false,
    style: { border: { fg: "red" } },
  });

  let last: Snapshot | undefined;
  let note = "";
  const draw = () => {
    if (last) {
      const text = panelText(last, blessed.escape);
      const lines = Object.fromEntries(PANELS.map((n) => [n, text[n].split("\n").length])) as Record<PanelName, number>;
      const boxesAt = layout(screen.width as number, screen.height as number, lines);
      for (const name of PANELS) {
        const box = boxes[name];
        const at = boxesAt[name];
        box.top = at.top;
        box.left = at.left;
        box.width = at.width;
        box.height = at.height;
        box.setContent(fit(text[name], at.height - 2));
      }
      const clock = last.at.toISOString().slice(11, 19);
      header.setContent(` ${blessed.escape(options.title)}   ${last.status ? blessed.escape(last.status.url) : ""}   ${clock} UTC`);
    }
    footer.setContent(note ? `${FOOTER}   | ${blessed.escape(note)}` : FOOTER);
    screen.render();
  };

  let polling = false;
  const tick = async () => {
    if (polling) return; // a slow poll never piles up
    polling = true;
    try {
      last = await options.poll();
      draw();
    } finally {
      polling = false;
    }
  };

  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const timer = setInterval(() => void tick(), options.intervalMs ?? 1000);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    screen.destroy();
    resolveDone();
  };
  screen.key(["q", "C-c"], stop);
  screen.key(["r"], () => {
    note = "reloading...";
    problemsBox.hide();
    draw();
    void options.reload().then((answer) => {
      note = answer.note;
      if (answer.problems) {
        problemsBox.setContent(`${answer.problems}\n\nFix the file, then press r again. Esc closes this box.`);
        problemsBox.show();
        problemsBox.setFront();
      }
      draw();
    });
  });
  screen.key(["escape"], () => {
    problemsBox.hide();
    draw();
  });
  screen.on("resize", draw);
  draw();
  void tick();
  return { done, stop };
}
