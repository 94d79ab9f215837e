// Run by bench/web.py: login -> interactive bench worklist, timed in Chromium (playwright-core), and the
// page's own FHIR search timed alone from the page as the baseline. Prints one JSON line.
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const bench = JSON.parse(process.env.SGL_WEB_BENCH ?? "null");
if (!bench) throw new Error("SGL_WEB_BENCH is not set: run bench/web.py");
const browser = await chromium.launch({ executablePath: bench.chromium, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = [];
const api = [];
let rows = 0;
let count = null;
try {
  for (let run = 0; run < bench.runs; run += 1) {
    const context = await browser.newContext({ baseURL: bench.baseUrl, locale: "fr-FR", viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto("/paillasse");
    await page.getByLabel("Identifiant").fill("thomas");
    await page.getByLabel("Mot de passe").fill(bench.password);
    const started = await page.evaluate(() => performance.now());
    const clicked = Date.now();
    const waterfall = [];  // SGL_WEB_TRACE=file: each request after the click, ms from the click (where the time goes)
    page.on("requestfinished", (r) => {
      const t = r.timing();
      waterfall.push({ url: r.url().replace(bench.baseUrl, ""), start: Math.round(t.startTime - clicked),
        end: Math.round(t.startTime - clicked + t.responseEnd) });
    });
    await page.getByRole("button", { name: "Se connecter" }).click();
    const table = page.getByRole("table", { name: "Résultats à valider techniquement" });
    // interactive: the table is there, every row's button is enabled and the last one takes the focus
    await table.getByRole("button", { name: /^Valider techniquement/ }).last().waitFor({ state: "visible" });
    await page.waitForFunction(() => {
      const buttons = document.querySelectorAll('table[aria-label="Résultats à valider techniquement"] button');
      if (buttons.length === 0 || ![...buttons].every((b) => !b.disabled)) return false;
      const last = buttons[buttons.length - 1];
      last.focus(); // focusable: the keyboard can reach the last row's button now
      return document.activeElement === last;
    });
    times.push((await page.evaluate(() => performance.now())) - started);
    if (process.env.SGL_WEB_TRACE) {
      writeFileSync(process.env.SGL_WEB_TRACE, JSON.stringify({ interactive: times.at(-1),
        requests: waterfall.filter((w) => w.start >= 0).sort((a, b) => a.start - b.start) }, null, 1));
    }
    rows = await table.locator("tbody tr").count();
    count = await page.getByTestId("bench-count").textContent();
    const search = await page.evaluate(async () => {
      const t0 = performance.now();
      const answer = await fetch("/fhir/Observation?status=preliminary&_include=Observation:subject&_count=200&_sort=date",
        { cache: "no-store", headers: { Accept: "application/fhir+json" } });
      await answer.json();
      return performance.now() - t0;
    });
    api.push(search);
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ median: median(times), worst: Math.max(...times), api: median(api), rows, count, times }));
