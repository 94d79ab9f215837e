// Run by bench/web.py: login -> interactive bench worklist, timed in Chromium (playwright-core), and the
// page's own FHIR search timed alone from the page as the baseline. Prints one JSON line.
//
// Every time is taken inside the page, on one clock (performance.now()): the start is the click event on
// "Se connecter" as the page receives it; the end is the first animation frame at which the table is there
// with all its rows' "Valider" buttons enabled, the first one on top at its own centre (nothing covers it) and
// the last one taking the keyboard focus, and that frame has been painted. The page checks it at every frame,
// so the figure does not depend on how often the test harness polls (Playwright's locator waits poll at 0, 20,
// 70, 170, 270 ms and then every 500 ms: a measure stopped by them came out up to 500 ms late, in steps).
// The requests' times come from the page's Resource Timing entries, on the same clock.
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const bench = JSON.parse(process.env.SGL_WEB_BENCH ?? "null");
if (!bench) throw new Error("SGL_WEB_BENCH is not set: run bench/web.py");
const TABLE = "Résultats à valider techniquement";
const browser = await chromium.launch({ executablePath: bench.chromium, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runs = [];
const api = [];
let rows = 0;
let count = null;

/** In the page, before the click: note the click's time, then check at every frame whether the worklist is
 * interactive; the time kept is taken once the frame that showed it has been painted. */
function watch(table) {
  const state = { click: null, shown: false, interactive: null, counted: null };
  window.__sglBench = state;
  document.addEventListener("click", (event) => {
    if (state.click === null && event.target.closest?.("button[type=submit]")) state.click = event.timeStamp;
  }, true);
  const ready = () => {
    const buttons = [...document.querySelectorAll(`table[aria-label="${table}"] tbody button`)];
    if (buttons.length === 0 || buttons.some((b) => b.disabled || b.dataset.loading === "true")) return false;
    const first = buttons[0].getBoundingClientRect();
    const top = document.elementFromPoint(first.left + first.width / 2, first.top + first.height / 2);
    if (!top || !buttons[0].contains(top)) return false;  // covered, or not laid out yet
    const last = buttons[buttons.length - 1];
    last.focus({ preventScroll: true });
    return document.activeElement === last;
  };
  const frame = () => {
    if (state.click !== null && state.counted === null
      && /^\d/.test(document.querySelector('[data-testid="bench-count"]')?.textContent ?? "")) {
      state.counted = performance.now();  // the badge shows the number waiting
    }
    if (state.click !== null && !state.shown && ready()) {
      state.shown = true;
      // the next task after this frame's rendering: the rows are on screen
      requestAnimationFrame(() => setTimeout(() => { state.interactive = performance.now(); }, 0));
    }
    if (!state.shown || state.counted === null) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

try {
  for (let run = 0; run < bench.runs; run += 1) {
    const context = await browser.newContext({ baseURL: bench.baseUrl, locale: "fr-FR", viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto("/paillasse");
    await page.getByLabel("Identifiant").fill("thomas");
    await page.getByLabel("Mot de passe").fill(bench.password);
    await page.evaluate(watch, TABLE);
    await page.getByRole("button", { name: "Se connecter" }).click();
    const measured = await (await page.waitForFunction(() => {
      const s = window.__sglBench;
      if (s.interactive === null || s.counted === null) return false;
      const requests = performance.getEntriesByType("resource")
        .filter((e) => e.startTime >= s.click && (e.initiatorType === "fetch" || e.initiatorType === "xmlhttprequest"
          || e.name.includes("/fhir/") || e.name.includes("/auth/")))
        .map((e) => ({ url: e.name.replace(location.origin, ""), start: Math.round(e.startTime - s.click),
          end: Math.round(e.responseEnd - s.click), bytes: e.encodedBodySize }));
      return { interactive: s.interactive - s.click, counted: s.counted - s.click, requests };
    }, null, { polling: 100 })).jsonValue();
    const ended = (part) => measured.requests.find((r) => r.url.includes(part) && r.end > 0)?.end ?? null;
    const result = { interactive: measured.interactive, counted: measured.counted, login: ended("/auth/login"),
      data: ended("/fhir/Observation?"), requests: measured.requests.sort((a, b) => a.start - b.start) };
    runs.push(result);
    const table = page.getByRole("table", { name: TABLE });
    rows = await table.locator("tbody tr").count();
    count = await page.getByTestId("bench-count").textContent();
    // the baseline: the page's own first worklist search, fetched again alone (the API, no rendering)
    const url = result.requests.find((r) => r.url.startsWith("/fhir/Observation?"))?.url;
    if (!url) throw new Error("the page made no worklist search");
    const search = await page.evaluate(async (u) => {
      const t0 = performance.now();
      const answer = await fetch(u, { cache: "no-store", headers: { Accept: "application/fhir+json" } });
      await answer.json();
      return performance.now() - t0;
    }, url);
    api.push(search);
    await context.close();
  }
} finally {
  await browser.close();
}
const pick = (key) => runs.map((r) => r[key]).filter((x) => x !== null);
const typical = [...runs].sort((a, b) => a.interactive - b.interactive)[Math.floor(runs.length / 2)];
if (process.env.SGL_WEB_TRACE) writeFileSync(process.env.SGL_WEB_TRACE, JSON.stringify(typical, null, 1));
console.log(JSON.stringify({ median: median(pick("interactive")), worst: Math.max(...pick("interactive")),
  login: median(pick("login")), data: median(pick("data")), counted: median(pick("counted")), api: median(api), rows, count,
  times: pick("interactive").map(Math.round), requests: typical.requests }));
