// DOM helpers. User data only ever reaches the page as text nodes.

type Attrs = Record<string, string | boolean | undefined>;

/** Creates `<tag>` with attributes and children; strings become text nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key === "class") node.className = String(value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null) node.append(child);
  }
  return node;
}

/** The element with `id`; the templates guarantee it exists. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node as T;
}

/** Shows `text` in an error slot, or hides the slot when `text` is empty. */
export function say(slot: HTMLElement, text: string): void {
  slot.textContent = text;
  slot.hidden = text === "";
}

/** A stable hue per user, so an author is recognisable at a glance. */
export function hue(id: string): string {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.codePointAt(0)!) % 360;
  return `hue-${Math.floor(h / 30)}`;
}

/** A round avatar with the user's initial (decorative: the name is shown beside it). */
export function avatar(user: { id: string; name: string }): HTMLElement {
  const initial = [...user.name.trim()][0] ?? "?";
  return el("span", { class: `avatar ${hue(user.id)}`, "aria-hidden": "true" }, initial.toUpperCase());
}

export function clockTime(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
}

export function fullTime(ts: number): string {
  return new Date(ts).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

export function dayLabel(ts: number): string {
  const d = new Date(ts);
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86_400_000);
  if (d.toDateString() === today.toDateString()) return "Today";
  if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
  return d.toLocaleDateString([], { weekday: "long", month: "long", day: "numeric" });
}
