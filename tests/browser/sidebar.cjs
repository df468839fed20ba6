// Your rooms in the web chat: two people, one of them with two tabs. A room
// the page has not opened gets a badge (and a mention badge) live; reading
// it in one tab clears it in the other; the tab title counts; a missing room
// is created only when asked; leaving a room for good takes it out of the
// list. Screenshots at desktop and phone width. Driven by
// tests/api/browser_sidebar.rs.
//
// usage: node sidebar.cjs BASE_URL SCREENSHOT_DIR   (prints RESULT {json})
const path = require("node:path");
const h = require("./harness.cjs");

const [base, shots] = process.argv.slice(2);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const problems = [];

const register = (page, name) => h.register(page, base, name);

async function send(page, text) {
  await page.locator("#message").fill(text);
  await page.keyboard.press("Enter");
  await h.waitForMessage(page, text);
}

async function shoot(page, name, viewport) {
  await page.setViewportSize(viewport);
  await page.screenshot({ path: path.join(shots, name) });
  await page.setViewportSize(DESKTOP);
}

/** The link to `room` in a list of rooms (`#nav-rooms` or `#my-rooms`). */
function link(page, list, room) {
  return page.locator(`${list} a.room-link`, { has: page.locator(".room-link-name", { hasText: new RegExp(`^${room}$`) }) });
}

async function scenario(browser) {
  const annCtx = await browser.newContext({ viewport: DESKTOP });
  // Bob allows notifications; each one shown is recorded, and the test
  // says when his tab counts as hidden.
  const bobCtx = await browser.newContext({ viewport: DESKTOP, permissions: ["notifications"] });
  await bobCtx.addInitScript(() => {
    window.__shown = [];
    const Real = window.Notification;
    window.Notification = class extends Real {
      constructor(title, options) {
        super(title, options);
        window.__shown.push({ title, body: options?.body });
      }
    };
    Object.defineProperty(document, "hidden", { get: () => window.__hidden === true });
  });
  const ann = await h.newPage(annCtx, problems);
  const bob = await h.newPage(bobCtx, problems);
  await register(ann, "ann");
  await register(bob, "bob");

  // Nothing is made by visiting: a missing room asks first.
  await ann.goto(`${base}/r/general`);
  await ann.locator("#room-error", { hasText: "#general does not exist. Create it?" }).waitFor();
  const before = await ann.evaluate(async () => (await (await fetch("/api/rooms")).json()).rooms.length);
  h.assert(before === 0, `no room made by the visit (${before})`);
  await h.createRoom(ann);
  await send(ann, "welcome to general");

  // Bob joins general, then opens a room of his own; a second tab sits in
  // the lobby.
  await bob.goto(`${base}/r/general`);
  await h.waitOnline(bob);
  await h.waitForMessage(bob, "welcome to general");
  await bob.goto(`${base}/r/side`);
  await h.createRoom(bob);
  await link(bob, "#nav-rooms", "general").waitFor();
  const lobby = await h.newPage(bobCtx, problems);
  await lobby.goto(`${base}/`);
  await link(lobby, "#my-rooms", "general").waitFor();
  h.assert((await link(lobby, "#my-rooms", "general").locator(".count").count()) === 0, "general starts read");

  // Ann writes in general: both of bob's tabs badge it, live; the mention
  // raises a notification in the tab that is hidden (and only there).
  await bob.evaluate(() => (window.__hidden = true));
  await send(ann, "lunch at noon?");
  await send(ann, "@bob are you in?");
  for (const page of [bob, lobby]) {
    const list = page === bob ? "#nav-rooms" : "#my-rooms";
    await link(page, list, "general").locator(".count:not(.mention)", { hasText: "2" }).waitFor();
    await link(page, list, "general").locator(".count.mention", { hasText: "@1" }).waitFor();
    h.assert(await link(page, list, "general").evaluate((a) => a.classList.contains("unread")), "bold when unread");
  }
  await link(lobby, "#my-rooms", "general").locator(".room-last", { hasText: "ann: @bob are you in?" }).waitFor();
  await bob.waitForFunction(() => window.__shown.length === 1);
  const shown = await bob.evaluate(() => window.__shown);
  h.assert(JSON.stringify(shown) === JSON.stringify([{ title: "ann mentioned you", body: "in #general" }]),
    `one notification, for the mention (${JSON.stringify(shown)})`);
  h.assert((await lobby.evaluate(() => window.__shown.length)) === 0, "a visible tab does not notify");
  await bob.evaluate(() => (window.__hidden = false));
  // A screen reader hears the counts after the name (the link's name is its text).
  const heard = await link(bob, "#nav-rooms", "general").ariaSnapshot();
  h.assert(/link "general \(2 unread, 1 mentioning you\) ann: @bob are you in\?"/.test(heard), `a screen reader hears the counts (${heard})`);
  await lobby.waitForFunction(() => document.title.startsWith("(2) "));
  await shoot(bob, "sidebar-desktop.png", DESKTOP);
  await shoot(lobby, "sidebar-lobby-desktop.png", DESKTOP);
  await bob.setViewportSize(PHONE);
  await bob.locator("#back-count", { hasText: "2" }).waitFor();
  await bob.screenshot({ path: path.join(shots, "sidebar-phone.png") });
  await bob.setViewportSize(DESKTOP);
  await shoot(lobby, "sidebar-lobby-phone.png", PHONE);

  // Opening general reads it: a "New messages" line above ann's first
  // unread message, and the badge clears in the other tab too. It opens in
  // the same page over the same socket: no load, no new WebSocket.
  let sockets = 0;
  bob.on("websocket", () => (sockets += 1));
  await bob.evaluate(() => (window.__samePage = true));
  await bob.locator("#message").fill("a draft for side");
  await link(bob, "#nav-rooms", "general").click();
  await bob.waitForURL(`${base}/r/general`);
  await h.waitOnline(bob);
  await bob.locator("#room-name", { hasText: "#general" }).waitFor();
  h.assert(await bob.evaluate(() => window.__samePage === true), "switching rooms does not load a page");
  const line = bob.locator("#messages .new-line");
  await line.waitFor();
  const next = await line.evaluate((l) => l.nextElementSibling?.querySelector(".msg-text")?.textContent);
  h.assert(next === "lunch at noon?", `the line is above the first unread (${next})`);
  await link(lobby, "#my-rooms", "general").locator(".count:not(.mention)").waitFor({ state: "detached" });
  await link(lobby, "#my-rooms", "general").locator(".count.mention").waitFor({ state: "detached" });
  await lobby.waitForFunction(() => !document.title.startsWith("("));
  h.assert((await link(bob, "#nav-rooms", "general").getAttribute("aria-current")) === "page", "the open room is marked");
  h.assert((await bob.locator("#message").inputValue()) === "", "the draft stays with its room");
  h.assert((await bob.title()) === "#general · roomcast", `the tab is named after the room (${await bob.title()})`);
  // Back and forward switch too; side's draft is still there.
  await bob.goBack();
  await bob.locator("#room-name", { hasText: "#side" }).waitFor();
  await h.waitOnline(bob);
  h.assert((await bob.locator("#message").inputValue()) === "a draft for side", "the draft came back");
  h.assert((await h.shownIds(bob)).length === 0, "side shows none of general's messages");
  await bob.locator("#message").fill("");
  await bob.goForward();
  await bob.locator("#room-name", { hasText: "#general" }).waitFor();
  await h.waitOnline(bob);
  await h.waitForMessage(bob, "lunch at noon?");
  // The phone's drawer: the list of rooms, from the top bar.
  await bob.setViewportSize(PHONE);
  await bob.getByRole("button", { name: "Your rooms" }).click();
  await link(bob, "#nav-rooms", "side").waitFor();
  await bob.screenshot({ path: path.join(shots, "sidebar-phone-drawer.png") });
  await link(bob, "#nav-rooms", "side").click();
  await bob.locator("#room-name", { hasText: "#side" }).waitFor();
  h.assert(!(await bob.locator("#rooms-nav").isVisible()), "the drawer closes on a choice");
  await h.waitOnline(bob);
  await bob.setViewportSize(DESKTOP);
  await link(bob, "#nav-rooms", "general").click();
  await bob.locator("#room-name", { hasText: "#general" }).waitFor();
  await h.waitOnline(bob);
  h.assert(sockets === 0, `one socket for every switch (${sockets} more opened)`);

  // A direct message from scratch: ann finds bob in the directory.
  await ann.goto(`${base}/`);
  await ann.getByLabel("Message someone").fill("bo");
  await ann.locator("#dm-found").getByRole("button", { name: "bob" }).click();
  await ann.waitForURL(/\/r\/dm(:|%3A)[0-9a-f]{32}$/);
  await h.waitOnline(ann);
  await ann.locator("#room-name", { hasText: "bob" }).waitFor();
  await send(ann, "psst, bob");
  const dm = bob.locator("#nav-dms a.room-link", { hasText: "ann" });
  await dm.locator(".count", { hasText: "1" }).waitFor();
  await shoot(bob, "sidebar-dm-desktop.png", DESKTOP);
  await dm.click();
  await h.waitOnline(bob);
  await h.waitForMessage(bob, "psst, bob");
  await bob.locator("#room-name", { hasText: "ann" }).waitFor();
  await link(lobby, "#my-dms", "ann").waitFor();
  // Links are clickable, and only http(s) ones: `javascript:` stays text.
  await send(ann, "see https://example.com/notes?a=1. not javascript:alert(1) nor <b>x</b>");
  await h.waitForMessage(bob, "see https://example.com/notes?a=1. not javascript:alert(1) nor <b>x</b>");
  const links = await bob.$$eval("#messages .msg-text a", (as) =>
    as.map((a) => ({ href: a.getAttribute("href"), rel: a.getAttribute("rel"), text: a.textContent })),
  );
  h.assert(
    JSON.stringify(links) ===
      JSON.stringify([{ href: "https://example.com/notes?a=1", rel: "noopener noreferrer", text: "https://example.com/notes?a=1" }]),
    `one safe link (${JSON.stringify(links)})`,
  );
  h.assert((await bob.locator("#messages .msg-text b").count()) === 0, "no HTML from a message");
  // The markdown subset, as DOM nodes; anything else as typed.
  await ann.locator("#message").fill("**bold** and *it* with `a<b>` and snake_case_name\n\n> a quote\n\n```\nif (x < 1) {}\n```\n# not a heading");
  await ann.keyboard.press("Enter");
  const md = bob.locator("#messages li.msg").last();
  await md.locator("pre code").waitFor();
  const parts = await md.evaluate((li) => ({
    strong: li.querySelector(".msg-text strong")?.textContent,
    em: li.querySelector(".msg-text em")?.textContent,
    code: li.querySelector(".msg-text p code")?.textContent,
    quote: li.querySelector(".msg-text blockquote")?.textContent,
    block: li.querySelector(".msg-text pre code")?.textContent,
    last: li.querySelector(".msg-text")?.lastElementChild?.textContent,
    elements: [...li.querySelectorAll(".msg-text *")].map((n) => n.tagName.toLowerCase()).sort().join(","),
  }));
  h.assert(
    JSON.stringify(parts) ===
      JSON.stringify({ strong: "bold", em: "it", code: "a<b>", quote: "a quote", block: "if (x < 1) {}", last: "# not a heading",
        elements: "blockquote,code,code,em,p,p,p,pre,strong" }),
    `markdown drawn as nodes (${JSON.stringify(parts)})`,
  );
  await shoot(bob, "room-markdown-desktop.png", DESKTOP);
  await shoot(bob, "room-markdown-phone.png", PHONE);
  await bob.goto(`${base}/r/general`);
  await h.waitOnline(bob);

  // Leaving for good, with an in-page confirmation.
  await bob.getByRole("button", { name: "Leave #general" }).click();
  await bob.getByRole("button", { name: "Leave", exact: true }).click();
  await bob.waitForURL(`${base}/`);
  await link(bob, "#my-rooms", "side").waitFor();
  await bob.locator("#public-rooms a", { hasText: "general" }).waitFor();
  h.assert((await link(bob, "#my-rooms", "general").count()) === 0, "general left the list");
  await link(lobby, "#my-rooms", "general").waitFor({ state: "detached" });
  await Promise.all([annCtx.close(), bobCtx.close()]);
}

h.run(scenario, problems);
