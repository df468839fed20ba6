// The lobby `/`: your rooms with their unread and mention counts (live over
// a socket), public rooms with online counts, create, join by name.
import { ApiError, ListedRoom, Room, api } from "./api";
import { avatar, byId, el, say } from "./dom";
import { YourRooms } from "./rooms";
import { connect } from "./socket";

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

/** The public rooms not in your list, busiest first. */
function showPublic(all: ListedRoom[]): void {
  const open = all.filter((r) => r.visibility === "public" && !r.member);
  open.sort((a, b) => b.online - a.online || a.name.localeCompare(b.name));
  fill(byId("public-rooms"), open, "No other public rooms.");
}

function go(name: string): void {
  window.location.assign(`/r/${encodeURIComponent(name)}`);
}

export function initLobby(): void {
  const me = document.body.dataset.userId ?? "";
  for (const slot of document.querySelectorAll<HTMLElement>("[data-avatar]")) {
    slot.replaceWith(avatar({ id: me, name: slot.dataset.avatar ?? "?" }));
  }
  const socket = connect();
  const yours = new YourRooms(socket, byId("my-rooms"), null);
  yours.onChange = (_mine, all) => showPublic(all);
  socket.on("connect", () => void yours.refresh());
  socket.on("connect_error", (err: Error) => {
    // The session ended (signed out elsewhere, or expired).
    if (err.message.startsWith("unauthorized")) window.location.assign("/login");
  });
  socket.connect();
  // Online counts change as people come and go; a light poll keeps them
  // honest (unread counts are live).
  window.setInterval(() => {
    if (socket.connected) void yours.refresh();
  }, REFRESH_MS);

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
