// Your rooms, live: the list of the rooms you belong to with unread and
// mention counts (docs/protocol.md §4 "Your rooms and read state"), kept up
// to date by `activity` and `read` over the page's one socket, and the
// total in the tab title.
import type { Socket } from "socket.io-client";
import { type ListedRoom, dmTitle } from "./api";
import { el } from "./dom";
import { notify } from "./notify";
import { call } from "./socket";

type Activity = { room: string; id: number; user: { id: string; name: string }; ts: number; mention: boolean };

export class YourRooms {
  /** Every room the user can see, by name, as `rooms` answered. */
  private rooms = new Map<string, ListedRoom>();
  private refreshing = 0;
  /** The tab's title without the count (set again when the room changes). */
  title = document.title;
  /** Added to the tab title's count: the current room's unseen messages. */
  titleExtra = 0;
  /** The unread messages of the other rooms of the list. */
  total = 0;
  /** Called after each change, with the rooms of the list. */
  onChange: (mine: ListedRoom[], all: ListedRoom[]) => void = () => {};

  constructor(
    private readonly socket: Socket,
    private readonly list: HTMLElement,
    /** Where direct conversations go, apart from rooms. */
    private readonly dms: HTMLElement,
    /** The room this page shows: read as it is seen, so never badged. */
    private current: string | null,
    private readonly me: string,
  ) {
    socket.on("activity", (a: Activity) => this.activity(a));
    // Another socket of ours read: its counts are the server's to say.
    socket.on("read", () => this.soon());
    socket.on("room_deleted", () => this.soon());
    // A room put in or taken out of the list (ours, from another tab).
    socket.on("leave", (e: { room: string; user: { id: string }; reason?: string }) => {
      if (e.reason === "left" || e.reason === "removed" || e.reason === "banned") this.soon();
    });
  }

  /** The page now shows `name`. */
  setCurrent(name: string, title: string): void {
    this.current = name;
    this.title = title;
    this.render();
  }

  get(name: string): ListedRoom | undefined {
    return this.rooms.get(name);
  }

  /** Asks the server for the list and its counts. */
  async refresh(): Promise<void> {
    const ack = await call(this.socket, "rooms", {});
    if (!ack.ok) return;
    const rooms = (ack as unknown as { rooms: ListedRoom[] }).rooms;
    this.rooms = new Map(rooms.map((r) => [r.name, r]));
    this.render();
  }

  /** The current room was read up to `id` here. */
  readHere(id: number): void {
    const r = this.current === null ? undefined : this.rooms.get(this.current);
    if (!r) return;
    r.read = Math.max(r.read ?? 0, id);
    r.unread = 0;
    r.mentions = 0;
    this.render();
  }

  /** Coalesces refreshes: a burst of reads asks once. */
  private soon(): void {
    window.clearTimeout(this.refreshing);
    this.refreshing = window.setTimeout(() => void this.refresh(), 150);
  }

  private activity(a: Activity): void {
    const r = this.rooms.get(a.room);
    if (!r || !r.member) return this.soon();
    // One's own message (from another device) is read: posting reads.
    if (a.room !== this.current && a.user.id !== this.me) {
      r.unread = (r.unread ?? 0) + 1;
      if (a.mention) r.mentions = (r.mentions ?? 0) + 1;
    }
    if (a.mention || r.people) {
      const where = r.people ? "a direct message" : `#${r.name}`;
      notify(a.room, a.mention ? `${a.user.name} mentioned you` : a.user.name, `in ${where}`);
    }
    r.last = { id: a.id, user: a.user, excerpt: r.last?.excerpt ?? "", ts: a.ts };
    this.render();
    // The excerpt is the server's (it cuts the text): fetch it quietly.
    this.soon();
  }

  private render(): void {
    const mine = [...this.rooms.values()].filter((r) => r.member);
    mine.sort((a, b) => (b.last?.ts ?? 0) - (a.last?.ts ?? 0) || a.name.localeCompare(b.name));
    const rooms = mine.filter((r) => !r.people);
    const dms = mine.filter((r) => r.people);
    this.list.replaceChildren(
      ...(rooms.length
        ? rooms.map((r) => this.item(r))
        : [el("li", { class: "muted empty" }, "No rooms yet. Join one by name.")]),
    );
    this.dms.replaceChildren(
      ...(dms.length
        ? dms.map((r) => this.item(r))
        : [el("li", { class: "muted empty" }, "No conversations yet.")]),
    );
    this.list.setAttribute("aria-busy", "false");
    this.dms.setAttribute("aria-busy", "false");
    this.total = mine.reduce((n, r) => n + (r.name === this.current ? 0 : (r.unread ?? 0)), 0);
    this.retitle();
    this.onChange(mine, [...this.rooms.values()]);
  }

  /** `(N) title`, N the unread messages of the list and `titleExtra`. */
  retitle(): void {
    const n = this.total + this.titleExtra;
    document.title = n > 0 ? `(${n}) ${this.title}` : this.title;
  }

  private item(r: ListedRoom): HTMLLIElement {
    const here = r.name === this.current;
    const unread = here ? 0 : (r.unread ?? 0);
    const mentions = here ? 0 : (r.mentions ?? 0);
    const title = r.people ? dmTitle(r, this.me) : r.name;
    // The counts in words for a screen reader, after the name (the link is
    // named by its text, so what is seen is what is heard).
    const counts = [unread ? `${unread} unread` : "", mentions ? `${mentions} mentioning you` : ""]
      .filter(Boolean)
      .join(", ");
    return el(
      "li",
      {},
      el(
        "a",
        {
          class: unread ? "room-link unread" : "room-link",
          href: `/r/${encodeURIComponent(r.name)}`,
          "data-room": r.name,
          "aria-current": here ? "page" : undefined,
        },
        el("span", { class: "room-hash", "aria-hidden": "true" }, r.people ? "@" : r.visibility === "private" ? "🔒" : "#"),
        el(
          "span",
          { class: "room-link-text" },
          el("span", { class: "room-link-name" }, title),
          counts ? el("span", { class: "sr-only" }, `(${counts})`) : null,
          r.last
            ? el("span", { class: "room-last" }, `${r.last.user.name}: ${r.last.excerpt || "sent a file"}`)
            : null,
        ),
        mentions ? el("span", { class: "count mention", "aria-hidden": "true" }, `@${mentions}`) : null,
        unread ? el("span", { class: "count", "aria-hidden": "true" }, unread > 99 ? "99+" : String(unread)) : null,
      ),
    );
  }
}
