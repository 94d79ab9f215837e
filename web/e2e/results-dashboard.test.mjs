// The delivery dashboard screen (SGL.TBB.01-03) on GET /fhir/$delivery-dashboard: the responsible biologist sees
// the measures of the period per FINESS (the server's own French labels), downloads the ";" file; a biologist
// without the permission is not offered the screen.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, loggedIn, login, newPage, screenshot } from "./support.mjs";

const held = loggedIn("marc", { before, after });

test("the dashboard shows the period's measures and downloads the extract", async () => {
  const answer = held.page.waitForResponse((r) => r.url().includes("/fhir/$delivery-dashboard?period=mois&_format=csv"));
  await held.page.getByRole("link", { name: "Tableau de bord des envois" }).click();
  assert.equal((await answer).status(), 200);
  const table = held.page.getByRole("table", { name: "Tableau de bord des envois" });
  await table.waitFor();
  const rows = await table.getByRole("row").allInnerTexts();
  const produced = rows.find((r) => r.startsWith("CR-Bio produits"));
  assert.ok(produced, rows.slice(0, 5).join("\n"));
  assert.ok(Number(produced.split("\t").at(-1)) >= 1, produced);
  assert.ok(rows.some((r) => r.startsWith("DMP : échecs")), "the DMP's failures are a measure");
  const download = held.page.waitForEvent("download");
  await held.page.getByRole("button", { name: "Télécharger (CSV)" }).click();
  assert.match((await download).suggestedFilename(), /^tableau-de-bord-envois-.*\.csv$/);
  await assertAccessible(held.page, "tableau de bord");
  await screenshot(held.page, "tableau-de-bord-envois", { fullPage: false });
});

test("a biologist without the permission is not offered the dashboard", async () => {
  const bio = await newPage(held.browser);
  await login(bio, "claire");
  assert.equal(await bio.getByRole("link", { name: "Tableau de bord des envois" }).count(), 0);
  await bio.goto("/tableau-de-bord");
  await bio.getByText("Écran non disponible").waitFor();
  await bio.context().close();
  assert.deepEqual(held.page.problems, []);
});
