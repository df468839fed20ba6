// The chat page of the README's Flask and Express examples (examples/chat.html,
// served by the app, connecting to roomcast on another origin) in Chromium:
// Carol joins by name and chats; a chat from another client (Ann, the Python
// client the Rust side runs between READY and SENT) appears; a second person
// on a phone sees both as history; an HTML-looking message stays text.
//
// usage: node example_page.cjs APP_URL SCREENSHOT_DIR PREFIX   (driven by tests/api/examples.rs)
const path = require("node:path");
const h = require("./harness.cjs");

const [app, shots, prefix] = process.argv.slice(2);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const XSS = "<img src=x onerror=alert(1)>";
const problems = [];
const waitFor = h.harnessLines();

async function join(page, name) {
  await page.goto(app);
  h.assert(await page.getByLabel("Message").isHidden(), "no message box before joining");
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Join" }).click();
  await page.getByRole("status").filter({ hasText: `Connected as ${name}` }).waitFor();
  h.assert(await page.getByLabel("Your name").isHidden(), "the name form is gone once joined");
}

async function say(page, text) {
  await page.getByLabel("Message").fill(text);
  await page.keyboard.press("Enter");
}

function shown(page, text) {
  return page.locator("#messages li").filter({ hasText: text }).first().waitFor();
}

async function texts(page) {
  return page.$$eval("#messages li", (nodes) => nodes.map((n) => n.textContent));
}

(async () => {
  const browser = await h.launch();
  try {
    const desk = await browser.newContext({ viewport: DESKTOP });
    const carol = await h.newPage(desk, problems);
    await join(carol, "Carol");
    await say(carol, "hello from the page");
    await shown(carol, "Carol: hello from the page");
    await say(carol, XSS);
    await shown(carol, `Carol: ${XSS}`);
    h.tell("READY");
    await waitFor("SENT");
    await shown(carol, "Ann: hello from Python");
    await carol.screenshot({ path: path.join(shots, `${prefix}-desktop.png`) });

    const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const dan = await h.newPage(phone, problems);
    await join(dan, "Dan");
    await shown(dan, "Ann: hello from Python");
    await dan.screenshot({ path: path.join(shots, `${prefix}-phone.png`) });
    const result = {
      carol: await texts(carol),
      dan: await texts(dan),
      images: await carol.locator("#messages img").count(),
      problems,
    };
    h.tell(`RESULT ${JSON.stringify(result)}`);
  } finally {
    await browser.close();
  }
})().then(
  () => process.exit(0), // stdin (the harness) would keep node running
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
