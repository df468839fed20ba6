// Shared pieces of the browser tests: Chromium, the line protocol with the
// Rust test that started us, and small page helpers.
const { chromium } = require("playwright-core");
const readline = require("node:readline");

const WAIT = 15_000;

/** Debian's chromium, with the flags that keep it off the network. */
async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Lines from the Rust side, awaited one at a time. */
function harnessLines() {
  const queue = [];
  let waiting = null;
  readline.createInterface({ input: process.stdin }).on("line", (line) => {
    if (waiting) {
      const w = waiting;
      waiting = null;
      w(line);
    } else queue.push(line);
  });
  return (want, ms = 60_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`harness never said ${want}`)), ms);
      const take = (line) => {
        clearTimeout(timer);
        if (line === want) resolve();
        else reject(new Error(`expected ${want} from harness, got ${line}`));
      };
      if (queue.length) take(queue.shift());
      else waiting = take;
    });
}

/** Tells the Rust side something (one line on stdout). */
function tell(line) {
  process.stdout.write(`${line}\n`);
}

/** A page that records CSP violations, script errors and dialogs (an XSS would open one). */
async function newPage(context, problems) {
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy|Refused to/.test(msg.text())) {
      problems.push(`CSP: ${msg.text()}`);
    }
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("dialog", async (dialog) => {
    problems.push(`dialog opened: ${dialog.message()}`);
    await dialog.dismiss();
  });
  return page;
}

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** The ids of the messages a room page shows, in page order. */
async function shownIds(page) {
  return page.$$eval("#messages li.msg", (nodes) => nodes.map((n) => Number(n.dataset.id)));
}

/**
 * Waits until a room page shows a message with exactly `text`. (Locator
 * waits only: waitForFunction needs eval, which the pages' CSP forbids.)
 */
async function waitForMessage(page, text) {
  const lastLine = text.split("\n").pop();
  await page.locator("#messages .msg-text").filter({ hasText: lastLine }).last().waitFor();
  const texts = await page.$$eval("#messages .msg-text", (nodes) => nodes.map((n) => n.textContent));
  assert(texts.includes(text), `message ${JSON.stringify(text)} shown exactly`);
}

/** Waits until a room page shows exactly `n` messages. */
async function waitForCount(page, n) {
  await page.locator("#messages li.msg").nth(n - 1).waitFor();
  const shown = await page.locator("#messages li.msg").count();
  assert(shown === n, `${n} messages shown (${shown})`);
}

async function waitOnline(page) {
  await page.waitForSelector('#conn[data-state="online"]', { timeout: WAIT });
}

/** Answers "#name does not exist. Create it?" with yes, and waits until
 * the page is in the new room (rooms are never made by just visiting). */
async function createRoom(page) {
  await page.getByRole("button", { name: /^Create #/ }).click();
  await waitOnline(page);
}

/** Posts as the page's user through the JSON API (same origin, session cookie). */
async function post(page, room, messages) {
  await page.evaluate(
    async ({ room, messages }) => {
      for (const message of messages) {
        const res = await fetch(`/api/rooms/${room}/messages`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ message }),
        });
        if (res.status !== 201) throw new Error(`post failed: ${res.status} ${await res.text()}`);
      }
    },
    { room, messages },
  );
}

/** Makes the account `name` on the register page and waits for the lobby. */
async function register(page, base, name) {
  await page.goto(`${base}/register`);
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(`${base}/`);
}

/** Runs `scenario(browser)` in Chromium and prints the RESULT line the Rust
 * side reads (`problems`: CSP reports, script errors, dialogs); a throw
 * exits non-zero with the error in the result. */
function run(scenario, problems) {
  (async () => {
    const browser = await launch();
    try {
      await scenario(browser);
    } finally {
      await browser.close();
    }
    console.log(`RESULT ${JSON.stringify({ problems })}`);
  })().catch((e) => {
    console.error(e);
    console.log(`RESULT ${JSON.stringify({ problems, error: String(e) })}`);
    process.exit(1);
  });
}

module.exports = { register, run, launch, harnessLines, tell, newPage, assert, shownIds, waitForMessage, waitForCount, waitOnline, createRoom, post, WAIT };
