// Drives the service's GraphiQL page in headless Chromium with no network but the service:
// loads the page, pastes the API key into the header editor, runs a query, opens Docs and
// checks that the schema is listed. Usage: node graphiql.mjs BASE_URL API_KEY [SCREENSHOT]
// Prints one JSON line with what it saw; exits 1 on any failure.
import { chromium } from "playwright-core";

const [base, key, screenshot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const result = { blocked: [], consoleErrors: [] };
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage();
  // Everything but the service is refused: the page must work offline.
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base)) return route.continue();
    result.blocked.push(url);
    return route.abort();
  });
  page.on("console", (msg) => { if (msg.type() === "error") result.consoleErrors.push(msg.text()); });
  page.on("pageerror", (err) => result.consoleErrors.push(String(err)));

  await page.goto(`${base}/`, { waitUntil: "load" });
  await page.waitForSelector(".graphiql-container", { timeout: 20000 });
  const setEditor = (selector, value) => page.evaluate(([sel, v]) => {
    const el = document.querySelector(sel);
    if (!el || !el.CodeMirror) throw new Error(`no editor at ${sel}`);
    el.CodeMirror.setValue(v);
  }, [selector, value]);
  const editorText = (selector) => page.evaluate((sel) => document.querySelector(sel)?.CodeMirror?.getValue() ?? "", selector);

  result.defaultHeaders = await editorText(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror");
  await setEditor(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror", JSON.stringify({ Authorization: `Bearer ${key}` }));
  await setEditor(".graphiql-query-editor .CodeMirror", "{ restaurant { id name } loyaltyTiers { tier } }");
  await page.click(".graphiql-execute-button");
  await page.waitForFunction(() => {
    const r = document.querySelector(".graphiql-response .CodeMirror")?.CodeMirror?.getValue() ?? "";
    return r.includes("restaurant") || r.includes("errors");
  }, null, { timeout: 20000 });
  result.response = JSON.parse(await editorText(".graphiql-response .CodeMirror"));

  await page.click('[aria-label="Show Documentation Explorer"]');
  await page.waitForSelector(".graphiql-doc-explorer", { timeout: 20000 });
  await page.waitForFunction(() => (document.querySelector(".graphiql-doc-explorer")?.innerText ?? "").includes("Mutation"), null, { timeout: 20000 });
  result.docsRoot = await page.innerText(".graphiql-doc-explorer");
  await page.click(".graphiql-doc-explorer a.graphiql-doc-explorer-type-name >> text=Query");
  await page.waitForFunction(() => (document.querySelector(".graphiql-doc-explorer")?.innerText ?? "").includes("customers"), null, { timeout: 20000 });
  result.docsQuery = await page.innerText(".graphiql-doc-explorer");
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  result.ok = true;
} catch (e) {
  result.ok = false;
  result.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
