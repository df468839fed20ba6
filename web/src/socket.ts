// The Socket.IO connection of a page, and acks as promises.
import { Socket, io } from "socket.io-client";

export type Ack =
  | { ok: true; [key: string]: unknown }
  | { ok: false; error: string; message: string; until?: number; retry_after_ms?: number };

/** Connects to this origin; the session cookie authenticates the handshake. */
export function connect(): Socket {
  return io({ autoConnect: false });
}

/** Emits `event` and resolves with its ack, or an `internal`-style failure on timeout. */
export function call(socket: Socket, event: string, payload: unknown): Promise<Ack> {
  return new Promise((resolve) => {
    socket.timeout(10_000).emit(event, payload, (err: Error | null, ack: Ack) => {
      if (err) resolve({ ok: false, error: "timeout", message: "The server did not answer in time." });
      else resolve(ack);
    });
  });
}
