// The small markdown subset of a message (docs/protocol.md "Web pages"):
// **bold**, *italic*, `inline code`, fenced or indented code blocks and
// > quotes. `marked`'s lexer reads the text (CommonMark's rules, so
// snake_case_names stay text); this file turns its tokens into DOM nodes
// itself, never into HTML, so nothing a message says can become markup.
// Everything outside the subset (headings, lists, raw HTML, images) shows
// as the text that was typed.
import { Lexer, type Token, type Tokens } from "marked";
import { el } from "./dom";
import { linkified, safeHref } from "./text";

/** The nodes of a message's text, block by block. */
export function rendered(text: string, me: string, mentions: string[]): Node[] {
  try {
    // gfm off: no tables, strikethrough or bare-URL tokens (`linkified`
    // finds the links in text, with its own rules).
    const tokens = Lexer.lex(text, { gfm: false, breaks: false });
    const nodes = blocks(tokens, me, mentions);
    return nodes.length ? nodes : [para(linkified(text, me, mentions))];
  } catch {
    // Whatever the lexer made of it, the text itself is always shown.
    return [para(linkified(text, me, mentions))];
  }
}

function para(children: (Node | string)[]): HTMLParagraphElement {
  return el("p", { class: "md-p" }, ...children);
}

function blocks(tokens: Token[], me: string, mentions: string[]): Node[] {
  const out: Node[] = [];
  for (const token of tokens) {
    switch (token.type) {
      case "space":
        break;
      case "paragraph":
        out.push(para(inline((token as Tokens.Paragraph).tokens, me, mentions)));
        break;
      case "blockquote":
        out.push(el("blockquote", { class: "md-quote" }, ...blocks((token as Tokens.Blockquote).tokens, me, mentions)));
        break;
      case "code":
        out.push(el("pre", { class: "md-code" }, el("code", {}, (token as Tokens.Code).text)));
        break;
      default:
        // Outside the subset: as typed, its links still links.
        out.push(para(linkified(token.raw.replace(/\n+$/, ""), me, mentions)));
    }
  }
  return out;
}

function inline(tokens: Token[] | undefined, me: string, mentions: string[]): (Node | string)[] {
  const out: (Node | string)[] = [];
  for (const token of tokens ?? []) {
    switch (token.type) {
      case "text": {
        const t = token as Tokens.Text;
        out.push(...(t.tokens ? inline(t.tokens, me, mentions) : linkified(t.text, me, mentions)));
        break;
      }
      case "escape":
        out.push((token as Tokens.Escape).text);
        break;
      case "strong":
        out.push(el("strong", {}, ...inline((token as Tokens.Strong).tokens, me, mentions)));
        break;
      case "em":
        out.push(el("em", {}, ...inline((token as Tokens.Em).tokens, me, mentions)));
        break;
      case "codespan":
        out.push(el("code", { class: "md-code-inline" }, (token as Tokens.Codespan).text));
        break;
      case "br":
        out.push(el("br"));
        break;
      case "link": {
        // `[text](https://…)` and `<https://…>`; any other scheme stays text.
        const link = token as Tokens.Link;
        const href = safeHref(link.href);
        if (href) {
          out.push(
            el("a", { href, target: "_blank", rel: "noopener noreferrer", class: "msg-link", title: href },
              ...inline(link.tokens, me, mentions)),
          );
        } else {
          out.push(...linkified(link.raw, me, mentions));
        }
        break;
      }
      default:
        // Raw HTML, images and the rest: the characters typed.
        out.push(...linkified(token.raw, me, mentions));
    }
  }
  return out;
}
