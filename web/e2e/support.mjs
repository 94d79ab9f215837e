// Shared by the browser tests: the fixture the Python test wrote (server, users, ids), Debian's Chromium
// driven by playwright-core, login through the real form, and the axe-core accessibility check.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
export const fixture = JSON.parse(process.env.SGL_WEB_FIXTURE ?? "null");
if (!fixture) throw new Error("SGL_WEB_FIXTURE is not set: these tests are run by tests/server/test_web_workbench.py");

/** One Chromium for a test file (playwright gives it a fresh temporary profile), no network beyond loopback. */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: fixture.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/** A new page (own cookies) in French, Paris time; every console error and failed request is recorded. */
export async function newPage(browser) {
  // bypassCSP: only so that the axe-core script can be injected (the server's CSP forbids inline scripts);
  // ignoreHTTPSErrors: the PSC simulator's certificate comes from a test CA the browser does not know
  const context = await browser.newContext({ bypassCSP: true, ignoreHTTPSErrors: true, locale: "fr-FR", timezoneId: "Europe/Paris", baseURL: fixture.baseUrl,
    viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  // a bound, not a speed check: the CI run once saw the bench list take over 15 s to show while the earlier
  // suites' validated reports were being rendered on both cores (bench/web.py measures speed)
  page.setDefaultTimeout(40_000);
  page.problems = [];
  page.on("pageerror", (error) => page.problems.push(`page error: ${error.message}`));
  return page;
}

export async function login(page, username, { from = "/" } = {}) {
  if (from) await page.goto(from);
  await page.getByLabel("Identifiant").fill(username);
  await page.getByLabel("Mot de passe").fill(fixture.password);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("button", { name: "Se déconnecter" }).waitFor();
}

export async function screenshot(page, name, { fullPage = true } = {}) {
  mkdirSync(fixture.screenshots, { recursive: true });
  await page.screenshot({ path: join(fixture.screenshots, `${name}.png`), fullPage });
}

/** axe-core on the page as it is: no serious or critical violation (WCAG 2.1 A/AA rules). */
export async function assertAccessible(page, screen) {
  await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => `${n.target.join(" ")} ${n.failureSummary?.split("\n")[1] ?? ""} ${n.html.slice(0, 120)}`).join(", ")})`), [],
    `${screen}: accessibility violations`);
  assert.ok(result.passes.length > 10, `${screen}: axe ran ${result.passes.length} passing rules`);
}

/** The usual frame of a suite: one Chromium, one page logged in as ``username`` before the tests, closed after.
 * Returns a holder whose ``page`` and ``browser`` are set once ``before`` ran. */
export function loggedIn(username, hooks) {
  const held = { page: null, browser: null, chromium: null };
  hooks.before(async () => {
    held.chromium = await launch();
    held.browser = held.chromium.browser;
    held.page = await newPage(held.browser);
    await login(held.page, username);
  });
  hooks.after(async () => { await held.chromium?.close(); });
  return held;
}

/** The first bytes of what a frame shows (a blob: or same-origin URL), read back in the page: "%PDF-" for a PDF. */
export async function shownHead(page, url, length = 5) {
  return page.evaluate(async ([src, n]) => {
    const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
    return String.fromCharCode(...bytes.slice(0, n));
  }, [url, length]);
}
