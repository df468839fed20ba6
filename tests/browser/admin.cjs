// The Socket.IO Admin UI at /admin/ in Chromium: a non-admin is refused,
// the admin logs in and sees the sockets and rooms the Rust side opened,
// disconnects one from the sockets page, and the Rust side sees that socket
// end. Driven by tests/api/browser.rs.
//
// usage: node admin.cjs BASE_URL SCREENSHOT_DIR SIDS ROOMS VICTIM
//   SIDS and ROOMS comma-separated; VICTIM the sid to disconnect.
// Prints DISCONNECT_CLICKED, waits for ENDED, prints RESULT {json}.
const path = require("node:path");
const h = require("./harness.cjs");

const [base, shots, sidList, roomList, victim] = process.argv.slice(2);
const sids = sidList.split(",");
const rooms = roomList.split(",");
const problems = [];

/** Fills the connection form and submits it. */
async function login(page, username, password) {
  const form = page.locator(".v-dialog form");
  await form.getByLabel("Server URL").fill(base);
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: "Connect" }).click();
}

/** The shown table rows (views left behind stay in the DOM, hidden). */
const ROWS = "table tbody tr:visible";

/** The shown table rows that name one of `names`. */
async function rowsNaming(page, names) {
  const texts = await page.locator(ROWS).allTextContents();
  return texts.filter((t) => names.some((n) => t.includes(n))).length;
}

/** Waits until `rowsNaming` is `n` (a locator wait per step: the page's CSP forbids eval). */
async function waitRows(page, names, n) {
  for (let i = 0; i < 100; i++) {
    if ((await rowsNaming(page, names)) === n) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`never ${n} rows naming ${names}`);
}

async function main() {
  const hear = h.harnessLines();
  const browser = await h.launch();
  const result = { problems };
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await h.newPage(context, problems);
    await page.goto(`${base}/admin/`);

    // Not an admin: the form stays, with the dashboard's refusal.
    await login(page, "ann", "correct horse");
    await page.getByText("Invalid credentials").waitFor();
    result.refused = true;

    await login(page, "root", "admin password");
    await page.locator(".v-dialog form").waitFor({ state: "hidden" });
    await page.getByText("connected", { exact: true }).first().waitFor();

    // The sockets the test opened, in the default namespace.
    await page.goto(`${base}/admin/#/sockets`);
    for (const sid of sids) await page.locator(ROWS, { hasText: sid }).waitFor();
    result.sockets = await rowsNaming(page, sids);

    await page.goto(`${base}/admin/#/rooms`);
    for (const room of rooms) await page.locator(ROWS, { hasText: room }).waitFor();
    result.rooms = await rowsNaming(page, rooms);

    await page.goto(`${base}/admin/#/`);
    await page.getByText("Connection and disconnection events").waitFor();
    // The servers' stats have come in (the first one at once).
    await page.goto(`${base}/admin/#/servers`);
    const port = new URL(base).port;
    await page.locator(ROWS, { hasText: `:${port}` }).waitFor();
    result.servers = await page.locator(ROWS).count();
    await page.goto(`${base}/admin/#/`);
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(shots, "admin-ui-desktop.png") });
    await page.goto(`${base}/admin/#/sockets`);
    await page.locator(ROWS, { hasText: sids[0] }).waitFor();
    await page.screenshot({ path: path.join(shots, "admin-ui-sockets-desktop.png") });

    // Disconnect one socket from its row.
    const row = page.locator(ROWS, { hasText: victim });
    await row.locator("button:has(.mdi-logout)").click();
    h.tell("DISCONNECT_CLICKED");
    await hear("ENDED");
    // The click may also have opened the socket's page: back to the list.
    await page.goto(`${base}/admin/#/sockets`);
    await waitRows(page, sids, 2);
    result.socketsAfter = await rowsNaming(page, sids);
    result.victimShown = await rowsNaming(page, [victim]);

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const small = await h.newPage(phone, problems);
    await small.goto(`${base}/admin/`);
    await login(small, "root", "admin password");
    await small.locator(".v-dialog form").waitFor({ state: "hidden" });
    await small.goto(`${base}/admin/#/`);
    await small.getByText("Connection and disconnection events").waitFor();
    await small.waitForTimeout(500);
    await small.screenshot({ path: path.join(shots, "admin-ui-phone.png") });
    await phone.close();
    await context.close();
  } finally {
    await browser.close();
  }
  h.tell(`RESULT ${JSON.stringify(result)}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err.stack || String(err));
    process.exit(1);
  },
);
