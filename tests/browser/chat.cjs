// Two people in two browser contexts use the web pages end to end:
// register, lobby, create and join, chat both ways, typing, presence, the
// XSS message, a private room and its invite, scroll-back, screenshots, and
// a server restart mid-conversation (driven by tests/api/browser.rs).
//
// usage: node chat.cjs BASE_URL SCREENSHOT_DIR   (talks to the Rust test on stdin/stdout)
const fs = require("node:fs");
const path = require("node:path");
const h = require("./harness.cjs");

const [base, shots] = process.argv.slice(2);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const XSS = "<img src=x onerror=alert(1)>";
const problems = [];
const waitFor = h.harnessLines();

async function register(page, name, next = "/") {
  if (!page.url().includes("/login")) await page.goto(`${base}/login`);
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${base}${next}`);
}

async function shoot(page, name, viewport) {
  await page.setViewportSize(viewport);
  await page.screenshot({ path: path.join(shots, name) });
  await page.setViewportSize(DESKTOP);
}

async function typeAndSend(page, text) {
  await page.locator("#message").fill(text);
  await page.keyboard.press("Enter");
}

async function conversation(ann, bob) {
  // Signed-out visitors are sent to sign in, then back where they were going.
  // Opening a room that does not exist yet asks first, then creates it.
  await ann.goto(`${base}/r/design`);
  await ann.waitForURL(/\/login\?next=/);
  await register(ann, "ann", "/r/design");
  await register(bob, "bob");
  await ann.locator("#room-error", { hasText: "#design does not exist" }).waitFor();
  await h.createRoom(ann);
  h.assert(await ann.locator("#send").isDisabled(), "send is disabled while the box is empty");

  // Bob sees the room and its online count in the lobby, then joins by name.
  await bob.reload();
  await bob.locator("#public-rooms a", { hasText: "design" }).getByText("1 online").waitFor();
  await bob.getByLabel("Room name").fill("design");
  await bob.keyboard.press("Enter");
  await bob.waitForURL(`${base}/r/design`);
  await h.waitOnline(bob);

  await ann.locator('#people [data-user="acct:bob"]').waitFor();
  await ann.locator("#messages .notice", { hasText: "bob joined" }).waitFor();
  await bob.locator('#people [data-user="acct:ann"]').waitFor();

  // Typing shows on the other side; the message clears it.
  await bob.locator("#message").pressSequentially("hello a", { delay: 20 });
  h.assert(!(await bob.locator("#send").isDisabled()), "send is enabled with text");
  await ann.locator("#typing", { hasText: "bob is typing…" }).waitFor();
  await bob.locator("#message").pressSequentially("nn", { delay: 20 });
  await bob.keyboard.press("Enter");
  await h.waitForMessage(ann, "hello ann");
  // What a screen reader finds: a labelled log of messages and a labelled box.
  await ann.getByRole("log", { name: "Messages in #design" }).getByText("hello ann").waitFor();
  h.assert(await ann.getByRole("combobox", { name: "Message #design" }).isVisible(), "labelled message box (a combobox: @ offers people)");
  await ann.locator("#typing:empty").waitFor({ state: "attached" });
  h.assert((await bob.locator("#message").inputValue()) === "", "the box is cleared after sending");

  // Shift+Enter is a new line; Enter sends.
  await ann.locator("#message").pressSequentially("line one");
  await ann.keyboard.press("Shift+Enter");
  await ann.locator("#message").pressSequentially("line two");
  await ann.keyboard.press("Enter");
  await h.waitForMessage(bob, "line one\nline two");
  const author = await bob.locator("#messages li.msg").last().locator(".author").textContent();
  h.assert(author === "ann", `author shown (${author})`);

  // Markup typed by a user is shown as those characters, and never runs.
  await typeAndSend(ann, XSS);
  await h.waitForMessage(bob, XSS);
  h.assert((await bob.locator("#messages img").count()) === 0, "no <img> element was created");
}

async function busyRoom(ann, bob) {
  const lines = [
    ["ann", "Morning! Did everyone see the new mockups?"],
    ["bob", "Yes, the sidebar feels a lot lighter now :)"],
    ["bob", "Only question: do we keep the unread badge?"],
    ["ann", "Keep it, but only for rooms you've joined."],
    ["ann", "I'll update the spec after lunch."],
    ["bob", "Perfect. Shipping the icons to the shared drive."],
    ["ann", "Thanks! Also: standup moves to 10:15 tomorrow."],
    ["bob", "Noted, thanks"],
  ];
  for (const [who, text] of lines) await h.post(who === "ann" ? ann : bob, "design", [text]);
  await h.waitForMessage(ann, lines.at(-1)[1]);
  await h.waitForMessage(bob, lines.at(-1)[1]);
  await ann.locator("#message").pressSequentially("Great, see you there");
  await bob.locator("#typing", { hasText: "ann is typing…" }).waitFor();
  await shoot(bob, "room-desktop.png", DESKTOP);
  await shoot(bob, "room-phone.png", PHONE);
  await ann.keyboard.press("Enter");
  await h.waitForMessage(bob, "Great, see you there");
}

async function privateRoom(annCtx, bobCtx) {
  const ann = await h.newPage(annCtx, problems);
  await ann.goto(`${base}/`);
  await ann.getByLabel("Name", { exact: true }).fill("secret");
  await ann.locator('label[for="vis-private"]').click();
  await ann.getByRole("button", { name: "Create room" }).click();
  await ann.waitForURL(`${base}/r/secret`);
  await h.waitOnline(ann);

  const bob = await h.newPage(bobCtx, problems);
  await bob.goto(`${base}/r/secret`);
  await bob.locator("#room-error", { hasText: "private" }).waitFor();
  h.assert(await bob.locator("#message").isDisabled(), "a stranger cannot type in a private room");

  // Invited by finding him in the directory; the member list shows him.
  await ann.getByLabel("Invite someone").fill("bo");
  await ann.getByRole("button", { name: "Invite bob" }).click();
  await ann.locator("#member-note", { hasText: "bob was invited" }).waitFor();
  await ann.locator('#member-list [data-user="acct:bob"]').waitFor();

  await bob.getByRole("button", { name: "Try again" }).click();
  await h.waitOnline(bob);
  await typeAndSend(bob, "thanks for the invite");
  await h.waitForMessage(ann, "thanks for the invite");

  // Removed again: bob's page is put out of the room at once.
  await ann.locator("#member-list").getByRole("button", { name: "Remove bob" }).click();
  await ann.locator("#member-note", { hasText: "bob was removed" }).waitFor();
  await ann.locator('#member-list [data-user="acct:bob"]').waitFor({ state: "detached" });
  await bob.locator("#room-error", { hasText: "You were removed" }).waitFor();
  h.assert(await bob.locator("#message").isDisabled(), "a removed member cannot type");
  await ann.locator('#people [data-user="acct:bob"]').waitFor({ state: "detached" });
  await ann.getByLabel("Invite someone").fill("bob");
  await ann.getByRole("button", { name: "Invite bob" }).click();
  await ann.locator("#member-note", { hasText: "bob was invited" }).waitFor();

  // The lobby lists both rooms as bob's (he joined them), at both widths.
  const lobby = await h.newPage(bobCtx, problems);
  await lobby.goto(`${base}/`);
  await lobby.locator("#my-rooms a", { hasText: "design" }).waitFor();
  await lobby.locator("#my-rooms a", { hasText: "secret" }).waitFor();
  await shoot(lobby, "lobby-desktop.png", DESKTOP);
  await shoot(lobby, "lobby-phone.png", PHONE);
  await Promise.all([ann.close(), bob.close(), lobby.close()]);
}

async function scrollBack(annCtx) {
  const page = await h.newPage(annCtx, problems);
  await page.goto(`${base}/`);
  const old = Array.from({ length: 120 }, (_, i) => `old ${i + 1}`);
  const created = await page.evaluate(async () => {
    const res = await fetch("/api/rooms", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "archive" }),
    });
    return res.status;
  });
  h.assert(created === 201, `archive created (${created})`);
  await h.post(page, "archive", old);
  await page.goto(`${base}/r/archive`);
  await h.waitOnline(page);
  await h.waitForMessage(page, "old 120");
  h.assert((await h.shownIds(page)).length === 50, "the room opens with the latest 50");
  // Scrolling to the top loads one older page each time, until the first message.
  for (const want of [100, 120]) {
    await page.locator("#timeline").evaluate((t) => (t.scrollTop = 0));
    await h.waitForCount(page, want);
  }
  await page.locator("#history-start").waitFor();
  await h.waitForMessage(page, "old 1");
  const ids = await h.shownIds(page);
  h.assert(ids.length === 120, `all 120 shown after scrolling back (${ids.length})`);
  h.assert(ids.every((id, i) => i === 0 || id > ids[i - 1]), "in id order");
  await page.close();
}

async function restart(ann, bob) {
  await typeAndSend(bob, "before the restart");
  await h.waitForMessage(ann, "before the restart");
  h.tell("KILL");
  await waitFor("KILLED");
  await Promise.all([ann, bob].map((p) => p.locator('#conn[data-state="reconnecting"]').waitFor()));
  h.assert(await ann.locator("#message").isDisabled(), "no typing into a dead connection");
  h.tell("DOWN");
  await waitFor("RESTARTED", 120_000);
  await Promise.all([h.waitOnline(ann), h.waitOnline(bob)]);
  // Posted while both pages were away: only the catch-up can bring these.
  for (const p of [ann, bob]) await h.waitForMessage(p, "while you were away 60");
  await typeAndSend(ann, "after the restart");
  await h.waitForMessage(bob, "after the restart");
  await typeAndSend(bob, "all caught up");
  await h.waitForMessage(ann, "all caught up");
}

async function leaving(ann, bob) {
  await bob.close();
  await ann.locator("#messages .notice", { hasText: "bob left" }).waitFor();
  await ann.locator('#people [data-user="acct:bob"]').waitFor({ state: "detached" });
  h.assert((await ann.locator("#online-count").textContent()) === "1", "only ann is online");
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const browser = await h.launch();
  try {
    const annCtx = await browser.newContext({ viewport: DESKTOP });
    const bobCtx = await browser.newContext({ viewport: DESKTOP });
    const ann = await h.newPage(annCtx, problems);
    const bob = await h.newPage(bobCtx, problems);
    await conversation(ann, bob);
    await busyRoom(ann, bob);
    await privateRoom(annCtx, bobCtx);
    await scrollBack(annCtx);
    await restart(ann, bob);
    const result = { ann: await h.shownIds(ann), bob: await h.shownIds(bob), problems };
    await leaving(ann, bob);
    h.tell(`RESULT ${JSON.stringify(result)}`);
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err.stack || String(err));
  console.error(`problems seen: ${JSON.stringify(problems)}`);
  process.exit(1);
});
