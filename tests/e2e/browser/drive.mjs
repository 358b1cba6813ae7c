// Opens the test page in Debian's Chromium (headless, via playwright-core) and runs one upload
// scenario in it. Usage: node drive.mjs <page-url> '<json args for upload()>'. Prints JSON.
// With `"reportConsole": true` in the args, the result also lists the page's console errors
// and uncaught exceptions under "console".
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [pageUrl, argsJson] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), "presign-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.goto(pageUrl);
  const args = JSON.parse(argsJson);
  const result = await page.evaluate((a) => upload(a), args);
  if (args.reportConsole) result.console = consoleErrors;
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
