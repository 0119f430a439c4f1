// Verifies webhook messages with the Standard Webhooks reference library (`standardwebhooks`).
// Reads a JSON Lines file of { secret, headers, body } (one received request each) and prints
// a JSON array: for each, { ok: true, payload } or { ok: false, error }.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const lines = readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.trim() !== "");
const results = lines.map((line) => {
  const { secret, headers, body } = JSON.parse(line);
  try {
    return { ok: true, payload: new Webhook(secret).verify(body, headers) };
  } catch (e) {
    return { ok: false, error: String(e && e.message ? e.message : e) };
  }
});
console.log(JSON.stringify(results));
