// Renders emails in headless Chromium as a phone (390 px) and a desktop (800 px) mail client
// would, in light and dark mode, with the network cut (remote images stay unloaded, so alt text
// shows), and reports what a reader sees: whether the page fits the width, the button, the
// offer block, the footer, the headline, image alt texts, the dark-mode colours, and what a
// scanner reads from the voucher's QR code (jsQR on a screenshot).
// Usage: node emails.mjs DIR [SCREENSHOT_DIR] — DIR holds NAME.html files.
// Prints one JSON object { NAME: { "390-light": {...}, ... } }; exits 1 on a script failure.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import jsQR from "jsqr";
import { PNG } from "pngjs";

const [dir, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-dev-shm-usage"],
});

/// What one rendering shows.
function inspect() {
  const box = (el) => {
    if (!el) return null;
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return { left: Math.round(r.left), right: Math.round(r.right), width: Math.round(r.width), height: Math.round(r.height),
      visible: r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none",
      fontSize: parseFloat(s.fontSize), color: s.color, background: s.backgroundColor, text: el.innerText.trim() };
  };
  const luminance = (rgb) => {
    const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) || ["255", "255", "255"]).slice(0, 3).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  };
  const card = document.querySelector(".card");
  const cta = document.querySelector("a.cta");
  const smallest = Math.min(...[...document.querySelectorAll(".card p")].map((p) => parseFloat(getComputedStyle(p).fontSize)));
  return {
    viewport: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    headline: box(document.querySelector("h1")),
    cta: box(cta),
    ctaHref: cta?.getAttribute("href") ?? null,
    ctaButton: box(cta?.parentElement),
    offer: box(document.querySelector(".offer")),
    code: box(document.querySelector(".offer .code")),
    footer: box(document.querySelector(".footer")),
    footerLinks: [...document.querySelectorAll(".footer a")].map((a) => ({ text: a.innerText.trim(), href: a.getAttribute("href") })),
    imagesWithoutAlt: [...document.querySelectorAll("img")].filter((i) => !i.getAttribute("alt")).length,
    cardLuminance: card ? luminance(getComputedStyle(card).backgroundColor) : null,
    cardTextLuminance: card ? luminance(getComputedStyle(card).color) : null,
    smallestParagraph: Number.isFinite(smallest) ? smallest : null,
    lang: document.documentElement.lang,
  };
}

/// The text of the page's QR code as a scanner reads it from a screenshot (null: none, or
/// unreadable).
async function scanQr(page) {
  const qr = await page.$(".qr");
  if (!qr) return null;
  const png = PNG.sync.read(await qr.screenshot());
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? "unreadable";
}

const report = {};
try {
  const page = await browser.newPage();
  await page.route("**/*", (route) => route.abort());
  const files = readdirSync(dir).filter((f) => f.endsWith(".html")).sort();
  for (const width of [390, 800]) {
    await page.setViewportSize({ width, height: 900 });
    for (const file of files) {
      const name = file.replace(/\.html$/, "");
      report[name] ??= {};
      await page.emulateMedia({ colorScheme: "light" });
      await page.setContent(readFileSync(join(dir, file), "utf8"), { waitUntil: "load" });
      report[name][`${width}-light`] = { ...(await page.evaluate(inspect)), qr: await scanQr(page) };
      if (shots && width === 390) await page.screenshot({ path: join(shots, `email-${name}-${width}.png`), fullPage: true });
      await page.emulateMedia({ colorScheme: "dark" });
      report[name][`${width}-dark`] = { ...(await page.evaluate(inspect)), qr: await scanQr(page) };
    }
  }
  console.log(JSON.stringify(report));
} catch (err) {
  console.log(JSON.stringify({ error: String(err) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
