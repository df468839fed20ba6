// Two people edit, delete, reply to and react to messages in the web chat
// (the message menu by hover, by keyboard, and by long press on a phone),
// and take screenshots at desktop and phone width. Driven by
// tests/api/browser_changes.rs.
//
// usage: node changes.cjs BASE_URL SCREENSHOT_DIR   (prints RESULT {json})
const path = require("node:path");
const h = require("./harness.cjs");

const [base, shots] = process.argv.slice(2);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const problems = [];

const register = (page, name) => h.register(page, base, name);

/** The message node showing `text`. */
function message(page, text) {
  return page.locator("#messages li.msg", { has: page.locator(".msg-text", { hasText: text }) }).last();
}

async function send(page, text) {
  await page.locator("#message").fill(text);
  await page.keyboard.press("Enter");
}

/** Opens a message's menu by hovering it and clicks `label` in it. */
async function act(page, text, label) {
  const node = message(page, text);
  await node.hover();
  await node.locator(".msg-actions").getByRole("button", { name: label, exact: true }).click();
}

async function shoot(page, name, viewport) {
  await page.setViewportSize(viewport);
  await page.screenshot({ path: path.join(shots, name) });
  await page.setViewportSize(DESKTOP);
}

async function scenario(ann, bob) {
  await register(ann, "ann");
  await register(bob, "bob");
  // Ann opens the room first, so she owns it.
  await ann.goto(`${base}/r/changes`);
  await h.createRoom(ann);
  await bob.goto(`${base}/r/changes`);
  await h.waitOnline(bob);

  await send(ann, "Lunch at noon?");
  await h.waitForMessage(bob, "Lunch at noon?");
  h.assert(await message(bob, "Lunch at noon?").locator(".act", { hasText: "Delete" }).count() === 0,
    "bob may not delete ann's message");

  // Reply: the quote shows above the composer, then on the message.
  await act(bob, "Lunch at noon?", "Reply");
  await bob.locator("#reply-bar").waitFor();
  h.assert((await bob.locator("#reply-text").textContent()) === "Lunch at noon?", "quote above the composer");
  await send(bob, "Yes, the usual place");
  await h.waitForMessage(ann, "Yes, the usual place");
  h.assert(await bob.locator("#reply-bar").isHidden(), "the quote goes once sent");
  const quote = message(ann, "Yes, the usual place").locator(".quote");
  h.assert((await quote.locator(".quote-text").textContent()) === "Lunch at noon?", "the reply quotes its parent");

  // React both ways; the toggle shows counts and who reacted.
  await act(ann, "Yes, the usual place", "React 👍");
  await act(bob, "Yes, the usual place", "React 👍");
  const thumbs = message(ann, "Yes, the usual place").locator(".reaction", { hasText: "👍" });
  await thumbs.locator(".reaction-count", { hasText: "2" }).waitFor();
  h.assert((await thumbs.getAttribute("title")) === "acct:ann, acct:bob", "who reacted, on hover");
  h.assert((await thumbs.getAttribute("aria-pressed")) === "true", "ann's own reaction is pressed");
  await act(bob, "Lunch at noon?", "React 🎉");
  await message(ann, "Lunch at noon?").locator(".reaction", { hasText: "🎉" }).waitFor();
  // A click on an existing reaction toggles it off.
  await thumbs.click();
  await thumbs.locator(".reaction-count", { hasText: "1" }).waitFor();
  await message(bob, "Yes, the usual place").locator(".reaction-count", { hasText: "1" }).waitFor();

  // Edit in place: Up in the empty composer edits ann's last message.
  await ann.locator("#message").focus();
  await ann.keyboard.press("ArrowUp");
  const box = ann.locator("#messages .edit-box");
  await box.waitFor();
  await box.fill("Lunch at 12:30?");
  await ann.keyboard.press("Enter");
  await h.waitForMessage(bob, "Lunch at 12:30? (edited)");
  // The reply's quote follows its parent's edit.
  await message(bob, "Yes, the usual place").locator(".quote-text", { hasText: "Lunch at 12:30?" }).waitFor();
  // Escape cancels an edit; the keyboard reaches the menu too.
  // Shift+Tab from the composer (past its attach button) reaches the last
  // message, whose menu opens.
  const mine = message(bob, "Yes, the usual place");
  await bob.locator("#message").focus();
  await bob.keyboard.press("Shift+Tab");
  h.assert(await bob.locator("#attach").evaluate((b) => b === document.activeElement), "the attach button comes first");
  await bob.keyboard.press("Shift+Tab");
  h.assert(await mine.evaluate((n) => n.contains(document.activeElement)), "the focus is in the last message");
  await mine.locator(".msg-actions").waitFor();
  await mine.getByRole("button", { name: "Edit", exact: true }).click();
  await bob.locator("#messages .edit-box").fill("never sent");
  await bob.keyboard.press("Escape");
  await h.waitForMessage(bob, "Yes, the usual place");
  // A click on a quote shows the parent.
  await message(ann, "Yes, the usual place").locator(".quote").click();
  await ann.locator("#messages li.msg.flash").waitFor();

  await send(bob, "Oops, wrong room");
  await h.waitForMessage(ann, "Oops, wrong room");
  await send(bob, "I will bring cake");
  await h.waitForMessage(ann, "I will bring cake");
  await shoot(ann, "changes-desktop.png", DESKTOP);
  // Menu open by hover, for the picture.
  await message(ann, "I will bring cake").hover();
  await ann.screenshot({ path: path.join(shots, "changes-menu-desktop.png") });

  // Delete with confirmation: bob his own; ann, the owner, anyone's.
  await act(bob, "Oops, wrong room", "Delete");
  await bob.locator("[data-confirm=delete]").click();
  await ann.locator("#messages .msg-text.deleted").first().waitFor();
  await act(ann, "I will bring cake", "Delete");
  await ann.locator("[data-confirm=delete]").click();
  await bob.locator("#messages .msg-text.deleted").nth(1).waitFor();
  h.assert(await bob.locator("#messages .msg-text", { hasText: "cake" }).count() === 0, "the text is gone");

  // A phone: a long press opens the menu.
  await bob.setViewportSize(PHONE);
  const node = message(bob, "Yes, the usual place");
  await node.dispatchEvent("touchstart");
  await bob.locator("#messages li.msg.menu-open .msg-actions").waitFor();
  await bob.screenshot({ path: path.join(shots, "changes-menu-phone.png") });
  await node.locator(".msg-actions").getByRole("button", { name: "Reply", exact: true }).click();
  await bob.screenshot({ path: path.join(shots, "changes-phone.png") });
  await bob.keyboard.press("Escape");
  await bob.setViewportSize(DESKTOP);
}

(async () => {
  const browser = await h.launch();
  try {
    const a = await browser.newContext({ viewport: DESKTOP });
    const b = await browser.newContext({ viewport: DESKTOP, hasTouch: true });
    const ann = await h.newPage(a, problems);
    const bob = await h.newPage(b, problems);
    await scenario(ann, bob);
    h.tell(`RESULT ${JSON.stringify({ problems })}`);
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
