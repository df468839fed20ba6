// Search in the web chat: two people; an old message far back in one room
// and a recent one in another are found from the box above the list of
// rooms, with the matched words marked, and a click opens the room at the
// message (older pages load until it is there), in the same page. A
// private room of the other person is never in the results. Screenshots
// at desktop and phone width. Driven by tests/api/browser_search.rs.
//
// usage: node search.cjs BASE_URL SCREENSHOT_DIR   (prints RESULT {json})
const path = require("node:path");
const h = require("./harness.cjs");

const [base, shots] = process.argv.slice(2);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const problems = [];

const register = (page, name) => h.register(page, base, name);

async function search(page, q) {
  await page.getByRole("searchbox", { name: "Search messages" }).fill(q);
  await page.keyboard.press("Enter");
  await page.locator("#search-status:not([hidden])", { hasText: "found for" }).waitFor();
}

async function scenario(browser) {
  const ann = await h.newPage(await browser.newContext({ viewport: DESKTOP }), problems);
  const bob = await h.newPage(await browser.newContext({ viewport: DESKTOP }), problems);
  await register(ann, "ann");
  await register(bob, "bob");
  await ann.goto(`${base}/r/general`);
  await h.createRoom(ann);
  await ann.goto(`${base}/r/ops`);
  await h.createRoom(ann);
  // Ann's private room: its words must never reach bob.
  await ann.evaluate(async () => {
    const r = await fetch("/api/rooms", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "secret", visibility: "private" }),
    });
    if (r.status !== 201) throw new Error(`create: ${r.status}`);
  });
  await h.post(ann, "secret", ["the deploy password is hunter2"]);
  // An old message, then 150 newer ones: three pages back in general.
  await h.post(ann, "general", ["The deploy failed on Friday: disk full"]);
  await h.post(ann, "general", Array.from({ length: 150 }, (_, i) => `chatter ${i}`));
  await h.post(ann, "ops", ["deploying the fix now"]);

  await bob.goto(`${base}/r/ops`);
  await h.waitOnline(bob);
  let sockets = 0;
  bob.on("websocket", () => (sockets += 1));
  await search(bob, "deplo*");
  const hits = await bob.$$eval("#search-results .search-hit", (bs) =>
    bs.map((b) => ({
      room: b.querySelector(".search-room")?.textContent,
      marks: [...b.querySelectorAll("mark.hit")].map((m) => m.textContent),
      text: b.querySelector(".search-text")?.textContent,
    })),
  );
  h.assert(
    JSON.stringify(hits) ===
      JSON.stringify([
        { room: "#ops", marks: ["deploying"], text: "deploying the fix now" },
        { room: "#general", marks: ["deploy"], text: "The deploy failed on Friday: disk full" },
      ]),
    `newest first, marked, nothing of a private room (${JSON.stringify(hits)})`,
  );
  await bob.screenshot({ path: path.join(shots, "search-desktop.png") });

  // The old one opens general at the message, in this page.
  await bob.locator("#search-results .search-hit", { hasText: "Friday" }).click();
  await bob.waitForURL(`${base}/r/general`);
  const target = bob.locator("#messages li.msg", { hasText: "The deploy failed on Friday" });
  await target.waitFor();
  // In view inside the timeline (polled with evaluate: waitForFunction
  // evaluates a string, which the page's CSP refuses).
  const inView = () =>
    bob.evaluate(() => {
      const li = [...document.querySelectorAll("#messages li.msg")].find((n) => n.textContent.includes("Friday"));
      const box = document.getElementById("timeline").getBoundingClientRect();
      const r = li?.getBoundingClientRect();
      return Boolean(r && r.top >= box.top && r.bottom <= box.bottom);
    });
  const deadline = Date.now() + h.WAIT;
  while (!(await inView())) {
    h.assert(Date.now() < deadline, "the found message scrolls into view");
    await new Promise((r) => setTimeout(r, 100));
  }
  h.assert((await h.shownIds(bob)).length === 151, "every message from it to the newest is shown, in one run");
  h.assert(sockets === 0, "the same socket");

  // A phrase, in this room only.
  await bob.getByLabel("Only this room").check();
  await search(bob, '"disk full"');
  h.assert((await bob.locator("#search-results .search-hit").count()) === 1, "one phrase match");
  await search(bob, '"fix now"');
  await bob.locator("#search-status", { hasText: "Nothing found" }).waitFor();
  await bob.getByLabel("Only this room").uncheck();
  await search(bob, "hunter2");
  await bob.locator("#search-status", { hasText: "Nothing found" }).waitFor();
  await bob.setViewportSize(PHONE);
  await bob.getByRole("button", { name: "Your rooms" }).click();
  await search(bob, "deplo*");
  await bob.screenshot({ path: path.join(shots, "search-phone.png") });
  await bob.locator("#search-results .search-hit", { hasText: "deploying" }).click();
  await bob.waitForURL(`${base}/r/ops`);
  await bob.locator("#messages li.msg", { hasText: "deploying the fix now" }).waitFor();
  // From the lobby: the result opens the room page at the message.
  await bob.setViewportSize(DESKTOP);
  await bob.goto(`${base}/`);
  await search(bob, "friday");
  await bob.screenshot({ path: path.join(shots, "search-lobby-desktop.png") });
  await bob.locator("#search-results .search-hit", { hasText: "Friday" }).click();
  await bob.waitForURL(`${base}/r/general`);
  await bob.locator("#messages li.msg.flash", { hasText: "The deploy failed on Friday" }).waitFor();
  await bob.setViewportSize(PHONE);
  // A query the engine cannot take is said so, in words.
  await bob.getByRole("button", { name: "Your rooms" }).click();
  await bob.getByRole("searchbox", { name: "Search messages" }).fill('"unclosed');
  await bob.keyboard.press("Enter");
  await bob.locator("#search-status:not([hidden])").filter({ hasNotText: "Searching" }).waitFor();
  const said = await bob.locator("#search-status").textContent();
  h.assert(!/internal|sql/i.test(said) && said.length > 5, `a readable refusal (${said})`);
}

h.run(scenario, problems);
