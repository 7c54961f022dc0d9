// Markdown helpers shared by the reference generators.

/** `<home>` outside a code span is an HTML tag to VitePress (Vue) and GitHub: escape it there. */
export function text(value) {
  return String(value)
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replaceAll("<", "&lt;").replaceAll(">", "&gt;")))
    .join("");
}

/** One table cell: no line breaks, pipes escaped, tags escaped outside code spans. */
export function cell(value) {
  return text(String(value).replaceAll("\n", " ").trim()).replaceAll("|", "\\|");
}
