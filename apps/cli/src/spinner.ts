// A spinner for waits a user would otherwise take for a hang: shown only on a terminal, and only
// once the wait passes 300 ms (a quick answer never flickers); its line is cleared at the end.
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const DELAY_MS = 300;
const FRAME_MS = 80;

export async function withSpinner<T>(stream: { isTTY?: boolean; write(text: string): unknown }, label: string, work: Promise<T>): Promise<T> {
  if (!stream.isTTY) return work;
  let frame = 0;
  let shown = false;
  let ticker: NodeJS.Timeout | undefined;
  const start = setTimeout(() => {
    shown = true;
    const draw = () => stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label}`);
    draw();
    ticker = setInterval(draw, FRAME_MS);
  }, DELAY_MS);
  try {
    return await work;
  } finally {
    clearTimeout(start);
    if (ticker) clearInterval(ticker);
    if (shown) stream.write("\r\x1b[2K"); // erase the spinner's line
  }
}
