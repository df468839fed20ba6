// /login and /register: one form each; a new account is signed in at once.
import { ApiError, api, logout } from "./api";
import { byId, say } from "./dom";

/**
 * Where to go after signing in, as an absolute URL on this origin: `?next=`
 * when it resolves to this origin, else `/`. Decided by the URL parser the
 * browser itself navigates with, not by a pattern: it drops tabs and
 * newlines and reads `\` as `/`, so `/%09/evil.example` is another host to
 * it. The result is absolute because a path such as `/.//evil` resolves to
 * `//evil`, which would be read again as another host.
 */
function nextUrl(): URL {
  const home = new URL("/", window.location.origin);
  const next = new URLSearchParams(window.location.search).get("next");
  if (!next) return home;
  let url: URL;
  try {
    url = new URL(next, window.location.origin);
  } catch {
    return home;
  }
  return url.origin === window.location.origin ? url : home;
}

export function initAuthPage(kind: "login" | "register"): void {
  const form = byId<HTMLFormElement>("auth-form");
  const error = byId("form-error");
  const username = byId<HTMLInputElement>("username");
  const password = byId<HTMLInputElement>("password");
  const next = nextUrl();
  const path = `${next.pathname}${next.search}${next.hash}`;
  const link = byId<HTMLAnchorElement>("switch-link");
  if (path !== "/") link.search = `?next=${encodeURIComponent(path)}`;

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
      window.location.assign(next.href);
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
