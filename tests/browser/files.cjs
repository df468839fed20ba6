// Files in the web chat, two people: ann pastes an image and it shows as a
// preview on both sides (bob opens it larger); ann attaches a text file
// with the button and bob downloads it byte for byte; a file dropped on
// the room goes to the tray, and an upload under way can be cancelled.
// Screenshots at desktop and phone width. Driven by tests/api/browser_files.rs.
//
// usage: node files.cjs BASE_URL SCREENSHOT_DIR   (prints RESULT {json})
const fs = require("node:fs");
const path = require("node:path");
const h = require("./harness.cjs");

const [base, shots] = process.argv.slice(2);
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const problems = [];

const register = (page, name) => h.register(page, base, name);

/** Polls `check` in the page until it is true (waitForFunction needs eval,
 * which the pages' CSP refuses). */
async function until(page, what, check, arg) {
  const deadline = Date.now() + h.WAIT;
  while (!(await page.evaluate(check, arg))) {
    h.assert(Date.now() < deadline, what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Pastes a 640×360 PNG drawn on a canvas into the composer, as a
 * screenshot pasted from the clipboard arrives. */
async function pasteImage(page) {
  await page.evaluate(async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 640;
    canvas.height = 360;
    const g = canvas.getContext("2d");
    g.fillStyle = "#4f46e5";
    g.fillRect(0, 0, 640, 360);
    g.fillStyle = "#fbbf24";
    g.beginPath();
    g.arc(320, 180, 120, 0, 2 * Math.PI);
    g.fill();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const data = new DataTransfer();
    data.items.add(new File([blob], "image.png", { type: "image/png" }));
    const box = document.getElementById("message");
    box.focus();
    box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  });
}

/** The timeline's image previews that have loaded, with their sizes. */
const loadedImages = () =>
  [...document.querySelectorAll("#messages .file-image img")].filter((i) => i.complete && i.naturalWidth > 0).length;

async function scenario(browser) {
  const annContext = await browser.newContext({ viewport: DESKTOP });
  const bobContext = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
  const ann = await h.newPage(annContext, problems);
  const bob = await h.newPage(bobContext, problems);
  await register(ann, "ann");
  await register(bob, "bob");
  await ann.goto(`${base}/r/pics`);
  await h.createRoom(ann);
  await bob.goto(`${base}/r/pics`);
  await h.waitOnline(bob);

  // A pasted image: stored, then sent with no text.
  await pasteImage(ann);
  await ann.locator('#attachments li.attachment[data-state="stored"]', { hasText: "image.png" }).waitFor();
  await ann.screenshot({ path: path.join(shots, "files-tray-desktop.png") });
  h.assert(!(await ann.locator("#send").isDisabled()), "a message of files alone can be sent");
  await ann.locator("#message").press("Enter");
  await until(ann, "ann's tray empties once the message is acked", () => document.getElementById("attachments").hidden);
  for (const page of [ann, bob]) await until(page, "the preview loads on both sides", loadedImages);
  const thumb = await bob.$eval("#messages .file-image img", (i) => ({
    w: i.naturalWidth,
    h: i.naturalHeight,
    alt: i.alt,
    src: i.getAttribute("src"),
  }));
  h.assert(thumb.w <= 400 && thumb.h <= 400 && Math.abs(thumb.w / thumb.h - 640 / 360) < 0.05, `a thumbnail keeping the ratio (${JSON.stringify(thumb)})`);
  h.assert(thumb.alt === "image.png", "the preview is named by the file");
  h.assert((await bob.locator("#messages .msg-text:visible").count()) === 0, "no empty text line under a files-only message");

  // Larger on click, in a dialog; Escape closes it and gives focus back.
  await bob.locator("#messages .file-image").click();
  await bob.locator("#viewer[open]").waitFor();
  await until(bob, "the full image loads in the viewer", () => {
    const i = document.getElementById("viewer-img");
    return i.complete && i.naturalWidth === 640;
  });
  await bob.screenshot({ path: path.join(shots, "files-viewer-desktop.png") });
  await bob.keyboard.press("Escape");
  await bob.locator("#viewer[open]").waitFor({ state: "detached" }).catch(() => {});
  h.assert(!(await bob.locator("#viewer").evaluate((d) => d.open)), "Escape closes the viewer");

  // A text file by the button, with words: bob downloads the same bytes.
  const bytes = Buffer.concat([Buffer.from("build log — ünïcode ✓\n"), Buffer.from([0, 1, 2, 255, 254, 10])]);
  await ann.locator("#file-input").setInputFiles({ name: "build log.txt", mimeType: "text/plain", buffer: bytes });
  await ann.locator('#attachments li.attachment[data-state="stored"]', { hasText: "build log.txt" }).waitFor();
  await ann.locator("#message").fill("the log from last night");
  await ann.locator("#message").press("Enter");
  const chip = bob.locator("#messages a.file-chip", { hasText: "build log.txt" });
  await chip.waitFor();
  h.assert((await chip.locator(".file-size").textContent()) === `${bytes.length} bytes`, "the chip says the size");
  await h.waitForMessage(bob, "the log from last night");
  const [download] = await Promise.all([bob.waitForEvent("download"), chip.click()]);
  h.assert(download.suggestedFilename() === "build log.txt", `downloaded under its name (${download.suggestedFilename()})`);
  const got = fs.readFileSync(await download.path());
  h.assert(Buffer.compare(got, bytes) === 0, `the same bytes (${got.length} of ${bytes.length})`);
  await bob.screenshot({ path: path.join(shots, "files-desktop.png") });

  // Dropped on the room: to the tray. A big one still uploading is cancelled.
  await ann.evaluate(() => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(8 * 1024 * 1024)], "big.bin", { type: "application/octet-stream" }));
    const zone = document.getElementById("main");
    for (const type of ["dragenter", "dragover", "drop"]) {
      zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
    }
  });
  const big = ann.locator("#attachments li.attachment", { hasText: "big.bin" });
  await big.waitFor();
  const state = await big.getAttribute("data-state");
  if (state === "uploading") {
    h.assert(await ann.locator("#send").isDisabled(), "nothing is sent while a file uploads");
    await big.getByRole("button", { name: "Cancel the upload of big.bin" }).click();
  } else {
    await big.getByRole("button", { name: "Remove big.bin" }).click();
  }
  await until(ann, "the tray is empty after the cancel", () => document.getElementById("attachments").hidden);
  h.assert(await ann.locator("#send").isDisabled(), "nothing left to send");

  // Phone width: the previews and chips fit.
  await bob.setViewportSize(PHONE);
  await bob.locator("#messages a.file-chip").scrollIntoViewIfNeeded();
  const overflow = await bob.evaluate(() => {
    const t = document.getElementById("timeline");
    return t.scrollWidth - t.clientWidth;
  });
  h.assert(overflow <= 1, `nothing wider than a phone (${overflow} px)`);
  await bob.screenshot({ path: path.join(shots, "files-phone.png") });
  await pasteImage(ann);
  await ann.setViewportSize(PHONE);
  await ann.locator('#attachments li.attachment[data-state="stored"]').waitFor();
  await ann.screenshot({ path: path.join(shots, "files-tray-phone.png") });
}

h.run(scenario, problems);
