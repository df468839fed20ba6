// /login and /register: one form each; a new account is signed in at once.
import { ApiError, api, logout } from "./api";
import { byId, say } from "./dom";

/** Where to go after signing in: `?next=` when it is one of our own paths. */
function nextPath(): string {
  const next = new URLSearchParams(window.location.search).get("next") ?? "/";
  // Only same-site paths: "//evil.example" or "/\evil" would leave the site.
  return /^\/(?![/\\])/.test(next) ? next : "/";
}

export function initAuthPage(kind: "login" | "register"): void {
  const form = byId<HTMLFormElement>("auth-form");
  const error = byId("form-error");
  const username = byId<HTMLInputElement>("username");
  const password = byId<HTMLInputElement>("password");
  const next = nextPath();
  const link = byId<HTMLAnchorElement>("switch-link");
  if (next !== "/") link.search = `?next=${encodeURIComponent(next)}`;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const creds = { username: username.value.trim(), password: password.value };
    if (!creds.username || !creds.password) {
      say(error, "Enter a username and a password.");
      (creds.username ? password : username).focus();
      return;
    }
    const button = form.querySelector("button[type=submit]") as HTMLButtonElement;
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      if (kind === "register") await api("POST", "/register", creds);
      await api("POST", "/login", creds);
      window.location.assign(next);
    } catch (e) {
      say(error, describe(e, kind));
      password.select();
      password.focus();
    } finally {
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
}

function describe(e: unknown, kind: string): string {
  if (!(e instanceof ApiError)) return "Something went wrong.";
  if (e.code === "unauthorized") return "Wrong username or password.";
  if (e.code === "conflict") return "That username is taken.";
  if (e.code === "forbidden" && kind === "register") return "Registration is closed on this server.";
  return e.message;
}

/** Every `[data-action=logout]` button signs out (a POST, so no link can). */
export function initLogout(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>("[data-action=logout]")) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await logout();
      } catch (e) {
        button.disabled = false;
        const slot = document.getElementById("form-error");
        if (slot) say(slot, e instanceof Error ? e.message : "Could not sign out.");
      }
    });
  }
}
