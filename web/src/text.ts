// A message's plain text as nodes: its links and the reader's mentions.
import { el } from "./dom";

/** http(s) addresses in text; what ends a sentence is left out of them. */
const LINK = /\bhttps?:\/\/[^\s<>"]+/g;
const TRAILING = /[.,;:!?)\]}'"]+$/;

/**
 * The text of a message as nodes: text, links (only http and https, opened
 * with rel="noopener noreferrer"; a `javascript:` or any other scheme stays
 * text) and `@name` mentions of the reader highlighted. Never HTML.
 */
export function linkified(text: string, me: string, mentions: string[]): (Node | string)[] {
  const out: (Node | string)[] = [];
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    const start = match.index ?? 0;
    let url = match[0];
    const trail = url.match(TRAILING)?.[0] ?? "";
    url = url.slice(0, url.length - trail.length);
    const href = safeHref(url);
    if (!href) continue;
    if (start > at) out.push(text.slice(at, start));
    out.push(el("a", { href, target: "_blank", rel: "noopener noreferrer", class: "msg-link" }, url));
    at = start + url.length;
  }
  if (at < text.length) out.push(text.slice(at));
  // The reader's own mention stands out (the server said who is mentioned).
  if (!mentions.includes(me)) return out;
  return out.flatMap((part) => (typeof part === "string" ? highlight(part) : [part]));
}

function highlight(text: string): (Node | string)[] {
  const parts: (Node | string)[] = [];
  let at = 0;
  for (const match of text.matchAll(/(^|[^A-Za-z0-9_.@-])(@[A-Za-z0-9_.-]+)/g)) {
    const start = (match.index ?? 0) + match[1].length;
    if (start > at) parts.push(text.slice(at, start));
    parts.push(el("mark", { class: "mention" }, match[2]));
    at = start + match[2].length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

/** `url` as an absolute http(s) address, or null for anything else
 * (`javascript:`, `data:`, relative paths). */
export function safeHref(url: string): string | null {
  try {
    const href = new URL(url);
    return href.protocol === "http:" || href.protocol === "https:" ? href.href : null;
  } catch {
    return null;
  }
}
