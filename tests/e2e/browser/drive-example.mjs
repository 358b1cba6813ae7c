// Uses examples/browser/index.html as a person would, in Debian's Chromium (headless, via
// playwright-core): chooses a file, presses Upload, waits until the page says done or failed.
// Usage: node drive-example.mjs <page-url#api=...&token=...> '<json {file, inParts, key, screenshot}>'.
// Prints JSON: the status line, the log, the curl commands shown, the console errors.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [pageUrl, argsJson] = process.argv.slice(2);
const args = JSON.parse(argsJson);
const profile = mkdtempSync(join(tmpdir(), "presign-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1000, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.goto(pageUrl);
  if (args.key) await page.fill("#key", args.key);
  await page.setInputFiles("#file", args.file);
  if (args.inParts !== undefined) await page.setChecked("#inParts", args.inParts);
  await page.click("#go");
  await page.waitForFunction(() => /done|failed/.test(document.getElementById("state").textContent), null,
                             { timeout: 120000 });
  const text = (id) => page.$eval(id, (e) => e.textContent);
  const result = { state: await text("#state"), log: await text("#log"), curl: await text("#curl"), console: consoleErrors };
  if (args.screenshot) await page.screenshot({ path: args.screenshot, fullPage: true });
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
