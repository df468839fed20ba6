// Files in messages (docs/protocol.md "Files"): the composer's tray of
// uploads (button, drag and drop, paste; a progress bar and a cancel each),
// and how the timeline shows a message's files (image previews that open
// larger, other files as chips to download).
import type { FileView } from "./api";
import { byId, el, say } from "./dom";

/** What `chat` accepts in one message. */
export const MAX_FILES = 10;

/** "1.4 MB", "830 KB", "12 bytes". */
export function size(bytes: number): string {
  if (bytes < 1024) return bytes === 1 ? "1 byte" : `${bytes} bytes`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** Whether the server shows this file inline (it decided the type from the bytes). */
function isImage(f: FileView): boolean {
  return f.thumbnail !== undefined && f.width !== undefined && f.height !== undefined;
}

/** One file on its way: uploading, stored (with its view) or failed. */
interface Pending {
  readonly key: number;
  readonly file: File;
  readonly room: string;
  readonly node: HTMLLIElement;
  /** A local preview of an image, released when the entry goes. */
  readonly preview: string | null;
  xhr: XMLHttpRequest | null;
  view: FileView | null;
  failed: boolean;
}

/**
 * The files about to go with the next message of each room (uploads go to a
 * room, so a room's tray stays with it when the page switches rooms, as its
 * draft does). `onChange` runs whenever what can be sent changes.
 */
export class Tray {
  private readonly list = byId<HTMLUListElement>("attachments");
  private readonly picker = byId<HTMLInputElement>("file-input");
  private readonly note = byId("attach-note");
  private readonly byRoom = new Map<string, Pending[]>();
  private room: string;
  private next = 1;
  onChange: () => void = () => {};

  constructor(room: string, private readonly enabled: () => boolean) {
    this.room = room;
    byId("attach").addEventListener("click", () => this.picker.click());
    this.picker.addEventListener("change", () => {
      this.add([...(this.picker.files ?? [])]);
      // The same file may be chosen again after it was removed.
      this.picker.value = "";
    });
    this.wireDrop();
    byId<HTMLTextAreaElement>("message").addEventListener("paste", (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      // A pasted screenshot is a file; its text (if any) is not wanted too.
      event.preventDefault();
      this.add(files);
    });
  }

  /** Another room is opening in the page: show its tray. */
  switchTo(room: string): void {
    this.room = room;
    this.draw();
  }

  /** The ids of this room's stored uploads, in the order they were added. */
  get ids(): string[] {
    return this.current().flatMap((p) => (p.view ? [p.view.id] : []));
  }

  /** Whether an upload of this room is still under way. */
  get busy(): boolean {
    return this.current().some((p) => p.xhr !== null);
  }

  /** After a message in `room` took these files: they leave its tray. */
  sent(room: string, ids: string[]): void {
    const all = this.byRoom.get(room) ?? [];
    const left = all.filter((p) => !p.view || !ids.includes(p.view.id));
    for (const p of all) if (!left.includes(p)) this.release(p);
    this.byRoom.set(room, left);
    if (room === this.room) this.draw();
  }

  add(files: File[]): void {
    if (files.length === 0) return;
    if (!this.enabled()) {
      say(this.note, "Join the room to attach files.");
      return;
    }
    const mine = this.current();
    const room = this.room;
    const room_left = MAX_FILES - mine.filter((p) => !p.failed).length;
    if (files.length > room_left) say(this.note, `At most ${MAX_FILES} files go with one message.`);
    else say(this.note, "");
    for (const file of files.slice(0, Math.max(0, room_left))) {
      const image = /^image\/(png|jpeg|gif|webp)$/.test(file.type);
      const p: Pending = {
        key: this.next++,
        file,
        room,
        node: el("li", { class: "attachment" }),
        preview: image ? URL.createObjectURL(file) : null,
        xhr: null,
        view: null,
        failed: false,
      };
      mine.push(p);
      this.upload(p);
    }
    this.byRoom.set(room, mine);
    this.draw();
  }

  private current(): Pending[] {
    return this.byRoom.get(this.room) ?? [];
  }

  private upload(p: Pending): void {
    const xhr = new XMLHttpRequest();
    p.xhr = xhr;
    xhr.open("POST", `/api/rooms/${encodeURIComponent(p.room)}/files`);
    xhr.withCredentials = true;
    xhr.responseType = "json";
    xhr.setRequestHeader("Content-Type", p.file.type || "application/octet-stream");
    // Also what tells the server's CSRF guard that this page sent it.
    xhr.setRequestHeader("X-Filename", encodeURIComponent(p.file.name || "file"));
    xhr.setRequestHeader("Accept", "application/json");
    const bar = () => p.node.querySelector("progress");
    xhr.upload.addEventListener("progress", (event) => {
      const b = bar();
      if (b && event.lengthComputable) {
        b.max = event.total;
        b.value = event.loaded;
      }
    });
    xhr.addEventListener("load", () => {
      p.xhr = null;
      const body = xhr.response as (FileView & { message?: string }) | null;
      if (xhr.status === 201 && body && typeof body.id === "string") {
        p.view = body;
      } else {
        p.failed = true;
        this.fail(p, body?.message ?? `Upload failed (${xhr.status}).`);
      }
      this.renderEntry(p);
      this.onChange();
    });
    const gone = (why: string) => () => {
      p.xhr = null;
      p.failed = true;
      this.fail(p, why);
      this.renderEntry(p);
      this.onChange();
    };
    xhr.addEventListener("error", gone("Cannot reach the server."));
    xhr.addEventListener("timeout", gone("The upload timed out."));
    xhr.send(p.file);
  }

  private fail(p: Pending, why: string): void {
    p.node.dataset.error = why;
  }

  /** Cancels an upload under way, or takes a stored one off the message. */
  private remove(p: Pending): void {
    if (p.xhr) {
      const xhr = p.xhr;
      p.xhr = null;
      xhr.abort();
    }
    this.release(p);
    const list = (this.byRoom.get(p.room) ?? []).filter((q) => q !== p);
    this.byRoom.set(p.room, list);
    say(this.note, "");
    this.draw();
    byId<HTMLTextAreaElement>("message").focus();
  }

  private release(p: Pending): void {
    if (p.preview) URL.revokeObjectURL(p.preview);
  }

  private draw(): void {
    const mine = this.current();
    for (const p of mine) this.renderEntry(p);
    this.list.replaceChildren(...mine.map((p) => p.node));
    this.list.hidden = mine.length === 0;
    this.onChange();
  }

  private renderEntry(p: Pending): void {
    const name = p.file.name || "file";
    const state = p.failed ? "failed" : p.view ? "stored" : "uploading";
    p.node.dataset.state = state;
    // Drawn once per state: a redraw while uploading would reset its bar.
    if (p.node.dataset.drawn === state) return;
    p.node.dataset.drawn = state;
    const thumb = p.preview
      ? el("img", { class: "attachment-thumb", src: p.preview, alt: "" })
      : el("span", { class: "attachment-icon", "aria-hidden": "true" }, "📄");
    const label = el(
      "span",
      { class: "attachment-text" },
      el("span", { class: "attachment-name" }, name),
      el("span", { class: "attachment-size" }, size(p.file.size)),
    );
    const parts: Node[] = [thumb, label];
    if (state === "uploading") {
      parts.push(el("progress", { max: String(p.file.size || 1), value: "0", "aria-label": `Uploading ${name}` }));
    } else if (state === "failed") {
      parts.push(el("span", { class: "attachment-error", role: "alert" }, p.node.dataset.error ?? "Upload failed."));
    }
    const verb = state === "uploading" ? "Cancel the upload of" : "Remove";
    const x = el("button", { type: "button", class: "ghost small attachment-x", "aria-label": `${verb} ${name}`, title: verb }, "✕");
    x.addEventListener("click", () => this.remove(p));
    parts.push(x);
    p.node.replaceChildren(...parts);
  }

  /** Files dropped anywhere on the room's main column go to the tray. */
  private wireDrop(): void {
    const zone = byId("main");
    let depth = 0;
    const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes("Files");
    zone.addEventListener("dragenter", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth += 1;
      zone.classList.add("dropping");
    });
    zone.addEventListener("dragover", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
    });
    zone.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) zone.classList.remove("dropping");
    });
    zone.addEventListener("drop", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      zone.classList.remove("dropping");
      this.add([...(e.dataTransfer?.files ?? [])]);
    });
  }
}

/** A message's files as the timeline shows them: images first, as previews. */
export function attachments(files: FileView[], viewer: Viewer): HTMLElement {
  const box = el("div", { class: "msg-files" });
  for (const f of files) {
    if (isImage(f)) {
      // The thumbnail's box, from the image's ratio (no jump when it loads).
      const scale = Math.min(1, 400 / Math.max(f.width!, f.height!));
      const w = Math.max(1, Math.round(f.width! * scale));
      const h = Math.max(1, Math.round(f.height! * scale));
      const img = el("img", { src: f.thumbnail!, alt: f.name, width: String(w), height: String(h), loading: "lazy" });
      const open = el("button", { type: "button", class: "file-image", title: `${f.name} (${size(f.size)})` }, img);
      open.addEventListener("click", (event) => {
        event.stopPropagation();
        viewer.show(f);
      });
      box.append(open);
    } else {
      box.append(
        el(
          "a",
          { class: "file-chip", href: f.url, download: f.name, title: `Download ${f.name}` },
          el("span", { class: "file-icon", "aria-hidden": "true" }, "📄"),
          el("span", { class: "file-name" }, f.name),
          el("span", { class: "file-size" }, size(f.size)),
          el("span", { class: "sr-only" }, ", download"),
        ),
      );
    }
  }
  return box;
}

/** The larger view of an image, in a modal dialog (Escape closes it). */
export class Viewer {
  private readonly dialog = byId<HTMLDialogElement>("viewer");
  private readonly img = byId<HTMLImageElement>("viewer-img");
  private readonly caption = byId("viewer-caption");
  private readonly download = byId<HTMLAnchorElement>("viewer-download");
  private opener: HTMLElement | null = null;

  constructor() {
    byId("viewer-close").addEventListener("click", () => this.dialog.close());
    // A click on the backdrop (outside the figure) closes it too.
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) this.dialog.close();
    });
    this.dialog.addEventListener("close", () => {
      this.img.removeAttribute("src");
      this.opener?.focus();
    });
  }

  show(f: FileView): void {
    this.opener = document.activeElement as HTMLElement | null;
    this.img.src = f.url;
    this.img.alt = f.name;
    if (f.width && f.height) {
      this.img.width = f.width;
      this.img.height = f.height;
    }
    this.caption.textContent = `${f.name} · ${size(f.size)}${f.width ? ` · ${f.width} × ${f.height}` : ""}`;
    this.download.href = f.url;
    this.download.download = f.name;
    this.dialog.showModal();
  }
}
