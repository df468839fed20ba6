// Browser notifications for mentions and direct messages while the tab is
// hidden (docs/protocol.md "Web pages"). Permission is asked from a button,
// never on load; each room can be muted here, in this browser.

const MUTED_KEY = "roomcast.muted-rooms";

export function supported(): boolean {
  return typeof Notification !== "undefined";
}

function mutedRooms(): Set<string> {
  try {
    return new Set(JSON.parse(localStorage.getItem(MUTED_KEY) ?? "[]") as string[]);
  } catch {
    return new Set();
  }
}

export function isMuted(room: string): boolean {
  return mutedRooms().has(room);
}

export function setMuted(room: string, muted: boolean): void {
  const rooms = mutedRooms();
  if (muted) rooms.add(room);
  else rooms.delete(room);
  localStorage.setItem(MUTED_KEY, JSON.stringify([...rooms]));
}

/** Shows a notification when the tab is hidden, allowed, and the room not muted. */
export function notify(room: string, title: string, body: string): void {
  if (!supported() || Notification.permission !== "granted") return;
  if (!document.hidden || isMuted(room)) return;
  const n = new Notification(title, { body, tag: `roomcast:${room}` });
  n.onclick = () => {
    window.focus();
    window.location.assign(`/r/${encodeURIComponent(room)}`);
  };
}

/** Wires a "Turn on notifications" button: shown only while the browser
 * has not been asked yet. */
export function initPermissionButton(button: HTMLButtonElement): void {
  const update = () => {
    button.hidden = !supported() || Notification.permission !== "default";
  };
  update();
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    update();
  });
}
