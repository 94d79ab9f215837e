// SGL.INS.02 with the site setting SGL_INS_DISPLAY=used_names: only the four mandatory traits, the status
// and the used names are shown; the other INS fields are not, even to a secretary who may see the INS.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fixture, launch, login, newPage, screenshot } from "./support.mjs";

let chromium;
before(async () => { chromium = await launch(); });
after(async () => { await chromium?.close(); });

test("SGL.INS.02 the site setting hides the optional INS fields, never the four traits", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "sophie");
  const session = await (await page.request.get("/auth/session")).json();
  assert.deepEqual(session.site.insDisplay, ["used_names"]);
  await page.goto(`/patients/${fixture.ids.qualified}`);
  await page.getByTestId("identity-status").waitFor();
  assert.equal(await page.getByTestId("identity-status").textContent(), "Identité qualifiée");
  const shown = {};
  for (const id of ["birth-name", "first-birth-first-name", "birth-date", "sex", "used-name"]) {
    shown[await page.locator(`#${id}-label`).innerText()] = await page.getByTestId(id).innerText();
  }
  assert.deepEqual(shown, { "Nom de naissance": "DE LA FONTAINE", "Premier prénom de naissance": "MARIE-HÉLÈNE",
    "Date de naissance": "14/07/1982", "Sexe": "Féminin", "Nom utilisé": "MARTIN" });
  for (const hidden of ["ins", "ins-oid", "birth-first-names", "birthplace"]) {
    assert.equal(await page.getByTestId(hidden).count(), 0, hidden);
  }
  await screenshot(page, "identite-parametrage-site");
  await page.context().close();
});
