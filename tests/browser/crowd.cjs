// A big room in the web chat (driven by tests/api/browser.rs, the server
// started with `--presence-batch-above 1 --online-names 2`): joins and
// leaves arrive as `presence` batches and the online list follows them
// without a timeline notice for each; a page whose join ack named only
// some of the people shows "and N more" and the full count.
//
// usage: node crowd.cjs BASE_URL SCREENSHOT_DIR
const path = require("node:path");
const h = require("./harness.cjs");

const [base, shots] = process.argv.slice(2);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const problems = [];

async function count(page) {
  return (await page.locator("#online-count").textContent()).trim();
}

async function waitCount(page, want) {
  const deadline = Date.now() + h.WAIT;
  while ((await count(page)) !== want) {
    h.assert(Date.now() < deadline, `online count ${want} (it says ${await count(page)})`);
    await page.waitForTimeout(50);
  }
}

h.run(async (browser) => {
  const pages = {};
  for (const name of ["ann", "bob", "cat"]) {
    const context = await browser.newContext({ viewport: DESKTOP });
    pages[name] = await h.newPage(context, problems);
    await h.register(pages[name], base, name);
  }
  const { ann, bob, cat } = pages;
  await ann.goto(`${base}/r/crowd`);
  await h.createRoom(ann);
  // Bob's join makes two online, more than the setting's one: it comes to
  // ann as a `presence` batch, and the list follows it.
  await bob.goto(`${base}/r/crowd`);
  await h.waitOnline(bob);
  await ann.locator('#people [data-user="acct:bob"]').waitFor();
  await waitCount(ann, "2");
  // Cat's join ack names two of the three (cat always): one more unnamed.
  await cat.goto(`${base}/r/crowd`);
  await h.waitOnline(cat);
  await waitCount(cat, "3");
  await cat.locator("#people [data-others]", { hasText: "and 1 more" }).waitFor();
  await waitCount(ann, "3");
  await ann.locator('#people [data-user="acct:cat"]').waitFor();
  // No "joined" line in the timeline for anyone of the batches.
  const notices = await ann.locator("#messages .notice", { hasText: "joined" }).count();
  h.assert(notices === 0, `no join notices in a big room (${notices})`);
  await cat.screenshot({ path: path.join(shots, "crowd-desktop.png") });
  await cat.setViewportSize(PHONE);
  await cat.screenshot({ path: path.join(shots, "crowd-phone.png") });
  await cat.setViewportSize(DESKTOP);

  // Bob goes away: his leave is gathered too, and both lists lose him.
  await bob.close();
  await waitCount(ann, "2");
  await ann.locator('#people [data-user="acct:bob"]').waitFor({ state: "detached" });
  await waitCount(cat, "2");
}, problems);
