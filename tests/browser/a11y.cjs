// Accessibility: axe-core (npm) on every page of the web chat, at desktop
// and phone width and in the dark scheme, with the phone's drawers open
// too. Any serious or critical violation fails the run. The room page is
// checked with what a busy room shows: a run of messages, a reply, a
// mention, reactions, markdown, a "New messages" line and the people panel.
// Driven by tests/api/browser_a11y.rs.
//
// usage: node a11y.cjs BASE_URL SCREENSHOT_DIR   (prints RESULT {json})
const fs = require("node:fs");
const h = require("./harness.cjs");

const [base] = process.argv.slice(2);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const problems = [];
const AXE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
/** What was checked, for the report. */
const checked = [];

/** Runs axe on the page as it is now; serious and critical findings are problems. */
async function audit(page, what) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.addScriptTag({ content: AXE });
  const found = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")} ${v.id === "color-contrast" ? (n.any[0]?.message ?? "") : ""}`.trim()) }));
  });
  checked.push(what);
  for (const v of found) problems.push(`${what}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(" | ")}`);
}

/** Each width, and the dark scheme at desktop width. */
async function everyView(page, what, extra = async () => {}) {
  for (const [name, size, scheme] of [["desktop", DESKTOP, "light"], ["phone", PHONE, "light"], ["dark", DESKTOP, "dark"]]) {
    await page.setViewportSize(size);
    await page.emulateMedia({ colorScheme: scheme });
    await audit(page, `${what} (${name})`);
    if (name === "phone") await extra(name);
  }
  await page.setViewportSize(DESKTOP);
  await page.emulateMedia({ colorScheme: "light" });
}

const register = (page, name) => h.register(page, base, name);

async function send(page, text) {
  await page.locator("#message").fill(text);
  await page.keyboard.press("Enter");
  await page.locator("#messages li.msg").filter({ hasText: text.split("\n")[0].replace(/[*`>]/g, "").trim() }).last().waitFor();
}

async function scenario(browser) {
  // The CSP forbids inline script: axe goes in by the test's hand only.
  const options = { viewport: DESKTOP, bypassCSP: true };
  const visitor = await h.newPage(await browser.newContext(options), problems);
  for (const [url, what] of [["/login", "sign in"], ["/register", "create an account"], ["/logout", "sign out"], ["/r/no%20such%20room", "not found"]]) {
    await visitor.goto(`${base}${url}`);
    await everyView(visitor, what);
  }
  // A refused sign-in shows its error.
  await visitor.goto(`${base}/login`);
  await visitor.getByLabel("Username").fill("nobody");
  await visitor.getByLabel("Password").fill("wrong password here");
  await visitor.getByRole("button", { name: "Sign in" }).click();
  await visitor.locator("[role=alert]:not([hidden])").first().waitFor();
  await audit(visitor, "sign in refused");

  const ann = await h.newPage(await browser.newContext(options), problems);
  const bob = await h.newPage(await browser.newContext(options), problems);
  await register(ann, "ann");
  await register(bob, "bob");
  await ann.goto(`${base}/r/general`);
  await h.createRoom(ann);
  await bob.goto(`${base}/r/general`);
  await h.waitOnline(bob);
  await send(ann, "Hello **everyone**, the build is *green*");
  await send(ann, "> quoted words\n\nand `inline code` with a link https://example.com/x");
  await send(bob, "```\nlet x = 1;\n```");
  await send(bob, "@ann look at this");
  // A reaction and a reply on the first message.
  const first = bob.locator("#messages li.msg").first();
  await first.hover();
  await first.getByRole("button", { name: "React 👍" }).click();
  await first.locator(".reaction").waitFor();
  await first.hover();
  await first.getByRole("button", { name: "Reply" }).click();
  await send(bob, "a reply");
  await ann.locator("#messages .quote").waitFor();
  // Ann comes back to unread messages: the "New messages" line.
  await ann.goto(`${base}/`);
  await send(bob, "while you were away");
  await ann.locator("#my-rooms .count").first().waitFor();
  await everyView(ann, "lobby");
  await ann.getByRole("searchbox", { name: "Search messages" }).fill("away");
  await ann.keyboard.press("Enter");
  await ann.locator("#search-results .search-hit").first().waitFor();
  await everyView(ann, "lobby (search results)");
  await ann.goto(`${base}/r/general`);
  await h.waitOnline(ann);
  await ann.locator("#messages .new-line").waitFor();
  await everyView(ann, "room", async () => {
    // The phone's drawers: rooms on the left, people on the right.
    await ann.locator("#nav-toggle").click();
    await ann.locator("#rooms-nav.open").waitFor();
    await audit(ann, "room (phone, rooms drawer)");
    await ann.keyboard.press("Escape");
    await ann.locator("#people-toggle").click();
    await ann.locator("#sidebar.open").waitFor();
    await audit(ann, "room (phone, people panel)");
    await ann.locator("#people-toggle").click();
  });
  // The people `@` offers, open over the composer.
  await ann.locator("#message").pressSequentially("@b");
  await ann.getByRole("option", { name: /bob/ }).waitFor();
  await audit(ann, "room (people to mention)");
  await ann.keyboard.press("Escape");
  await ann.locator("#message").fill("");
  // Search results over the timeline, and in the lobby.
  await ann.getByRole("searchbox", { name: "Search messages" }).fill("everyone");
  await ann.keyboard.press("Enter");
  await ann.locator("#search-results .search-hit").first().waitFor();
  await everyView(ann, "room (search results)");
  await ann.getByRole("button", { name: "Close" }).click();
  // A message's menu open, and a room that does not exist.
  const msg = ann.locator("#messages li.msg").last();
  await msg.focus();
  await audit(ann, "room (a message's menu)");
  await ann.goto(`${base}/r/nowhere`);
  await ann.getByRole("button", { name: /^Create #/ }).waitFor();
  await audit(ann, "room that does not exist");
}

(async () => {
  const browser = await h.launch();
  try {
    await scenario(browser);
  } catch (err) {
    problems.push(`scenario: ${err.stack || err}`);
  } finally {
    await browser.close();
  }
  h.tell(`RESULT ${JSON.stringify({ problems, checked })}`);
})();
