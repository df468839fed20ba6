// Roles, mutes, bans and slow mode as the room page shows them
// (docs/protocol.md §4 "Moderation"): role badges and the moderators'
// buttons in the people panel, and what the composer may do.
import type { Socket } from "socket.io-client";
import type { User } from "./api";
import { clockTime, el } from "./dom";
import { call } from "./socket";

export type Role = "owner" | "moderator" | "member";

export type ModerationNotice = {
  room: string;
  action: "appointed" | "dismissed" | "muted" | "unmuted" | "banned" | "unbanned" | "slow_mode";
  user?: string;
  by: User;
  until?: number;
  seconds?: number;
  ts: number;
};

/** What a join ack says about where we stand. */
export type Standing = { role: Role; moderators: string[]; slow_mode: number; muted_until?: number };

/** How long the people panel's Mute button mutes for. */
const MUTE_SECONDS = 600;

export class Moderation {
  private owner = "";
  private readonly mods = new Set<string>();
  private myRole: Role = "member";
  /** Unix ms; 0 when not muted. */
  mutedUntil = 0;
  /** Seconds; 0 is off. */
  slowMode = 0;

  constructor(
    private readonly socket: Socket,
    /** The room the page shows (it changes when the page switches rooms). */
    public room: string,
    private readonly me: User,
    /** Says how a button's action went (an error, or "" when it worked). */
    private readonly report: (text: string) => void,
  ) {}

  /** The truth at join. */
  reset(owner: string, s: Standing): void {
    this.owner = owner;
    this.mods.clear();
    for (const id of s.moderators) this.mods.add(id);
    this.myRole = s.role;
    this.mutedUntil = s.muted_until ?? 0;
    this.slowMode = s.slow_mode;
  }

  roleOf(id: string): Role {
    return id === this.owner ? "owner" : this.mods.has(id) ? "moderator" : "member";
  }

  /** Whether we may delete anyone's message here (owner or moderator). */
  get moderates(): boolean {
    return this.myRole !== "member";
  }

  get muted(): boolean {
    return this.mutedUntil > Date.now();
  }

  /** Whether slow mode holds us back (owner and moderators are exempt). */
  get slowed(): boolean {
    return this.slowMode > 0 && this.myRole === "member";
  }

  /** A change announced by the server. */
  apply(n: ModerationNotice): void {
    const mine = n.user === this.me.id;
    switch (n.action) {
      case "appointed":
        if (n.user) this.mods.add(n.user);
        if (mine) this.myRole = "moderator";
        break;
      case "dismissed":
        if (n.user) this.mods.delete(n.user);
        if (mine) this.myRole = "member";
        break;
      case "muted":
        if (mine) this.mutedUntil = n.until ?? 0;
        break;
      case "unmuted":
        if (mine) this.mutedUntil = 0;
        break;
      case "banned":
        if (n.user) this.mods.delete(n.user);
        break;
      case "slow_mode":
        this.slowMode = n.seconds ?? 0;
        break;
      default:
        break;
    }
  }

  /** A line for the timeline; `name` gives a user id's display name. */
  describe(n: ModerationNotice, name: (id: string) => string): string {
    const mine = n.user === this.me.id;
    const who = mine ? "You" : name(n.user ?? "");
    const was = mine ? "were" : "was";
    const by = n.by.id === this.me.id ? "you" : n.by.name;
    switch (n.action) {
      case "appointed": return `${who} became a moderator (by ${by})`;
      case "dismissed": return `${who} ${mine ? "are" : "is"} no longer a moderator (by ${by})`;
      case "muted": return `${who} ${was} muted until ${clockTime(n.until ?? n.ts)} by ${by}`;
      case "unmuted": return `${who} ${was} unmuted by ${by}`;
      case "banned": return `${who} ${was} banned by ${by}`;
      case "unbanned": return `${who} ${was} unbanned by ${by}`;
      case "slow_mode":
        return n.seconds ? `Slow mode on: one message every ${n.seconds} s (set by ${by})` : `Slow mode off (by ${by})`;
      default: return "";
    }
  }

  /** A person's role badge and, for those who may act on them, the buttons. */
  decorate(u: User): (Node | null)[] {
    const role = this.roleOf(u.id);
    const badge = role === "member" ? null : el("span", { class: `role role-${role}` }, role === "owner" ? "owner" : "mod");
    return [badge, this.actions(u)];
  }

  private mayActOn(id: string): boolean {
    if (id === this.me.id || id === this.owner || this.myRole === "member") return false;
    return this.myRole === "owner" || !this.mods.has(id);
  }

  private actions(u: User): HTMLElement | null {
    if (!this.mayActOn(u.id)) return null;
    const button = (label: string, event: string, extra: Record<string, unknown>) => {
      const b = el("button", { type: "button", class: "ghost small", "aria-label": `${label} ${u.name}` }, label);
      b.addEventListener("click", () => void this.act(event, { room: this.room, user: u.id, ...extra }));
      return b;
    };
    const buttons = [button("Mute", "mute", { seconds: MUTE_SECONDS }), button("Ban", "ban", {})];
    if (this.myRole === "owner") {
      const on = !this.mods.has(u.id);
      buttons.push(button(on ? "Make mod" : "Unmod", "moderator", { on }));
    }
    return el("span", { class: "person-actions" }, ...buttons);
  }

  private async act(event: string, payload: Record<string, unknown>): Promise<void> {
    const ack = await call(this.socket, event, payload);
    this.report(ack.ok ? "" : `Not done: ${ack.message}`);
  }
}
