// The room page `/r/{room}`: joins over Socket.IO, shows history and live
// messages and their changes (edits, deletions, reactions), and catches up
// after a reconnect with `join {since}` (the highest `seq` seen).
import type { Socket } from "socket.io-client";
import { type Message, type Room, type User, dmTitle } from "./api";
import { byId, clockTime, el, say } from "./dom";
import { Tray, Viewer } from "./files";
import { type DeletedNotice, Manage, type TopicNotice } from "./manage";
import { Moderation, type ModerationNotice, type Standing } from "./moderation";
import { MentionPicker } from "./mentions";
import { Presence } from "./presence";
import { Search } from "./search";
import { initPermissionButton, isMuted, notify, setMuted, supported } from "./notify";
import { YourRooms } from "./rooms";
import { Ack, call, connect } from "./socket";
import { type MessageActions, Timeline } from "./timeline";

type JoinAck = { ok: true; room: Room; history: Message[]; more: boolean; online: User[] } & Standing;
type Event = { room: string; user: User; ts: number; reason?: string };
/** A big room's joins and leaves of a moment, in order (docs/protocol.md `presence`). */
type PresenceBatch = { room: string; changes: { user: User; joined: boolean }[]; ts: number };

/** At most one `typing` signal per this many ms while someone types. */
const TYPING_EVERY_MS = 2_000;

class RoomPage {
  private readonly socket: Socket;
  private readonly timeline: Timeline;
  private readonly presence: Presence;
  private readonly input = byId<HTMLTextAreaElement>("message");
  private readonly send = byId<HTMLButtonElement>("send");
  private readonly conn = byId("conn");
  private readonly error = byId("room-error");
  private readonly state = byId("composer-state");
  private readonly moderation: Moderation;
  private readonly manage: Manage;
  private readonly picker: MentionPicker;
  /** The files about to go with the next message. */
  private readonly tray: Tray;
  /** Unix ms until which slow mode holds our next message back. */
  private slowUntil = 0;
  private stateTimer = 0;
  private joined = false;
  private loadingOlder = false;
  private lastTyping = 0;
  private unread = 0;
  private readonly rooms: YourRooms;
  /** How far this room is read (the server's, or what this page sent). */
  private readUpTo = 0;
  private readTimer = 0;
  /** The person said to create the room if it does not exist. */
  private create = false;
  /** Who this page has said joined. */
  private readonly announced = new Set<string>();
  /** The message the next one answers, shown above the composer. */
  private replyTo: Message | null = null;
  /** Counts the joins begun: one overtaken by a switch of room stops. */
  private generation = 0;
  /** A message to show once the room being opened has joined (a search result). */
  private jumpTo: number | null = null;
  /** What was typed and not sent in each room this page showed. */
  private readonly drafts = new Map<string, string>();

  constructor(
    private room: string,
    private readonly me: User,
  ) {
    this.timeline = new Timeline(byId<HTMLOListElement>("messages"), byId("timeline"));
    this.timeline.actions = this.actions();
    this.timeline.viewer = new Viewer();
    this.tray = new Tray(room, () => this.joined && !this.moderation.muted);
    this.tray.onChange = () => this.updateSend();
    this.socket = connect();
    this.rooms = new YourRooms(this.socket, byId("nav-rooms"), byId("nav-dms"), room, me.id);
    this.rooms.onChange = () => {
      const count = byId("back-count");
      count.textContent = this.rooms.total > 99 ? "99+" : String(this.rooms.total);
      count.hidden = this.rooms.total === 0;
      const here = this.rooms.get(this.room);
      const listed = here?.member === true;
      byId("leave-room").hidden = !listed;
      this.label();
    };
    this.moderation = new Moderation(this.socket, room, me, (text) => say(this.error, text));
    this.manage = new Manage(this.socket, me, () => this.moderation.moderates);
    this.presence = new Presence(me, byId("people"), byId("online-count"), byId("typing"), (u) =>
      this.moderation.decorate(u),
    );
    this.picker = new MentionPicker(this.input, byId("mention-list"), () => [
      ...(this.rooms.get(this.room)?.people ?? []),
      ...this.presence.users(),
      ...this.manage.users(),
    ], me.id);
    this.wireSocket();
    this.wireComposer();
    this.wireScrollBack();
    this.wirePeopleToggle();
    this.wireLeave();
    this.wireNotifications();
    this.wireSwitching();
    new Search(this.socket, (room, id) => void this.openAt(room, id), () => this.room, () => this.showNav(false));
    // Opened from a search in the lobby: `/r/ROOM#m=ID` shows message ID.
    const wanted = /^#m=(\d+)$/.exec(window.location.hash);
    if (wanted) {
      this.jumpTo = Number(wanted[1]);
      window.history.replaceState({ room: this.room }, "", window.location.pathname);
    }
    this.label();
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) {
        this.setUnread(0);
        this.markRead();
      }
    });
    byId("timeline").addEventListener("scroll", () => this.markRead(), { passive: true });
    this.socket.connect();
  }

  /** The room's name wherever the page shows it: `#name`, or a
   * conversation's people (not its hashed name). */
  private label(): void {
    const here = this.rooms.get(this.room);
    const dm = here?.people !== undefined;
    const title = here?.people ? dmTitle(here, this.me.id) : `#${this.room}`;
    byId("room-name").textContent = title;
    byId("history-start").textContent = `This is the start of ${title}`;
    byId("messages-log").setAttribute("aria-label", `Messages in ${title}`);
    byId("message-label").textContent = `Message ${title}`;
    if (!this.moderation.muted) this.input.placeholder = `Message ${title}`;
    byId("leave-room").textContent = dm ? "Leave this conversation" : `Leave ${title}`;
    byId("leave-hint").textContent = dm
      ? "The conversation leaves your list on all your devices."
      : `${title} leaves your rooms on all your devices. You can join a public room again.`;
    const tab = `${title} · roomcast`;
    if (this.rooms.title !== tab) {
      this.rooms.title = tab;
      this.rooms.retitle();
    }
  }

  /** Rooms open in this page over its one socket: a click in the list
   * (not one asking for a new tab) and the browser's back and forward. */
  private wireSwitching(): void {
    for (const list of [byId("nav-rooms"), byId("nav-dms")]) {
      list.addEventListener("click", (event) => {
        const link = (event.target as HTMLElement).closest<HTMLAnchorElement>("a[data-room]");
        if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        this.showNav(false);
        void this.switchTo(link.dataset.room ?? "", true);
      });
    }
    const toggle = byId<HTMLButtonElement>("nav-toggle");
    toggle.addEventListener("click", () => this.showNav(toggle.getAttribute("aria-expanded") !== "true"));
    byId("rooms-nav").addEventListener("keydown", (event) => {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        this.showNav(false);
        toggle.focus();
      }
    });
    window.history.replaceState({ room: this.room }, "");
    window.addEventListener("popstate", (event) => {
      const room = (event.state as { room?: string } | null)?.room;
      if (room) void this.switchTo(room, false);
    });
  }

  /** Leaves the room shown and opens `room` in its place. */
  private async switchTo(room: string, push: boolean): Promise<void> {
    if (!room || room === this.room) return;
    const old = this.room;
    this.generation += 1;
    this.drafts.set(old, this.input.value);
    // The socket's `leave`, not `leave_room`: the room stays in the list
    // (and its `activity` comes again, docs/protocol.md §4).
    if (this.socket.connected) this.socket.emit("leave", { room: old });
    this.room = room;
    this.moderation.room = room;
    this.joined = false;
    this.create = false;
    this.readUpTo = 0;
    this.slowUntil = 0;
    this.manage.hide();
    this.announced.clear();
    this.timeline.clear();
    this.presence.reset([]);
    this.presence.clearTyping();
    this.setReply(null);
    this.setUnread(0);
    byId("jump").hidden = true;
    byId("load-older").hidden = true;
    byId("history-start").hidden = true;
    byId("room-visibility").hidden = true;
    byId<HTMLInputElement>("notify-room").checked = !isMuted(room);
    say(this.error, "");
    this.input.value = this.drafts.get(room) ?? "";
    this.tray.switchTo(room);
    this.autosize();
    if (push) window.history.pushState({ room }, "", `/r/${encodeURIComponent(room)}`);
    this.rooms.setCurrent(room, this.rooms.title);
    this.label();
    this.updateSend();
    if (this.socket.connected) await this.join();
  }

  /** Opens `room` (switching to it if need be) at message `id`. */
  private async openAt(room: string, id: number): Promise<void> {
    this.showNav(false);
    if (room !== this.room) {
      this.jumpTo = id;
      await this.switchTo(room, true);
    } else {
      await this.reveal(id);
    }
  }

  /** Loads older pages until message `id` is shown (the history is one
   * run from the newest back), then scrolls to it. */
  private async reveal(id: number): Promise<void> {
    const generation = this.generation;
    for (let step = 0; step < 400 && !this.timeline.has(id) && this.timeline.more; step++) {
      if (this.loadingOlder) await new Promise((r) => window.setTimeout(r, 50));
      else await this.loadOlder();
      if (generation !== this.generation) return;
    }
    if (!this.timeline.reveal(id)) say(this.error, "That message is no longer there.");
  }

  /** On a phone the list of rooms is a drawer. */
  private showNav(open: boolean): void {
    byId("rooms-nav").classList.toggle("open", open);
    byId("nav-toggle").setAttribute("aria-expanded", String(open));
  }

  private setUnread(n: number): void {
    this.unread = n;
    this.rooms.titleExtra = n;
    this.rooms.retitle();
  }

  /** Reads the room up to the newest message once it is seen: the tab
   * visible and the view at the bottom. Coalesced: one `read` a moment. */
  private markRead(): void {
    window.clearTimeout(this.readTimer);
    this.readTimer = window.setTimeout(() => {
      const newest = this.timeline.newest;
      if (!this.joined || newest === null || newest <= this.readUpTo) return;
      if (document.hidden || !this.timeline.nearBottom()) return;
      this.readUpTo = newest;
      this.rooms.readHere(newest);
      void call(this.socket, "read", { room: this.room, id: newest }).then((ack) => {
        if (ack.ok) this.readUpTo = Math.max(this.readUpTo, Number(ack.id));
      });
    }, 300);
  }

  /** The permission button, and muting this room's notifications. */
  private wireNotifications(): void {
    initPermissionButton(byId<HTMLButtonElement>("notify-on"));
    const mute = byId<HTMLInputElement>("notify-room");
    byId("notify-room-row").hidden = !supported();
    mute.checked = !isMuted(this.room);
    mute.addEventListener("change", () => setMuted(this.room, !mute.checked));
  }

  /** "Leave #room", then an in-page "Leave / Stay" (no browser dialog). */
  private wireLeave(): void {
    const button = byId<HTMLButtonElement>("leave-room");
    const confirm = byId("leave-confirm");
    const ask = (open: boolean) => {
      confirm.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
    };
    button.addEventListener("click", () => ask(confirm.hidden));
    byId("leave-no").addEventListener("click", () => {
      ask(false);
      button.focus();
    });
    byId("leave-yes").addEventListener("click", async () => {
      ask(false);
      const ack = await call(this.socket, "leave_room", { room: this.room });
      if (ack.ok) window.location.assign("/");
      else say(this.error, `Not done: ${ack.message}`);
    });
  }

  private setState(state: "connecting" | "online" | "reconnecting" | "offline", text: string): void {
    this.conn.dataset.state = state;
    this.conn.textContent = text;
  }

  private wireSocket(): void {
    const s = this.socket;
    s.on("connect", () => void this.join());
    s.on("disconnect", () => {
      this.joined = false;
      this.presence.clearTyping();
      this.updateSend();
      this.setState("reconnecting", "Reconnecting…");
    });
    s.io.on("reconnect_attempt", (n: number) => this.setState("reconnecting", `Reconnecting… (attempt ${n})`));
    s.on("connect_error", (err: Error) => {
      // The code, then why (docs/protocol.md §2): every kind means log in again.
      if (err.message.startsWith("unauthorized")) {
        window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
      } else {
        this.setState("offline", "Offline, retrying…");
      }
    });
    s.on("chat", (m: Message) => {
      if (m.room !== this.room) return;
      const added = this.timeline.add([m], m.user.id === this.me.id);
      if (added && document.hidden) this.setUnread(this.unread + 1);
      if (m.user.id !== this.me.id && (m.mentions?.includes(this.me.id) || this.rooms.get(this.room)?.people)) {
        notify(this.room, m.mentions?.includes(this.me.id) ? `${m.user.name} mentioned you` : m.user.name, m.message || (m.files?.length ? `sent ${m.files.length === 1 ? "a file" : `${m.files.length} files`}` : ""));
      }
      // Posting reads the room up to one's own message (the server's rule).
      if (m.user.id === this.me.id) this.readUpTo = Math.max(this.readUpTo, m.id);
      this.markRead();
      // Reading older messages: say new ones came rather than yank the view.
      if (added && !this.timeline.nearBottom()) byId("jump").hidden = false;
      this.presence.stopTyping(m.user.id);
    });
    // A change carries the whole message: replace the one of its id.
    for (const event of ["edit", "delete", "reaction"]) {
      s.on(event, (m: Message) => {
        if (m.room !== this.room) return;
        this.timeline.add([m]);
        if (event === "delete" && this.replyTo?.id === m.id) this.setReply(null);
      });
    }
    s.on("join", (e: Event) => {
      if (e.room !== this.room) return;
      const known = this.presence.has(e.user.id) || this.announced.has(e.user.id);
      this.presence.joined(e.user);
      if (!this.manage.isMember(e.user.id)) this.manage.soon();
      // Not again for someone already said to be here: a reconnect after a
      // restart of the server is no news.
      if (e.user.id !== this.me.id && !known) this.timeline.notice(`${e.user.name} joined`, e.ts);
      this.announced.add(e.user.id);
    });
    s.on("leave", (e: Event) => {
      if (e.room !== this.room) return;
      if (e.reason === "removed" && e.user.id === this.me.id) return this.removed();
      if (e.reason === "banned" && e.user.id === this.me.id) return this.removed("banned");
      this.presence.left(e.user);
      if (e.reason) this.manage.soon();
      if (e.user.id !== this.me.id && !this.presence.has(e.user.id) && this.announced.delete(e.user.id)) {
        this.timeline.notice(`${e.user.name} left`, e.ts);
      }
    });
    // A big room's comings and goings: the online list follows them, and
    // the timeline does not announce each of hundreds of people.
    s.on("presence", (b: PresenceBatch) => {
      if (b.room !== this.room) return;
      this.presence.changed(b.changes);
      const come = b.changes.filter((c) => c.joined);
      for (const c of come) this.announced.add(c.user.id);
      if (come.some((c) => !this.manage.isMember(c.user.id))) this.manage.soon();
    });
    s.on("moderation", (n: ModerationNotice) => {
      if (n.room !== this.room) return;
      this.moderation.apply(n);
      this.manage.soon();
      this.presence.refresh();
      this.timeline.notice(this.moderation.describe(n, (id) => this.presence.nameOf(id)), n.ts);
      this.updateSend();
    });
    s.on("topic", (n: TopicNotice) => {
      if (n.room === this.room) this.timeline.notice(this.manage.topicChanged(n), n.ts);
    });
    s.on("room_deleted", (n: DeletedNotice) => {
      if (n.room === this.room) this.deleted(n);
    });
    s.on("typing", (e: { room: string; user: User }) => {
      if (e.room === this.room) this.presence.typing(e.user);
    });
  }

  /** Joins (first time: the latest page; after a reconnect: everything
   * after the newest id shown, page by page), so nothing is missed. */
  private async join(): Promise<void> {
    const generation = this.generation;
    const room = this.room;
    this.setState("connecting", "Joining…");
    const first = this.timeline.empty;
    // The list first: the read position from before this visit.
    await this.rooms.refresh();
    if (generation !== this.generation) return;
    const before = this.rooms.get(room);
    if (before?.read !== undefined) this.readUpTo = Math.max(this.readUpTo, before.read);
    let ack = await call(this.socket, "join", this.joinPayload());
    // Another room was opened meanwhile: this answer is not for the page.
    if (generation !== this.generation) return;
    const restore = this.quietly();
    while (ack.ok) {
      const j = ack as JoinAck;
      // Before the history is drawn: owners and moderators see delete on every message.
      this.moderation.reset(j.room.owner, j);
      if (first) this.timeline.more = j.more;
      // A catch-up may bring an old message that changed: one older than
      // the history shown comes, as it is now, when scrolling back.
      const oldest = this.timeline.oldest;
      const shown = first || !this.timeline.more || oldest === null
        ? j.history
        : j.history.filter((m) => m.id > oldest || this.timeline.has(m.id));
      this.timeline.add(shown, first);
      this.presence.reset(j.online, j.room.online);
      for (const u of j.online) this.announced.add(u.id);
      this.showRoom(j.room);
      this.manage.show({
        room,
        owner: j.room.owner,
        visibility: j.room.visibility,
        topic: j.room.topic ?? "",
        dm: this.rooms.get(room)?.people !== undefined || j.room.owner === "@dm",
      });
      // With `since`, `more` means newer messages remain beyond this page.
      if (first || !j.more) break;
      ack = await call(this.socket, "join", this.joinPayload());
      if (generation !== this.generation) return restore();
    }
    restore();
    if (!ack.ok) return this.refused(ack);
    say(this.error, "");
    this.joined = true;
    if (first && before?.read !== undefined) this.timeline.markNew(before.read, this.me.id);
    // Joining may have put the room in the list.
    if (!before?.member) void this.rooms.refresh();
    this.markRead();
    this.updateSend();
    if (first && document.activeElement === document.body) this.input.focus();
    this.setState("online", "Connected");
    this.maybeLoadOlder();
    const jump = this.jumpTo;
    this.jumpTo = null;
    if (jump !== null) await this.reveal(jump);
  }

  /** After a reconnect, everything created or changed after the highest
   * stream position seen (docs/protocol.md §4). */
  private joinPayload(): { room: string; since?: number; create: boolean } {
    const create = this.create;
    return this.timeline.empty
      ? { room: this.room, create }
      : { room: this.room, since: this.timeline.maxSeq, create };
  }

  /** What the message menus do. */
  private actions(): MessageActions {
    const room = this.room;
    const change = async (event: string, payload: Record<string, unknown>): Promise<boolean> => {
      const ack = await call(this.socket, event, { room, ...payload });
      if (!ack.ok) say(this.error, `Not done: ${ack.message}`);
      else say(this.error, "");
      return ack.ok;
    };
    return {
      me: this.me.id,
      canModerate: () => this.moderation.moderates,
      react: (m, emoji, add) => void change(add ? "react" : "unreact", { id: m.id, emoji }),
      reply: (m) => this.setReply(m),
      edit: (m, text) => change("edit", { id: m.id, message: text }),
      remove: (m) => void change("delete", { id: m.id }),
    };
  }

  /** Shows (or, with null, hides) the quote above the composer. */
  private setReply(m: Message | null): void {
    this.replyTo = m;
    const bar = byId("reply-bar");
    bar.hidden = m === null;
    if (m) {
      byId("reply-author").textContent = m.user.name;
      byId("reply-text").textContent = [...m.message].slice(0, 100).join("");
      this.input.focus();
    }
  }

  /** Silences the message log while a page of history goes in, so screen
   * readers announce live messages, not fifty old ones at once. */
  private quietly(): () => void {
    const list = byId("messages-log");
    list.setAttribute("aria-live", "off");
    return () => window.setTimeout(() => list.setAttribute("aria-live", "polite"), 0);
  }

  /** The owner removed us, or a moderator banned us: this socket is out of the room for good. */
  private removed(how: "removed" | "banned" = "removed"): void {
    this.joined = false;
    this.updateSend();
    this.presence.reset([]);
    this.manage.hide();
    say(this.error, `You were ${how} from #${this.room}.`);
    this.setState("offline", "Not joined");
  }

  private refused(ack: Extract<Ack, { ok: false }>): void {
    const text =
      ack.error === "forbidden"
        ? ack.message.includes("banned")
          ? `You are banned from #${this.room}.`
          : `#${this.room} is private. Ask its owner to invite you.`
        : ack.error === "not_found"
          ? `#${this.room} does not exist. Create it?`
          : ack.message;
    const missing = ack.error === "not_found";
    const generation = this.generation;
    const retry = el(
      "button",
      { type: "button", class: missing ? "primary small" : "ghost small" },
      missing ? `Create #${this.room}` : "Try again",
    );
    retry.addEventListener("click", () => {
      if (generation !== this.generation) return;
      if (missing) this.create = true;
      void this.join();
    });
    this.error.replaceChildren(el("span", {}, text), " ", retry);
    this.error.hidden = false;
    this.setState("offline", "Not joined");
  }

  private showRoom(room: Room): void {
    const badge = byId("room-visibility");
    badge.textContent = room.visibility;
    badge.hidden = room.visibility !== "private";
  }

  /** The owner deleted the room: it is gone for everyone. */
  private deleted(n: DeletedNotice): void {
    this.joined = false;
    this.updateSend();
    this.presence.reset([]);
    this.manage.hide();
    const who = n.by.id === this.me.id ? "You" : n.by.name;
    this.error.replaceChildren(
      el("span", {}, `${who} deleted #${n.room}.`),
      " ",
      el("a", { href: "/" }, "All rooms"),
    );
    this.error.hidden = false;
    this.setState("offline", "Not joined");
  }

  private wireComposer(): void {
    const form = byId<HTMLFormElement>("composer");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.sendMessage();
    });
    this.input.addEventListener("keydown", (event) => {
      // The list of people to mention takes its keys first.
      if (this.picker.key(event)) {
        event.preventDefault();
        return;
      }
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void this.sendMessage();
      } else if (event.key === "ArrowUp" && this.input.value === "" && this.timeline.editLast()) {
        event.preventDefault();
      } else if (event.key === "Escape" && this.replyTo) {
        event.preventDefault();
        this.setReply(null);
      }
    });
    byId("reply-cancel").addEventListener("click", () => {
      this.setReply(null);
      this.input.focus();
    });
    this.input.addEventListener("input", () => {
      this.updateSend();
      this.autosize();
      const now = Date.now();
      if (this.joined && this.input.value.trim() && now - this.lastTyping > TYPING_EVERY_MS) {
        this.lastTyping = now;
        this.socket.emit("typing", { room: this.room });
      }
    });
  }

  /** The composer follows where we stand: muted (until when), slow mode (and the wait). */
  private updateSend(): void {
    const now = Date.now();
    const muted = this.joined && this.moderation.muted;
    const waiting = this.joined && this.moderation.slowed && this.slowUntil > now;
    this.input.disabled = !this.joined || muted;
    byId<HTMLButtonElement>("attach").disabled = !this.joined || muted;
    // A message may be files alone; it waits until every upload is stored.
    const empty = this.input.value.trim() === "" && this.tray.ids.length === 0;
    this.send.disabled = !this.joined || muted || waiting || empty || this.tray.busy;
    let text = "";
    if (muted) text = `You are muted until ${clockTime(this.moderation.mutedUntil)}.`;
    else if (waiting) text = `Slow mode: you can send again in ${Math.ceil((this.slowUntil - now) / 1000)} s.`;
    else if (this.joined && this.tray.busy) text = "Uploading… the message can go once the files are stored.";
    else if (this.joined && this.moderation.slowMode > 0) text = `Slow mode: one message every ${this.moderation.slowMode} s.`;
    say(this.state, text);
    if (muted) this.input.placeholder = "You are muted";
    else this.label();
    // Check again when a mute or a wait runs out.
    window.clearTimeout(this.stateTimer);
    const next = muted ? this.moderation.mutedUntil - now : waiting ? Math.min(1_000, this.slowUntil - now) : 0;
    if (next > 0) this.stateTimer = window.setTimeout(() => this.updateSend(), next + 50);
  }

  private autosize(): void {
    // CSSOM writes are allowed by the CSP (only inline style attributes are not).
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 200)}px`;
  }

  private async sendMessage(): Promise<void> {
    const text = this.input.value.trim();
    const files = this.tray.ids;
    if ((!text && files.length === 0) || !this.joined || this.tray.busy) return;
    this.input.value = "";
    this.lastTyping = 0;
    this.updateSend();
    this.autosize();
    const reply = this.replyTo;
    this.setReply(null);
    const payload: { room: string; message: string; reply_to?: number; files?: string[] } = { room: this.room, message: text };
    if (reply) payload.reply_to = reply.id;
    if (files.length) payload.files = files;
    const ack = await call(this.socket, "chat", payload);
    if (!ack.ok) {
      if (reply) this.setReply(reply);
      // Give the text back rather than lose it.
      if (this.input.value === "") this.input.value = text;
      if (ack.error === "muted" && ack.until) this.moderation.mutedUntil = ack.until;
      if (ack.error === "rate_limited" && ack.retry_after_ms) this.slowUntil = Date.now() + ack.retry_after_ms;
      this.updateSend();
      const shown = ack.error === "muted" || ack.retry_after_ms !== undefined;
      say(this.error, shown ? "" : `Not sent: ${ack.message}`);
    } else {
      this.tray.sent(payload.room, files);
      if (this.moderation.slowed) this.slowUntil = Date.now() + this.moderation.slowMode * 1000;
      this.updateSend();
      say(this.error, "");
    }
  }

  private wireScrollBack(): void {
    const jump = byId<HTMLButtonElement>("jump");
    jump.addEventListener("click", () => {
      this.timeline.toBottom();
      jump.hidden = true;
      this.input.focus();
    });
    byId("timeline").addEventListener("scroll", () => {
      if (!jump.hidden && this.timeline.nearBottom()) jump.hidden = true;
    }, { passive: true });
    const top = byId("history-top");
    const button = byId<HTMLButtonElement>("load-older");
    button.addEventListener("click", () => void this.loadOlder());
    const seen = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void this.loadOlder();
    }, { root: byId("timeline") });
    seen.observe(top);
  }

  private maybeLoadOlder(): void {
    byId("load-older").hidden = !this.timeline.more;
    byId("history-start").hidden = this.timeline.more || this.timeline.empty;
    // A short page leaves nothing to scroll, so the reader could never reach the top.
    const scroller = byId("timeline");
    if (this.timeline.more && scroller.scrollHeight <= scroller.clientHeight) void this.loadOlder();
  }

  /** One `history` page before the oldest message shown. */
  private async loadOlder(): Promise<void> {
    const before = this.timeline.oldest;
    if (!this.joined || this.loadingOlder || !this.timeline.more || before === null) return;
    this.loadingOlder = true;
    const ack = await call(this.socket, "history", { room: this.room, before, limit: 50 });
    this.loadingOlder = false;
    if (!ack.ok) return;
    this.timeline.more = ack.more as boolean;
    const restore = this.quietly();
    this.timeline.add(ack.messages as Message[], false, false);
    restore();
    this.maybeLoadOlder();
  }

  private wirePeopleToggle(): void {
    const toggle = byId<HTMLButtonElement>("people-toggle");
    const sidebar = byId("sidebar");
    const show = (open: boolean) => {
      toggle.setAttribute("aria-expanded", String(open));
      sidebar.classList.toggle("open", open);
    };
    toggle.addEventListener("click", () => show(toggle.getAttribute("aria-expanded") !== "true"));
    sidebar.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && sidebar.classList.contains("open")) {
        show(false);
        toggle.focus();
      }
    });
  }
}

export function initRoom(): void {
  const data = document.body.dataset;
  const me = { id: data.userId ?? "", name: data.userName ?? "" };
  new RoomPage(data.room ?? "", me);
}
