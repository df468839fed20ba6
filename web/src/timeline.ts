// The message list: ordered by id, each id shown once (replaced whole when
// it changes), grouped by author, each with its menu of actions.
import type { Message } from "./api";
import { avatar, clockTime, dayLabel, el, fullTime, hue } from "./dom";
import { type Viewer, attachments } from "./files";
import { rendered } from "./markdown";

/** Consecutive messages of one author closer than this share one header. */
const GROUP_MS = 5 * 60_000;
/** The reactions the menu offers before any exist. */
const QUICK = ["👍", "❤️", "😂", "🎉", "😮"];
/** How long a finger rests on a message before its menu opens. */
const LONG_PRESS_MS = 450;

/** What the message menu does; the room page talks to the server. */
export interface MessageActions {
  readonly me: string;
  /** Whether the user may delete anyone's message (the room's owner). */
  canModerate(): boolean;
  react(m: Message, emoji: string, add: boolean): void;
  reply(m: Message): void;
  /** Resolves whether the edit was accepted. */
  edit(m: Message, text: string): Promise<boolean>;
  remove(m: Message): void;
}

export class Timeline {
  private readonly messages = new Map<number, Message>();
  /** The highest stream position seen: what a reconnect continues from. */
  maxSeq = 0;
  /** Set by the room page. */
  actions: MessageActions | null = null;
  /** Where an image opens larger; set by the room page. */
  viewer: Viewer | null = null;
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

  /** Forgets every message shown: another room is opening in this page. */
  clear(): void {
    this.messages.clear();
    this.maxSeq = 0;
    this.more = false;
    this.list.replaceChildren();
    this.pinned = true;
  }

  /** The newest id shown (what a reconnect asks to continue from). */
  get newest(): number | null {
    return this.edge("lastElementChild");
  }

  get oldest(): number | null {
    return this.edge("firstElementChild");
  }

  get empty(): boolean {
    return this.messages.size === 0;
  }

  has(id: number): boolean {
    return this.messages.has(id);
  }

  /** Adds messages in any order; one already shown is replaced when this
   * copy is newer (a larger `seq`). Keeps the view pinned to the bottom
   * when it was there (or when `follow`). `live`: from events or `join`
   * (not a history page), so `maxSeq` may follow. Returns how many were new. */
  add(messages: Message[], follow = false, live = true): number {
    for (const m of messages) {
      // A history page may hold a message changed after events still on
      // their way; only what the stream itself brought moves the position.
      if (live && m.seq > this.maxSeq) this.maxSeq = m.seq;
      const known = this.messages.get(m.id);
      if (known && m.seq > known.seq) this.replace(m);
    }
    const fresh = messages.filter((m) => !this.messages.has(m.id)).sort((a, b) => a.id - b.id);
    if (fresh.length === 0) return 0;
    const atBottom = this.nearBottom();
    const heightBefore = this.scroller.scrollHeight;
    const topBefore = this.scroller.scrollTop;
    const oldest = this.oldest;
    let prepended = false;
    for (const m of fresh) {
      this.messages.set(m.id, m);
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

  /** Shows `m` instead of the message of its id, and brings up to date
   * the quotes of the replies to it (docs/protocol.md §4). */
  private replace(m: Message): void {
    this.messages.set(m.id, m);
    this.rerender(m);
    for (const child of this.messages.values()) {
      if (child.reply_to?.id !== m.id) continue;
      child.reply_to = m.deleted
        ? { id: m.id, user: m.user, deleted: true }
        : { id: m.id, user: m.user, excerpt: [...m.message].slice(0, 100).join("") };
      this.rerender(child);
    }
  }

  private rerender(m: Message): void {
    const old = this.node(m.id);
    if (!old) return;
    const fresh = this.render(m);
    fresh.className = old.className;
    const hadFocus = old.contains(document.activeElement);
    old.replaceWith(fresh);
    if (hadFocus) fresh.focus();
  }

  private node(id: number): HTMLElement | null {
    return this.list.querySelector<HTMLElement>(`li.msg[data-id="${id}"]`);
  }

  /** Edits the user's last live message in place (Up in an empty composer). */
  editLast(): boolean {
    const me = this.actions?.me;
    const mine = [...this.messages.values()].filter((m) => m.user.id === me && !m.deleted);
    const last = mine.sort((a, b) => b.id - a.id)[0];
    if (!last) return false;
    this.startEdit(last);
    return true;
  }

  /** Puts a text box in place of the message's text: Enter saves, Escape cancels. */
  private startEdit(m: Message): void {
    const node = this.node(m.id);
    const text = node?.querySelector(".msg-text");
    if (!node || !text) return;
    const box = el("textarea", { class: "edit-box", rows: "2", maxlength: "4000", "aria-label": "Edit message" });
    box.value = m.message;
    const hint = el("p", { class: "edit-hint" }, "Enter saves · Escape cancels");
    text.replaceWith(box, hint);
    box.focus();
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.rerender(this.messages.get(m.id) ?? m);
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        const value = box.value.trim();
        if (!value || value === m.message) return this.rerender(this.messages.get(m.id) ?? m);
        box.disabled = true;
        void this.actions?.edit(m, value).then((ok) => {
          if (!ok) box.disabled = false;
        });
      }
    });
  }

  /** Scrolls to message `id` and marks it for a moment (a click on a
   * quote, a search result); false when it is not shown. */
  reveal(id: number): boolean {
    const target = this.node(id);
    if (!target) return false;
    this.pinned = false;
    target.scrollIntoView({ block: "center", behavior: "smooth" });
    target.classList.add("flash");
    target.focus({ preventScroll: true });
    window.setTimeout(() => target.classList.remove("flash"), 1500);
    return true;
  }

  /** Draws a "New messages" line above the first message after `read`
   * by someone other than `me`, and brings it into view. */
  markNew(read: number, me: string): void {
    this.list.querySelector(".new-line")?.remove();
    const first = [...this.messages.values()]
      .filter((m) => m.id > read && m.user.id !== me)
      .sort((a, b) => a.id - b.id)[0];
    const node = first ? this.node(first.id) : null;
    if (!node) return;
    const line = el("li", { class: "new-line" }, el("span", {}, "New messages"));
    this.list.insertBefore(line, node);
    // The first unread message starts a group of its own under the line.
    this.regroup(node);
    line.scrollIntoView({ block: "center" });
    this.pinned = this.nearBottom();
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
    const head = el(
      "div",
      { class: "msg-head" },
      el("span", { class: `author ${hue(m.user.id)}` }, m.user.name),
      " ",
      ...(m.user.bot ? [el("span", { class: "bot-badge", title: "A bot (an API key)" }, "BOT"), " "] : []),
      time,
    );
    const main = el("div", { class: "msg-main" }, head);
    if (m.reply_to) main.append(this.quote(m.reply_to));
    const text = m.deleted
      ? el("div", { class: "msg-text deleted" }, "message deleted")
      : el("div", { class: "msg-text" }, ...rendered(m.message, this.actions?.me ?? "", m.mentions ?? []));
    // A message of files alone has no text to show.
    if (!m.deleted && m.message === "" && m.files?.length) text.hidden = true;
    if (m.edited && !m.deleted) {
      // At the end of the last paragraph, not on a line of its own.
      const last = text.lastElementChild;
      const where = last?.classList.contains("md-p") ? last : text;
      where.append(" ", el("span", { class: "edited", title: `Edited ${fullTime(m.edited)}` }, "(edited)"));
    }
    main.append(text);
    if (m.files?.length && !m.deleted && this.viewer) main.append(attachments(m.files, this.viewer));
    if (m.reactions?.length) main.append(this.reactions(m));
    const node = el(
      "li",
      { class: "msg", tabindex: "0", "data-id": String(m.id), "data-user": m.user.id, "data-ts": String(m.ts) },
      el("div", { class: "day-divider" }, el("span", {}, dayLabel(m.ts))),
      el("div", { class: "msg-row" }, avatar(m.user), main),
    );
    if (!m.deleted) {
      node.append(this.menu(m));
      this.longPress(node);
    }
    return node;
  }

  private quote(r: NonNullable<Message["reply_to"]>): HTMLElement {
    // Named by what it shows (a screen reader hears "In reply to" first).
    const button = el(
      "button",
      { type: "button", class: "quote", title: "Show the message" },
      el("span", { class: "sr-only" }, "In reply to "),
      el("span", { class: "quote-author" }, r.user.name),
      " ",
      el("span", { class: r.deleted ? "quote-text deleted" : "quote-text" }, r.deleted ? "message deleted" : r.excerpt || "a file"),
    );
    button.addEventListener("click", () => this.reveal(r.id));
    return button;
  }

  private reactions(m: Message): HTMLElement {
    const me = this.actions?.me ?? "";
    const row = el("div", { class: "reactions" });
    for (const r of m.reactions ?? []) {
      const mine = r.users.includes(me);
      const others = r.count > r.users.length ? ` and ${r.count - r.users.length} more` : "";
      const button = el(
        "button",
        { type: "button", class: "reaction", "aria-pressed": String(mine), title: `${r.users.join(", ")}${others}` },
        el("span", { class: "reaction-emoji" }, r.emoji),
        " ",
        el("span", { class: "reaction-count" }, String(r.count)),
      );
      button.addEventListener("click", () => this.actions?.react(m, r.emoji, !mine));
      row.append(button);
    }
    return row;
  }

  /** The message's menu: quick reactions, reply, and edit and delete when allowed. */
  private menu(m: Message): HTMLElement {
    const a = this.actions;
    const bar = el("div", { class: "msg-actions", role: "toolbar", "aria-label": `Actions for ${m.user.name}'s message` });
    const mine = (emoji: string) => m.reactions?.some((r) => r.emoji === emoji && r.users.includes(a?.me ?? "")) ?? false;
    const button = (label: string, text: string, run: () => void, cls = "") => {
      const b = el("button", { type: "button", class: `act ${cls}`.trim(), "aria-label": label, title: label }, text);
      b.addEventListener("click", (event) => {
        event.stopPropagation();
        run();
      });
      bar.append(b);
    };
    for (const emoji of QUICK) button(`React ${emoji}`, emoji, () => a?.react(m, emoji, !mine(emoji)), "act-emoji");
    button("Reply", "Reply", () => a?.reply(m));
    if (a && m.user.id === a.me) button("Edit", "Edit", () => this.startEdit(m));
    if (a && (m.user.id === a.me || a.canModerate())) {
      button("Delete", "Delete", () => this.confirmDelete(m, bar), "act-danger");
    }
    return bar;
  }

  /** Asks in the menu itself before deleting (no browser dialog). */
  private confirmDelete(m: Message, bar: HTMLElement): void {
    const node = this.node(m.id);
    node?.classList.add("menu-open");
    const yes = el("button", { type: "button", class: "act act-danger", "data-confirm": "delete" }, "Delete");
    const no = el("button", { type: "button", class: "act" }, "Cancel");
    yes.addEventListener("click", () => this.actions?.remove(m));
    no.addEventListener("click", () => this.rerender(this.messages.get(m.id) ?? m));
    bar.replaceChildren(el("span", { class: "act-question" }, "Delete this message?"), yes, no);
    no.focus();
  }

  /** On a touch screen, a long press opens the menu (a tap elsewhere closes it). */
  private longPress(node: HTMLElement): void {
    let timer = 0;
    const cancel = () => window.clearTimeout(timer);
    node.addEventListener("touchstart", () => {
      cancel();
      timer = window.setTimeout(() => {
        for (const open of this.list.querySelectorAll(".msg.menu-open")) open.classList.remove("menu-open");
        node.classList.add("menu-open");
      }, LONG_PRESS_MS);
    }, { passive: true });
    node.addEventListener("touchend", cancel);
    node.addEventListener("touchmove", cancel, { passive: true });
  }

  /** Marks `node` as continuing its predecessor's group, or starting a day. */
  private regroup(node: HTMLElement): void {
    if (!node.classList.contains("msg")) return;
    const prev = node.previousElementSibling as HTMLElement | null;
    // The day is the previous message's, across notices and the "New
    // messages" line (each used to start a second "Today").
    let prevMsg = prev;
    while (prevMsg && !prevMsg.classList.contains("msg")) prevMsg = prevMsg.previousElementSibling as HTMLElement | null;
    const ts = Number(node.dataset.ts);
    const prevTs = prevMsg ? Number(prevMsg.dataset.ts) : null;
    const newDay = prevTs === null || new Date(prevTs).toDateString() !== new Date(ts).toDateString();
    // A notice in between starts a new group.
    const continued =
      prev === prevMsg && prevTs !== null && !newDay && prev?.dataset.user === node.dataset.user && ts - prevTs < GROUP_MS;
    node.classList.toggle("continued", continued);
    node.classList.toggle("new-day", newDay && (prevMsg !== null || !this.more));
  }
}
