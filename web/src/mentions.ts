// `@` in the composer offers the room's people (docs/protocol.md §4
// "Mentions"): typing `@an` lists those whose name or handle starts so;
// Up/Down choose, Enter or Tab writes `@handle `, Escape closes. The
// textarea is an ARIA combobox over the list.
import type { User } from "./api";
import { avatar, el } from "./dom";

/** What `@` must be followed by to mention `id`, or null when no `@word`
 * can name it (the server resolves `acct:NAME` and JWT subjects). */
export function handleOf(id: string): string | null {
  const handle = id.startsWith("acct:") ? id.slice(5) : id;
  return /^[A-Za-z0-9_.-]{1,64}$/.test(handle) && !id.startsWith("bot:") ? handle : null;
}

/** How many people the list shows at most. */
const SHOWN = 6;

export class MentionPicker {
  private options: { user: User; handle: string }[] = [];
  private active = 0;
  /** Where the `@` being completed starts in the text. */
  private at = -1;

  constructor(
    private readonly input: HTMLTextAreaElement,
    private readonly list: HTMLElement,
    /** The people who may be mentioned here now. */
    private readonly people: () => User[],
    private readonly me: string,
  ) {
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.addEventListener("input", () => this.update());
    input.addEventListener("blur", () => window.setTimeout(() => this.close(), 150));
  }

  get open(): boolean {
    return !this.list.hidden;
  }

  /** Handles a key in the composer first; true when it was the list's. */
  key(event: KeyboardEvent): boolean {
    if (!this.open) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const n = this.options.length;
      this.active = (this.active + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.render();
      return true;
    }
    if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      this.choose(this.active);
      return true;
    }
    if (event.key === "Escape") {
      this.close();
      return true;
    }
    return false;
  }

  close(): void {
    this.list.hidden = true;
    this.options = [];
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  private update(): void {
    const caret = this.input.selectionStart ?? 0;
    const before = this.input.value.slice(0, caret);
    // `@` at the start or after a character no name has, then name characters.
    const match = /(^|[^A-Za-z0-9_.@-])@([A-Za-z0-9_.-]{0,64})$/.exec(before);
    if (!match) return this.close();
    const typed = match[2].toLowerCase();
    this.at = caret - match[2].length - 1;
    const seen = new Set<string>();
    this.options = [];
    for (const user of this.people()) {
      const handle = handleOf(user.id);
      if (!handle || user.id === this.me || seen.has(user.id)) continue;
      if (!handle.toLowerCase().startsWith(typed) && !user.name.toLowerCase().startsWith(typed)) continue;
      seen.add(user.id);
      this.options.push({ user, handle });
    }
    this.options.sort((a, b) => a.user.name.localeCompare(b.user.name));
    this.options = this.options.slice(0, SHOWN);
    if (this.options.length === 0) return this.close();
    this.active = 0;
    this.render();
  }

  private render(): void {
    this.list.replaceChildren(
      ...this.options.map((o, i) => {
        const item = el(
          "li",
          { id: `mention-${i}`, role: "option", class: "mention-option", "aria-selected": String(i === this.active) },
          avatar(o.user),
          el("span", { class: "person-name" }, o.user.name),
          o.handle !== o.user.name ? el("span", { class: "muted small" }, `@${o.handle}`) : null,
        );
        // mousedown, not click: the textarea keeps the focus.
        item.addEventListener("mousedown", (event) => {
          event.preventDefault();
          this.choose(i);
        });
        return item;
      }),
    );
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.input.setAttribute("aria-activedescendant", `mention-${this.active}`);
  }

  private choose(i: number): void {
    const o = this.options[i];
    if (!o) return this.close();
    const caret = this.input.selectionStart ?? 0;
    const value = this.input.value;
    const text = `@${o.handle} `;
    this.input.value = value.slice(0, this.at) + text + value.slice(caret);
    const end = this.at + text.length;
    this.input.setSelectionRange(end, end);
    this.close();
    this.input.dispatchEvent(new Event("input"));
  }
}
