// Room moderation in the web chat, three people in three browser contexts:
// the owner appoints a moderator from the people panel, the moderator
// deletes a member's message from its menu, mutes
// a member (whose composer says until when), then bans them from the
// public room (their page says so). Screenshots at desktop and phone width.
// Driven by tests/api/browser.rs.
//
// usage: node moderation.cjs BASE_URL SCREENSHOT_DIR   (prints RESULT {json} on success)
const fs = require("node:fs");
const path = require("node:path");
const h = require("./harness.cjs");

const [base, shots] = process.argv.slice(2);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const ROOM = "town-hall";
const problems = [];

async function register(page, name, create = false) {
  await page.goto(`${base}/register?next=/r/${ROOM}`);
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${base}/r/${ROOM}`);
  if (create) await h.createRoom(page);
  else await h.waitOnline(page);
}

async function shoot(page, name, viewport, openPeople = false) {
  await page.setViewportSize(viewport);
  const toggle = page.locator("#people-toggle");
  if (openPeople && (await toggle.isVisible())) await toggle.click();
  await page.screenshot({ path: path.join(shots, name) });
  if (openPeople && (await toggle.isVisible())) await toggle.click();
  await page.setViewportSize(DESKTOP);
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const browser = await h.launch();
  try {
    const pages = {};
    for (const name of ["ann", "bob", "cid"]) {
      const context = await browser.newContext({ viewport: DESKTOP });
      pages[name] = await h.newPage(context, problems);
      // ann comes first: she creates the room, hers.
      await register(pages[name], name, name === "ann");
    }
    const { ann, bob, cid } = pages;
    await ann.locator('#people [data-user="acct:cid"]').waitFor();

    // The owner sees the moderators' buttons, and appoints bob.
    await ann.locator('#people [data-user="acct:ann"] .role', { hasText: "owner" }).waitFor();
    h.assert((await cid.locator("#people .person-actions").count()) === 0, "a member sees no moderation buttons");
    h.assert((await bob.locator("#people .person-actions").count()) === 0, "nor does bob before he is appointed");
    await ann.getByRole("button", { name: "Make mod bob" }).click();
    for (const p of [ann, bob, cid]) {
      await p.locator('#people [data-user="acct:bob"] .role', { hasText: "mod" }).waitFor();
    }
    await cid.locator("#messages .notice", { hasText: "bob became a moderator" }).waitFor();

    // bob, now a moderator, may mute and ban cid but not appoint anyone.
    await bob.getByRole("button", { name: "Mute cid" }).waitFor();
    h.assert((await bob.getByRole("button", { name: /Make mod/ }).count()) === 0, "only the owner appoints");
    h.assert((await bob.locator('#people [data-user="acct:ann"] .person-actions').count()) === 0, "nobody acts on the owner");
    await h.post(cid, ROOM, ["before the mute", "something rude"]);
    await h.waitForMessage(bob, "something rude");
    // bob, a moderator, deletes cid's message from its menu; everyone sees
    // the tombstone.
    const rude = bob.locator("#messages li.msg", { has: bob.locator(".msg-text", { hasText: "something rude" }) }).last();
    await rude.hover();
    await rude.locator(".msg-actions").getByRole("button", { name: "Delete", exact: true }).click();
    await bob.locator("[data-confirm=delete]").click();
    for (const p of [ann, cid]) {
      await p.locator("#messages .msg-text.deleted").first().waitFor();
      h.assert((await p.locator("#messages .msg-text", { hasText: "something rude" }).count()) === 0,
        "the deleted text is gone from every page");
    }
    await bob.getByRole("button", { name: "Mute cid" }).click();
    await cid.locator("#composer-state", { hasText: /You are muted until/ }).waitFor();
    h.assert(await cid.locator("#message").isDisabled(), "a muted user's box is disabled");
    await bob.locator("#messages .notice", { hasText: "cid was muted until" }).waitFor();
    const state = await cid.locator("#composer-state").textContent();
    await shoot(cid, "moderation-muted-desktop.png", DESKTOP);
    await shoot(cid, "moderation-muted-phone.png", PHONE);
    await shoot(bob, "moderation-moderator-desktop.png", DESKTOP);
    await shoot(bob, "moderation-moderator-phone.png", PHONE, true);

    // A ban puts cid out of the public room, and his page says so.
    await bob.getByRole("button", { name: "Ban cid" }).click();
    await cid.locator("#room-error", { hasText: `You were banned from #${ROOM}.` }).waitFor();
    h.assert(await cid.locator("#message").isDisabled(), "a banned user's box is disabled");
    await ann.locator('#people [data-user="acct:cid"]').waitFor({ state: "detached" });
    await shoot(cid, "moderation-banned-desktop.png", DESKTOP);
    await shoot(cid, "moderation-banned-phone.png", PHONE);
    // Coming back is refused with the same words.
    await cid.reload();
    await cid.locator("#room-error", { hasText: `You are banned from #${ROOM}.` }).waitFor();
    h.tell(`RESULT ${JSON.stringify({ problems, state })}`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
