// Entry point: each page's <body data-page> picks its script.
import { initAuthPage, initLogout } from "./auth";
import { initLobby } from "./lobby";
import { initRoom } from "./room";

function start(): void {
  const page = document.body.dataset.page;
  initLogout();
  if (page === "login" || page === "register") initAuthPage(page);
  else if (page === "lobby") initLobby();
  else if (page === "room") initRoom();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
