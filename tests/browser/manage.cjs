// Managing a room in the web chat: its owner sets a topic (everyone in the
// room sees it at once, a member may not edit it), the member list shows
// roles, and the owner deletes the room after an in-page confirmation:
// a member who has it open is told and put out, and it leaves the list of
// a member who only had it in the sidebar. Screenshots at desktop and phone
// width. Driven by tests/api/browser_manage.rs.
//
// usage: node manage.cjs BASE_URL SCREENSHOT_DIR   (prints RESULT {json})
const path = require("node:path");
const h = require("./harness.cjs");

const [base, shots] = process.argv.slice(2);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const problems = [];

const register = (page, name) => h.register(page, base, name);

async function shoot(page, name, viewport) {
  // A tab behind another of its window draws nothing to shoot.
  await page.bringToFront();
  await page.setViewportSize(viewport);
  await page.screenshot({ path: path.join(shots, name) });
  await page.setViewportSize(DESKTOP);
}

function link(page, room) {
  return page.locator("#nav-rooms a.room-link", { has: page.locator(".room-link-name", { hasText: new RegExp(`^${room}$`) }) });
}

async function scenario(browser) {
  const ann = await h.newPage(await browser.newContext({ viewport: DESKTOP }), problems);
  const bobCtx = await browser.newContext({ viewport: DESKTOP });
  const bob = await h.newPage(bobCtx, problems);
  await register(ann, "ann");
  await register(bob, "bob");
  await ann.goto(`${base}/r/plans`);
  await h.createRoom(ann);
  await bob.goto(`${base}/r/plans`);
  await h.waitOnline(bob);
  // Bob also has a room of his own open in a second tab: plans is only in its sidebar.
  const side = await h.newPage(bobCtx, problems);
  await side.goto(`${base}/r/elsewhere`);
  await h.createRoom(side);
  await link(side, "plans").waitFor();

  // The members, with their roles.
  await ann.locator('#member-list [data-user="acct:bob"]').waitFor();
  const roles = await ann.$$eval("#member-list .person", (rows) =>
    rows.map((r) => `${r.querySelector(".person-name")?.textContent}:${r.querySelector(".role")?.textContent ?? "member"}`),
  );
  h.assert(JSON.stringify(roles) === JSON.stringify(["ann:owner", "bob:member"]), `members and roles (${roles})`);
  h.assert(await bob.locator("#topic-edit").isHidden(), "a member may not edit the topic");
  h.assert(await bob.locator("#delete-room").isHidden(), "nor delete the room");

  // The topic, set by the owner, reaches bob at once.
  await ann.getByRole("button", { name: "Edit topic" }).click();
  await ann.getByLabel("Topic", { exact: true }).fill("Q3 planning — dates and owners");
  await ann.getByRole("button", { name: "Save topic" }).click();
  await bob.locator("#room-topic", { hasText: "Q3 planning — dates and owners" }).waitFor();
  await bob.locator("#messages .notice", { hasText: "ann set the topic: Q3 planning" }).waitFor();
  h.assert((await ann.locator("#topic-text").textContent()) === "Q3 planning — dates and owners", "the About panel shows it");
  // The longest topic there may be (250 characters) is one line in the header.
  await ann.getByRole("button", { name: "Edit topic" }).click();
  await ann.getByLabel("Topic", { exact: true }).fill("x".repeat(250));
  await ann.getByRole("button", { name: "Save topic" }).click();
  await bob.locator("#room-topic", { hasText: "x".repeat(250) }).waitFor();
  await shoot(ann, "manage-desktop.png", DESKTOP);
  await ann.setViewportSize(PHONE);
  await ann.locator("#people-toggle").click();
  await ann.locator("#sidebar.open").waitFor();
  await ann.screenshot({ path: path.join(shots, "manage-phone.png") });
  await ann.locator("#people-toggle").click();
  await ann.setViewportSize(DESKTOP);

  // `@` offers the room's people; Tab writes the handle.
  await ann.locator("#message").pressSequentially("thanks @b");
  const option = ann.getByRole("option", { name: /bob/ });
  await option.waitFor();
  h.assert((await ann.locator("#mention-list [role=option]").count()) === 1, "only bob starts with b (ann is the writer)");
  await ann.screenshot({ path: path.join(shots, "mention-desktop.png") });
  await ann.keyboard.press("Tab");
  h.assert((await ann.locator("#message").inputValue()) === "thanks @bob ", `the handle is written (${await ann.locator("#message").inputValue()})`);
  h.assert(await ann.locator("#mention-list").isHidden(), "the list closes");
  await ann.locator("#message").pressSequentially("for the dates");
  await ann.keyboard.press("Enter");
  await bob.locator("#messages mark.mention", { hasText: "@bob" }).waitFor();

  // Deleting asks first; "Keep" keeps it.
  await ann.getByRole("button", { name: "Delete #plans" }).click();
  await ann.getByRole("button", { name: "Keep" }).click();
  h.assert(await ann.locator("#delete-confirm").isHidden(), "Keep closes the question");
  await ann.getByRole("button", { name: "Delete #plans" }).click();
  await ann.getByRole("button", { name: "Delete", exact: true }).click();
  await bob.locator("#room-error", { hasText: "ann deleted #plans." }).waitFor();
  h.assert(await bob.locator("#message").isDisabled(), "nobody types into a deleted room");
  await ann.locator("#room-error", { hasText: "You deleted #plans." }).waitFor();
  await link(side, "plans").waitFor({ state: "detached" });
  await link(bob, "plans").waitFor({ state: "detached" });
  await shoot(bob, "manage-deleted-desktop.png", DESKTOP);
  const left = await side.evaluate(async () => (await (await fetch("/api/rooms")).json()).rooms.map((r) => r.name));
  h.assert(!left.includes("plans"), `the room is gone (${left})`);
}

h.run(scenario, problems);
