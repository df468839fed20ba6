// Who is online in the room, and who is typing.
import type { User } from "./api";
import { avatar, el } from "./dom";

/** How long "typing…" lasts after someone's last keystroke signal. */
const TYPING_MS = 4_000;

export class Presence {
  /** User id → the user and how many of their sockets we know are here. */
  private readonly here = new Map<string, { user: User; sockets: number }>();
  private readonly typists = new Map<string, { user: User; timer: number }>();
  /** Users here whom the join ack did not name (a big room: `--online-names`). */
  private others = 0;

  constructor(
    private readonly me: User,
    private readonly list: HTMLElement,
    private readonly count: HTMLElement,
    private readonly typingLine: HTMLElement,
    /** Extra parts of a person's row: role badge, moderators' buttons. */
    private readonly decorate: (u: User) => (Node | null)[] = () => [],
  ) {}

  /** A user's display name, when they are here (else their id). */
  /** Whether `id` has a socket in the room now. */
  has(id: string): boolean {
    return this.here.has(id);
  }

  /** Who is here now. */
  users(): User[] {
    return [...this.here.values()].map((e) => e.user);
  }

  nameOf(id: string): string {
    return this.here.get(id)?.user.name ?? id;
  }

  /** Draws the list again (roles changed). */
  refresh(): void {
    this.render();
  }

  /**
   * The `online` list of a join ack and the room's `online` count: the
   * truth at that moment. In a big room the list names only some of them.
   */
  reset(users: User[], total: number = users.length): void {
    this.here.clear();
    for (const user of users) this.here.set(user.id, { user, sockets: 1 });
    this.others = Math.max(0, total - this.here.size);
    this.render();
  }

  joined(user: User): void {
    this.come(user);
    this.render();
  }

  left(user: User): void {
    this.go(user);
    this.render();
  }

  /** A `presence` batch's changes, in order, drawn once. */
  changed(changes: { user: User; joined: boolean }[]): void {
    for (const c of changes) {
      if (c.joined) this.come(c.user);
      else this.go(c.user);
    }
    this.render();
  }

  private come(user: User): void {
    const entry = this.here.get(user.id);
    if (entry) entry.sockets += 1;
    else this.here.set(user.id, { user, sockets: 1 });
  }

  private go(user: User): void {
    const entry = this.here.get(user.id);
    if (!entry && this.others > 0) this.others -= 1;
    if (entry && --entry.sockets <= 0) this.here.delete(user.id);
    this.stopTyping(user.id);
  }

  typing(user: User): void {
    if (user.id === this.me.id) return;
    const old = this.typists.get(user.id);
    if (old) window.clearTimeout(old.timer);
    const timer = window.setTimeout(() => this.stopTyping(user.id), TYPING_MS);
    this.typists.set(user.id, { user, timer });
    this.renderTyping();
  }

  stopTyping(id: string): void {
    const entry = this.typists.get(id);
    if (!entry) return;
    window.clearTimeout(entry.timer);
    this.typists.delete(id);
    this.renderTyping();
  }

  clearTyping(): void {
    for (const id of [...this.typists.keys()]) this.stopTyping(id);
  }

  private render(): void {
    const people = [...this.here.values()].map((e) => e.user);
    people.sort((a, b) => Number(b.id === this.me.id) - Number(a.id === this.me.id) || a.name.localeCompare(b.name));
    this.list.replaceChildren(
      ...people.map((u) =>
        el(
          "li",
          { class: "person", "data-user": u.id },
          avatar(u),
          el("span", { class: "person-name" }, u.name),
          u.bot ? el("span", { class: "bot-badge", title: "A bot (an API key)" }, "BOT") : null,
          u.id === this.me.id ? el("span", { class: "muted small" }, "(you)") : null,
          el("span", { class: "dot", "aria-hidden": "true" }),
          ...this.decorate(u),
        ),
      ),
      ...(this.others > 0 ? [el("li", { class: "person muted small", "data-others": String(this.others) }, `and ${this.others} more`)] : []),
    );
    this.count.textContent = String(people.length + this.others);
  }

  private renderTyping(): void {
    const names = [...this.typists.values()].map((t) => t.user.name);
    let text = "";
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = "Several people are typing…";
    this.typingLine.textContent = text;
  }
}
