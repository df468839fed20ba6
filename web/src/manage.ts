// A room's topic, its members and, for its owner, invitations, removals
// and deleting the room (docs/protocol.md §4 "Room topic, members, deletion"):
// the room page's "About" and "Members" panels.
import type { Socket } from "socket.io-client";
import { ApiError, type User, api } from "./api";
import { avatar, byId, el, say } from "./dom";
import type { Role } from "./moderation";
import { call } from "./socket";

export type Member = { user: User; role: Role };
export type TopicNotice = { room: string; topic: string; by: User; ts: number };
export type DeletedNotice = { room: string; by: User; ts: number };

/** What the page knows of the room being shown. */
export type Shown = {
  room: string;
  owner: string;
  visibility: "public" | "private";
  topic: string;
  dm: boolean;
};

export class Manage {
  private shown: Shown | null = null;
  private members: Member[] = [];
  private refreshTimer = 0;
  private findTimer = 0;
  private readonly topicText = byId("topic-text");
  private readonly topicForm = byId<HTMLFormElement>("topic-form");
  private readonly topicInput = byId<HTMLInputElement>("topic-input");
  private readonly topicEdit = byId<HTMLButtonElement>("topic-edit");
  private readonly headerTopic = byId("room-topic");
  private readonly list = byId("member-list");
  private readonly invite = byId<HTMLFormElement>("invite-form");
  private readonly find = byId<HTMLInputElement>("invite-find");
  private readonly found = byId("invite-found");
  private readonly note = byId("member-note");

  constructor(
    private readonly socket: Socket,
    private readonly me: User,
    /** Whether we are the room's owner or one of its moderators now. */
    private readonly moderates: () => boolean,
  ) {
    this.wireTopic();
    this.wireInvite();
    this.wireDelete();
  }

  /** A room was joined (or joined again): its truth now. */
  show(s: Shown): void {
    const changed = this.shown?.room !== s.room;
    this.shown = s;
    if (changed) {
      this.members = [];
      this.list.replaceChildren();
      this.topicForm.hidden = true;
      this.find.value = "";
      this.found.replaceChildren();
      say(this.note, "");
      byId("delete-confirm").hidden = true;
    }
    this.setTopic(s.topic);
    byId("about").hidden = false;
    byId("members").hidden = s.dm;
    this.invite.hidden = !(s.visibility === "private" && s.owner === this.me.id);
    const owner = s.owner === this.me.id && !s.dm;
    byId("delete-room").hidden = !owner;
    byId("delete-room").textContent = `Delete #${s.room}`;
    byId("delete-hint").textContent =
      `#${s.room} and all its messages go, for everyone, at once. This cannot be undone.`;
    void this.refresh();
  }

  /** Not in a room any more (switching, removed, deleted). */
  hide(): void {
    this.shown = null;
    this.headerTopic.hidden = true;
    byId("about").hidden = true;
    byId("members").hidden = true;
    byId("delete-room").hidden = true;
    byId("delete-confirm").hidden = true;
    this.invite.hidden = true;
  }

  /** Someone's role or membership may have changed: ask again, soon. */
  soon(): void {
    window.clearTimeout(this.refreshTimer);
    this.refreshTimer = window.setTimeout(() => void this.refresh(), 400);
  }

  /** The members as the page last heard them. */
  users(): User[] {
    return this.members.map((m) => m.user);
  }

  /** Whether `id` is in the member list as the page last heard it. */
  isMember(id: string): boolean {
    return this.members.some((m) => m.user.id === id);
  }

  topicChanged(n: TopicNotice): string {
    this.setTopic(n.topic);
    const who = n.by.id === this.me.id ? "You" : n.by.name;
    return n.topic ? `${who} set the topic: ${n.topic}` : `${who} cleared the topic`;
  }

  private setTopic(topic: string): void {
    if (this.shown) this.shown.topic = topic;
    this.headerTopic.textContent = topic;
    this.headerTopic.hidden = topic === "";
    this.headerTopic.title = topic;
    this.topicText.textContent = topic || "No topic yet.";
    this.topicText.classList.toggle("muted", topic === "");
    this.topicEdit.hidden = !(this.shown && (this.moderates() || this.shown.dm));
  }

  private async refresh(): Promise<void> {
    const s = this.shown;
    if (!s || s.dm) return;
    const ack = await call(this.socket, "members", { room: s.room });
    if (!ack.ok || this.shown?.room !== s.room) return;
    this.members = (ack.members as Member[]) ?? [];
    this.render(Boolean(ack.more));
  }

  private render(more: boolean): void {
    const s = this.shown;
    const mayRemove = s !== null && s.visibility === "private" && s.owner === this.me.id;
    // A role may have changed: who may edit the topic with it.
    this.setTopic(s?.topic ?? "");
    byId("member-count").textContent = `${this.members.length}${more ? "+" : ""}`;
    this.list.replaceChildren(
      ...this.members.map((m) => {
        const role =
          m.role === "member" ? null : el("span", { class: `role role-${m.role}` }, m.role === "owner" ? "owner" : "mod");
        let remove: HTMLElement | null = null;
        if (mayRemove && m.user.id !== this.me.id) {
          remove = el("button", { type: "button", class: "ghost small", "aria-label": `Remove ${m.user.name}` }, "Remove");
          remove.addEventListener("click", () => void this.remove(m.user));
        }
        return el(
          "li",
          { class: "person", "data-user": m.user.id },
          avatar(m.user),
          el("span", { class: "person-name" }, m.user.name),
          m.user.id === this.me.id ? el("span", { class: "muted small" }, "(you)") : null,
          role,
          remove ? el("span", { class: "person-actions" }, remove) : null,
        );
      }),
    );
  }

  private async remove(u: User): Promise<void> {
    const s = this.shown;
    if (!s) return;
    try {
      await api("DELETE", `/rooms/${encodeURIComponent(s.room)}/members/${encodeURIComponent(u.id)}`);
      this.note.dataset.kind = "";
      say(this.note, `${u.name} was removed from #${s.room}.`);
    } catch (e) {
      this.note.dataset.kind = "error";
      say(this.note, e instanceof ApiError ? e.message : "Something went wrong.");
    }
    void this.refresh();
  }

  private wireTopic(): void {
    this.topicEdit.addEventListener("click", () => {
      this.topicForm.hidden = false;
      this.topicInput.value = this.shown?.topic ?? "";
      this.topicInput.focus();
    });
    byId("topic-cancel").addEventListener("click", () => {
      this.topicForm.hidden = true;
      this.topicEdit.focus();
    });
    this.topicForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const s = this.shown;
      if (!s) return;
      const ack = await call(this.socket, "topic", { room: s.room, topic: this.topicInput.value.trim() });
      const note = byId("topic-note");
      if (ack.ok) {
        say(note, "");
        this.topicForm.hidden = true;
        this.topicEdit.focus();
      } else {
        note.dataset.kind = "error";
        say(note, ack.message);
      }
    });
  }

  /** Invite by finding people in the directory; a pick is the invitation. */
  private wireInvite(): void {
    const search = async () => {
      const q = this.find.value.trim();
      if (!q) return this.found.replaceChildren();
      try {
        const { users } = await api<{ users: User[] }>("GET", `/users?q=${encodeURIComponent(q)}`);
        if (this.find.value.trim() !== q) return;
        const others = users.filter((u) => u.id !== this.me.id);
        this.found.replaceChildren(
          ...(others.length
            ? others.map((u) => {
                const already = this.isMember(u.id);
                const pick = el(
                  "button",
                  { type: "button", class: "ghost person-pick", disabled: already, "aria-label": already ? `${u.name} (a member)` : `Invite ${u.name}` },
                  avatar(u),
                  el("span", {}, already ? `${u.name} · member` : u.name),
                );
                pick.addEventListener("click", () => void this.add(u));
                return el("li", {}, pick);
              })
            : [el("li", { class: "muted" }, `Nobody called “${q}”.`)]),
        );
      } catch (e) {
        this.note.dataset.kind = "error";
        say(this.note, String((e as Error).message));
      }
    };
    this.find.addEventListener("input", () => {
      window.clearTimeout(this.findTimer);
      this.findTimer = window.setTimeout(() => void search(), 200);
    });
    this.invite.addEventListener("submit", (event) => {
      event.preventDefault();
      void search();
    });
  }

  private async add(u: User): Promise<void> {
    const s = this.shown;
    if (!s) return;
    try {
      await api("POST", `/rooms/${encodeURIComponent(s.room)}/members`, { user: u.id });
      this.note.dataset.kind = "";
      say(this.note, `${u.name} was invited to #${s.room}.`);
      this.find.value = "";
      this.found.replaceChildren();
      this.find.focus();
    } catch (e) {
      this.note.dataset.kind = "error";
      say(this.note, e instanceof ApiError ? e.message : "Something went wrong.");
    }
    void this.refresh();
  }

  /** "Delete #room", then an in-page "Delete / Keep". */
  private wireDelete(): void {
    const button = byId<HTMLButtonElement>("delete-room");
    const confirm = byId("delete-confirm");
    const ask = (open: boolean) => {
      confirm.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
    };
    button.addEventListener("click", () => ask(confirm.hidden));
    byId("delete-no").addEventListener("click", () => {
      ask(false);
      button.focus();
    });
    byId("delete-yes").addEventListener("click", async () => {
      const s = this.shown;
      if (!s) return;
      ask(false);
      const ack = await call(this.socket, "delete_room", { room: s.room });
      if (!ack.ok) say(byId("room-error"), `Not deleted: ${ack.message}`);
      // Done: the `room_deleted` notice says so to every page, this one too.
    });
  }
}
