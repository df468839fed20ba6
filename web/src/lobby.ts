// The lobby `/`: your rooms, public rooms with online counts, create, join by name.
import { ApiError, Room, api } from "./api";
import { avatar, byId, el, say } from "./dom";

const ROOM_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const REFRESH_MS = 15_000;

function roomLink(room: Room): HTMLLIElement {
  const count = room.online === 1 ? "1 online" : `${room.online} online`;
  return el(
    "li",
    {},
    el(
      "a",
      { class: "room-link", href: `/r/${encodeURIComponent(room.name)}` },
      el("span", { class: "room-hash", "aria-hidden": "true" }, "#"),
      el("span", { class: "room-link-name" }, room.name),
      room.visibility === "private" ? el("span", { class: "badge" }, "private") : null,
      el("span", { class: room.online > 0 ? "online-pill live" : "online-pill" }, count),
    ),
  );
}

function fill(list: HTMLElement, rooms: Room[], empty: string): void {
  list.replaceChildren(
    ...(rooms.length ? rooms.map(roomLink) : [el("li", { class: "muted empty" }, empty)]),
  );
  list.setAttribute("aria-busy", "false");
}

async function refresh(me: string): Promise<void> {
  const { rooms } = await api<{ rooms: Room[] }>("GET", "/rooms");
  const mine = rooms.filter((r) => r.owner === me || r.visibility === "private");
  const open = rooms.filter((r) => r.visibility === "public");
  mine.sort((a, b) => b.online - a.online || a.name.localeCompare(b.name));
  open.sort((a, b) => b.online - a.online || a.name.localeCompare(b.name));
  fill(byId("my-rooms"), mine, "No rooms yet. Create one, or join one by name.");
  fill(byId("public-rooms"), open, "No public rooms yet.");
}

function go(name: string): void {
  window.location.assign(`/r/${encodeURIComponent(name)}`);
}

export function initLobby(): void {
  const me = document.body.dataset.userId ?? "";
  for (const slot of document.querySelectorAll<HTMLElement>("[data-avatar]")) {
    slot.replaceWith(avatar({ id: me, name: slot.dataset.avatar ?? "?" }));
  }
  const load = () =>
    refresh(me).catch((e) => {
      // The session ended (signed out elsewhere, or expired).
      if (e instanceof ApiError && e.code === "unauthorized") window.location.assign("/login");
    });
  void load();
  // Counts change as people come and go; a light poll keeps them honest.
  window.setInterval(load, REFRESH_MS);

  const joinForm = byId<HTMLFormElement>("join-form");
  const joinName = byId<HTMLInputElement>("join-name");
  const joinError = byId("join-error");
  joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = joinName.value.trim().replace(/^#/, "");
    if (!ROOM_NAME.test(name)) {
      say(joinError, "Room names are 1–64 letters, digits, _ - . or :");
      joinName.focus();
      return;
    }
    go(name);
  });

  const createForm = byId<HTMLFormElement>("create-form");
  const createName = byId<HTMLInputElement>("create-name");
  const createError = byId("create-error");
  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = createName.value.trim().replace(/^#/, "");
    const visibility = (new FormData(createForm).get("visibility") as string) ?? "public";
    if (!ROOM_NAME.test(name)) {
      say(createError, "Room names are 1–64 letters, digits, _ - . or :");
      createName.focus();
      return;
    }
    try {
      await api("POST", "/rooms", { name, visibility });
      go(name);
    } catch (e) {
      const taken = e instanceof ApiError && e.code === "conflict";
      say(createError, taken ? `#${name} already exists. Join it instead?` : String((e as Error).message));
      createName.focus();
    }
  });
}
