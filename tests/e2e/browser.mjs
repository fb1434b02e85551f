// Opens the client page in Debian's chromium through playwright-core, waits (bounded) for its walk through the
// API and prints {walk, consoleErrors, failedRequests} as JSON. Exit status 0 only if every step passed and the
// console showed no CORS error.
// usage: node tests/e2e/browser.mjs <page url> <fresh user-data-dir> [timeout seconds]
import { chromium } from "playwright-core";

const [pageUrl, userDataDir, timeoutSeconds = "150"] = process.argv.slice(2);
const deadline = Number(timeoutSeconds) * 1000;
const hardStop = setTimeout(() => { console.log(JSON.stringify({ error: "timed out" })); process.exit(3); },
                            deadline + 20000);

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const consoleErrors = [];
const failedRequests = [];
let result;
try {
  const page = context.pages()[0] || await context.newPage();
  page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  page.on("requestfailed", (request) => failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`));
  await page.goto(pageUrl, { timeout: 30000 });
  await page.waitForFunction(() => window.walkDone === true, null, { timeout: deadline, polling: 200 });
  const walk = await page.evaluate(() => window.walk);
  result = { walk, consoleErrors, failedRequests };
} catch (error) {
  result = { error: String(error), consoleErrors, failedRequests };
} finally {
  await context.close();
  clearTimeout(hardStop);
}
console.log(JSON.stringify(result));
const cors = consoleErrors.filter((text) => /CORS|Access-Control/i.test(text));
process.exit(result.walk && result.walk.every((step) => step.ok) && cors.length === 0 ? 0 : 1);
