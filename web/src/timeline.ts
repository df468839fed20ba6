// The message list: ordered by id, each id shown once, grouped by author.
import type { Message } from "./api";
import { avatar, clockTime, dayLabel, el, fullTime, hue } from "./dom";

/** Consecutive messages of one author closer than this share one header. */
const GROUP_MS = 5 * 60_000;

export class Timeline {
  private readonly ids = new Set<number>();
  /** Whether older messages exist on the server. */
  more = false;

  /** Whether the reader is at the bottom, following new messages. */
  private pinned = true;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly scroller: HTMLElement,
  ) {
    scroller.addEventListener("scroll", () => (this.pinned = this.nearBottom()), { passive: true });
    // A phone keyboard opening, or a window resized, must not push the
    // newest messages out of view of someone who was reading them.
    new ResizeObserver(() => {
      if (this.pinned) this.toBottom();
    }).observe(scroller);
  }

  /** The newest id shown (what a reconnect asks to continue from). */
  get newest(): number | null {
    return this.edge("lastElementChild");
  }

  get oldest(): number | null {
    return this.edge("firstElementChild");
  }

  get empty(): boolean {
    return this.ids.size === 0;
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  /** Adds messages in any order, skipping ids already shown; keeps the view
   * pinned to the bottom when it was there (or when `follow`). */
  add(messages: Message[], follow = false): number {
    const fresh = messages.filter((m) => !this.ids.has(m.id)).sort((a, b) => a.id - b.id);
    if (fresh.length === 0) return 0;
    const atBottom = this.nearBottom();
    const heightBefore = this.scroller.scrollHeight;
    const topBefore = this.scroller.scrollTop;
    const oldest = this.oldest;
    let prepended = false;
    for (const m of fresh) {
      this.ids.add(m.id);
      const node = this.render(m);
      const after = this.findSuccessor(m.id);
      this.list.insertBefore(node, after);
      if (oldest !== null && m.id < oldest) prepended = true;
      this.regroup(node);
      if (node.nextElementSibling) this.regroup(node.nextElementSibling as HTMLElement);
    }
    if (prepended && !follow) {
      // Older messages went above: keep what the reader was looking at in place.
      this.scroller.scrollTop = topBefore + (this.scroller.scrollHeight - heightBefore);
    } else if (atBottom || follow) {
      this.toBottom();
    }
    return fresh.length;
  }

  /** A join/leave line at the end of the list. */
  notice(text: string, ts: number): void {
    const atBottom = this.nearBottom();
    this.list.append(
      el("li", { class: "notice" }, el("span", {}, text), " ", el("time", { datetime: new Date(ts).toISOString() }, clockTime(ts))),
    );
    if (atBottom) this.toBottom();
  }

  toBottom(): void {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  nearBottom(): boolean {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }

  private edge(which: "firstElementChild" | "lastElementChild"): number | null {
    let node = this.list[which] as HTMLElement | null;
    const step = which === "firstElementChild" ? "nextElementSibling" : "previousElementSibling";
    while (node && !node.dataset.id) node = node[step] as HTMLElement | null;
    return node ? Number(node.dataset.id) : null;
  }

  /** The first message node with a larger id (null: append at the end). */
  private findSuccessor(id: number): HTMLElement | null {
    const newest = this.newest;
    if (newest === null || id > newest) return null;
    for (const node of this.list.querySelectorAll<HTMLElement>("li.msg")) {
      if (Number(node.dataset.id) > id) return node;
    }
    return null;
  }

  private render(m: Message): HTMLLIElement {
    const time = el("time", { datetime: new Date(m.ts).toISOString(), title: fullTime(m.ts) }, clockTime(m.ts));
    return el(
      "li",
      { class: "msg", "data-id": String(m.id), "data-user": m.user.id, "data-ts": String(m.ts) },
      el("div", { class: "day-divider" }, el("span", {}, dayLabel(m.ts))),
      el(
        "div",
        { class: "msg-row" },
        avatar(m.user),
        el(
          "div",
          { class: "msg-main" },
          el(
            "div",
            { class: "msg-head" },
            el("span", { class: `author ${hue(m.user.id)}` }, m.user.name),
            " ",
            ...(m.user.bot ? [el("span", { class: "bot-badge", title: "A bot (an API key)" }, "BOT"), " "] : []),
            time,
          ),
          el("p", { class: "msg-text" }, m.message),
        ),
      ),
    );
  }

  /** Marks `node` as continuing its predecessor's group, or starting a day. */
  private regroup(node: HTMLElement): void {
    if (!node.classList.contains("msg")) return;
    const prev = node.previousElementSibling as HTMLElement | null;
    const ts = Number(node.dataset.ts);
    const prevTs = prev?.classList.contains("msg") ? Number(prev.dataset.ts) : null;
    const newDay = prevTs === null || new Date(prevTs).toDateString() !== new Date(ts).toDateString();
    const continued =
      prevTs !== null && !newDay && prev?.dataset.user === node.dataset.user && ts - prevTs < GROUP_MS;
    node.classList.toggle("continued", continued);
    node.classList.toggle("new-day", newDay && (prev !== null || !this.more));
  }
}
