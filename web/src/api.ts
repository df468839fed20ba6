// The JSON /api routes, with the session cookie (same origin).

export interface User {
  id: string;
  name: string;
  /** Only for an API key's bot (docs/protocol.md §2). */
  bot?: boolean;
}

export interface Room {
  name: string;
  visibility: "public" | "private";
  owner: string;
  online: number;
  /** Absent when the room has none. */
  topic?: string;
}

/** A room as `rooms` lists it: the rooms of your list carry their counts. */
export interface ListedRoom extends Room {
  member?: boolean;
  read?: number;
  unread?: number;
  mentions?: number;
  last?: { id: number; user: User; excerpt: string; ts: number };
  /** A direct conversation's people (you among them). */
  people?: User[];
}

/** What a conversation is called: the other people's names. */
export function dmTitle(room: ListedRoom, me: string): string {
  const others = (room.people ?? []).filter((u) => u.id !== me).map((u) => u.name);
  return others.length ? others.join(", ") : "Just you";
}

export interface Reaction {
  emoji: string;
  count: number;
  /** The first few user ids, by time. */
  users: string[];
}

export interface ReplyRef {
  id: number;
  user: User;
  excerpt?: string;
  deleted?: boolean;
}

export interface Message {
  id: number;
  /** Position in the room's change stream (docs/protocol.md §4). */
  seq: number;
  room: string;
  user: User;
  message: string;
  ts: number;
  edited?: number;
  deleted?: { by: string; ts: number };
  reply_to?: ReplyRef;
  reactions?: Reaction[];
  /** User ids its `@name`s mention. */
  mentions?: string[];
  /** Its files, in the order attached (docs/protocol.md "Files"). */
  files?: FileView[];
}

/** A stored file, as an upload's answer and a message carry it. */
export interface FileView {
  id: string;
  /** Where it is served (to those who may read its room). */
  url: string;
  name: string;
  size: number;
  /** Decided from the bytes for PNG, JPEG, GIF and WebP. */
  type: string;
  /** Only for those four image types. */
  width?: number;
  height?: number;
  thumbnail?: string;
}

/** An `{"error","message"}` answer (or a network failure, code `network`). */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * Calls `/api{path}`. The JSON content type is what the server's CSRF guard
 * expects on every state-changing request, body or not.
 */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api${path}`, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("network", "Cannot reach the server. Check your connection.", 0);
  }
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data ?? {}) as { error?: string; message?: string };
    throw new ApiError(err.error ?? "http", err.message ?? `Request failed (${res.status})`, res.status);
  }
  return data as T;
}

/** Ends the session and goes to the sign-in page. */
export async function logout(): Promise<void> {
  await api("POST", "/logout");
  window.location.assign("/login");
}
