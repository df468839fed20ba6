// The owner's invite/remove form of a private room.
import { ApiError, api } from "./api";
import { byId } from "./dom";

export function initMembers(current: () => string): void {
  const form = byId<HTMLFormElement>("member-form");
  const input = byId<HTMLInputElement>("member-user");
  const note = byId("member-note");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const room = current();
    const path = `/rooms/${encodeURIComponent(room)}/members`;
    const action = ((event as SubmitEvent).submitter as HTMLElement | null)?.dataset.member ?? "invite";
    const typed = input.value.trim();
    const user = userId(typed);
    if (!typed) {
      note.textContent = "Enter a username.";
      input.focus();
      return;
    }
    note.dataset.kind = "";
    try {
      if (action === "remove") {
        await api("DELETE", `${path}/${encodeURIComponent(user)}`);
        note.textContent = `${typed} was removed from #${room}.`;
      } else {
        await api("POST", path, { user });
        note.textContent = `${typed} was invited to #${room}.`;
      }
      input.value = "";
    } catch (e) {
      note.dataset.kind = "error";
      note.textContent = e instanceof ApiError ? e.message : "Something went wrong.";
    }
  });
}

// A username names a built-in account, whose user id is `acct:` and the
// name; anything with a `:` is taken as a user id as it is (an app's JWT
// users, docs/protocol.md §2).
function userId(typed: string): string {
  return typed.includes(":") ? typed : `acct:${typed}`;
}
