// The lobby `/`: your rooms with their unread and mention counts (live over
// a socket), public rooms with online counts, create, join by name.
import type { Socket } from "socket.io-client";
import { ApiError, ListedRoom, Room, User, api } from "./api";
import { avatar, byId, el, say } from "./dom";
import { YourRooms } from "./rooms";
import { Search } from "./search";
import { initPermissionButton } from "./notify";
import { call, connect } from "./socket";

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

/** "Message someone": the directory as you type, and `dm` on a pick. */
function initFindPeople(socket: Socket, me: string): void {
  const find = byId<HTMLInputElement>("dm-find");
  const found = byId("dm-found");
  const error = byId("dm-error");
  let timer = 0;
  let asked = "";
  const search = async () => {
    const q = find.value.trim();
    asked = q;
    if (!q) return found.replaceChildren();
    try {
      const { users } = await api<{ users: User[] }>("GET", `/users?q=${encodeURIComponent(q)}`);
      if (asked !== q) return;
      const others = users.filter((u) => u.id !== me);
      found.replaceChildren(
        ...(others.length
          ? others.map((u) => {
              const pick = el("button", { type: "button", class: "ghost person-pick" }, avatar(u), el("span", {}, u.name));
              pick.addEventListener("click", () => void open(u));
              return el("li", {}, pick);
            })
          : [el("li", { class: "muted" }, `Nobody called “${q}”.`)]),
      );
    } catch (e) {
      say(error, String((e as Error).message));
    }
  };
  const open = async (u: User) => {
    const ack = await call(socket, "dm", { user: u.id });
    if (ack.ok) go((ack as unknown as { room: { name: string } }).room.name);
    else say(error, ack.message);
  };
  find.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void search(), 200);
  });
  byId<HTMLFormElement>("dm-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void search();
  });
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
  const yours = new YourRooms(socket, byId("my-rooms"), byId("my-dms"), null, me);
  initFindPeople(socket, me);
  // A result opens its room at the message (the room page reads `#m=ID`).
  new Search(socket, (room, id) => window.location.assign(`/r/${encodeURIComponent(room)}#m=${id}`), () => null);
  initPermissionButton(byId<HTMLButtonElement>("notify-on"));
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
