// Searching the history of every room one may read (docs/protocol.md §4
// "Search"): the box above the list of rooms, and the results over the
// timeline, newest first, each a button that opens its room at the message.
import type { Socket } from "socket.io-client";
import type { Message } from "./api";
import { byId, clockTime, dayLabel, el, say } from "./dom";
import { call } from "./socket";

export type Hit = { message: Message; highlights: [number, number][] };

/** How many results one page asks for. */
const PAGE = 20;

/** `text` with the character ranges (code points) of `ranges` marked. */
export function marked(text: string, ranges: [number, number][]): (Node | string)[] {
  const chars = [...text];
  const out: (Node | string)[] = [];
  let at = 0;
  for (const [start, end] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (start < at || end <= start || end > chars.length) continue;
    if (start > at) out.push(chars.slice(at, start).join(""));
    out.push(el("mark", { class: "hit" }, chars.slice(start, end).join("")));
    at = end;
  }
  if (at < chars.length) out.push(chars.slice(at).join(""));
  return out;
}

export class Search {
  private readonly form = byId<HTMLFormElement>("search-form");
  private readonly input = byId<HTMLInputElement>("search-q");
  private readonly panel = byId("search-panel");
  private readonly list = byId("search-results");
  private readonly more = byId<HTMLButtonElement>("search-more");
  private readonly status = byId("search-status");
  private query = "";
  private oldest: number | null = null;
  /** Counts the searches begun: an answer overtaken by a newer one is dropped. */
  private generation = 0;

  constructor(
    private readonly socket: Socket,
    /** Opens `room` at message `id`. */
    private readonly open: (room: string, id: number) => void,
    /** The room the page shows, for "this room" searches (none in the lobby). */
    private readonly current: () => string | null,
    /** Called as the results show (the room page closes its phone drawer, which would cover them). */
    private readonly showing: () => void = () => {},
  ) {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.run(false);
    });
    this.more.addEventListener("click", () => void this.run(true));
    byId("search-close").addEventListener("click", () => this.close());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        this.close();
        this.input.focus();
      }
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.panel.hidden) this.close();
    });
  }

  close(): void {
    this.panel.hidden = true;
    this.generation += 1;
  }

  private async run(next: boolean): Promise<void> {
    const q = next ? this.query : this.input.value.trim();
    if (!q) return;
    const generation = ++this.generation;
    // The room page offers "Only this room"; the lobby has no room.
    const here = (document.getElementById("search-here") as HTMLInputElement | null)?.checked === true;
    const payload: Record<string, unknown> = { q, limit: PAGE };
    const room = this.current();
    if (here && room) payload.room = room;
    if (next && this.oldest !== null) payload.before = this.oldest;
    if (!next) {
      this.query = q;
      this.oldest = null;
      this.list.replaceChildren();
    }
    this.panel.hidden = false;
    this.showing();
    say(this.status, "Searching…");
    this.more.hidden = true;
    const ack = await call(this.socket, "search", payload);
    if (generation !== this.generation) return;
    if (!ack.ok) {
      say(this.status, ack.message);
      return;
    }
    const hits = (ack.results as Hit[]) ?? [];
    for (const hit of hits) this.list.append(this.item(hit));
    if (hits.length) this.oldest = hits[hits.length - 1].message.id;
    const shown = this.list.childElementCount;
    say(this.status, shown === 0 ? `Nothing found for “${q}”.` : `${shown}${ack.more ? "+" : ""} found for “${q}”.`);
    this.more.hidden = !ack.more;
    if (!next) (this.list.querySelector("button") as HTMLButtonElement | null)?.focus();
  }

  private item(hit: Hit): HTMLLIElement {
    const m = hit.message;
    const button = el(
      "button",
      { type: "button", class: "search-hit" },
      el(
        "span",
        { class: "search-meta" },
        el("span", { class: "search-room" }, m.room.startsWith("dm:") ? "direct message" : `#${m.room}`),
        " · ",
        el("span", { class: "search-author" }, m.user.name),
        " · ",
        el("time", { datetime: new Date(m.ts).toISOString() }, `${dayLabel(m.ts)} ${clockTime(m.ts)}`),
      ),
      el("span", { class: "search-text" }, ...marked(m.message, hit.highlights)),
    );
    button.addEventListener("click", () => {
      this.close();
      this.open(m.room, m.id);
    });
    return el("li", {}, button);
  }
}
