// Duplicates and merges, and the identity label (issue 15, item 3): a biologist finds the probable duplicates
// of a qualified identity, merges the provisional one after confirming, with the qualified one kept; the merged
// file says where it went; the identity label PDF of the qualified identity. A secretary finds duplicates but is
// not offered the merge; a technician is offered neither the duplicates nor the label. The autoverified results
// view: a report validated by the rules, reviewed by a biologist from it; not offered to a secretary.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, fixture, launch, login, newPage, screenshot, shownHead } from "./support.mjs";

let chromium;
before(async () => { chromium = await launch(); });
after(async () => { await chromium?.close(); });
const { qualified, mistyped } = fixture.ids;

test("SGL.INS.53 a biologist prints the identity label and merges a duplicate into the qualified identity", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "claire", { from: `/patients/${qualified}` });
  await page.getByTestId("identity-status").waitFor();

  await page.getByRole("button", { name: "Étiquette d'identité (Datamatrix INS, PDF)" }).click();
  const frame = page.getByTitle("Étiquette d'identité (PDF)");
  await frame.waitFor();
  assert.equal(await shownHead(page, await frame.getAttribute("src")), "%PDF-");

  await page.getByRole("button", { name: "Rechercher les doublons probables" }).click();
  const table = page.getByRole("table", { name: "Doublons probables" });
  await table.waitFor();
  const rows = (await table.getByRole("row").allInnerTexts()).slice(1);
  assert.equal(rows.length, 2, rows.join("\n"));
  assert.ok(rows.some((r) => r.includes("14/07/1982") && r.includes("même date de naissance et même nom")), rows.join("\n"));
  assert.ok(rows.some((r) => r.includes("17/04/1982") && r.includes("même nom de naissance")), rows.join("\n"));
  await assertAccessible(page, "doublons probables");

  await page.getByRole("button", { name: /Fusionner avec .* le 14\/07\/1982/ }).click();
  const confirmation = page.getByTestId("merge-confirmation");
  await confirmation.waitFor();
  const kept = await page.getByLabel("Identité conservée").innerText();
  assert.match(kept, /Statut : Identité qualifiée/);
  assert.match(await page.getByLabel("Identité fusionnée (rendue inactive)").innerText(), /Statut : Identité provisoire/);
  assert.equal(await page.getByRole("button", { name: "Conserver plutôt l'autre identité" }).count(), 0);
  const confirm = page.getByRole("button", { name: "Confirmer la fusion" });
  assert.ok(await confirm.isDisabled(), "nothing is merged before the check box says it is the same person");
  await assertAccessible(page, "confirmation de fusion");
  await screenshot(page, "identite-fusion");
  await page.getByLabel("J'ai vérifié qu'il s'agit de la même personne").check();
  await confirm.click();
  await page.getByText(/^Fusion faite : /).waitFor();
  await page.getByTestId("merged-here").waitFor();
  assert.equal(await page.getByTestId("identity-status").textContent(), "Identité qualifiée");

  await page.getByTestId("merged-here").getByRole("link").click();
  await page.getByTestId("merged-into").waitFor();
  assert.equal(await page.getByRole("button", { name: "Rechercher les doublons probables" }).count(), 0);
  assert.equal(await page.getByRole("link", { name: "Nouvelle demande" }).count(), 0, "no new order on a merged identity");
  await page.getByTestId("merged-into").getByRole("link", { name: "l'identité conservée" }).click();
  await page.getByTestId("merged-here").waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a secretary finds duplicates but is not offered the merge; a technician sees neither nor the label", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "sophie", { from: `/patients/${mistyped}` });
  await page.getByRole("button", { name: "Rechercher les doublons probables" }).click();
  await page.getByRole("table", { name: "Doublons probables" }).waitFor();
  assert.equal(await page.getByRole("button", { name: /^Fusionner avec/ }).count(), 0);
  await page.getByText("Fusion réservée aux biologistes").first().waitFor();
  await page.context().close();

  const tech = await newPage(chromium.browser);
  await login(tech, "thomas", { from: `/patients/${qualified}` });
  await tech.getByTestId("identity-status").waitFor();
  for (const name of ["Rechercher les doublons probables", "Étiquette d'identité (Datamatrix INS, PDF)"]) {
    assert.equal(await tech.getByRole("button", { name }).count(), 0, name);
  }
  await tech.context().close();
});

test("the autoverified results wait in their own view, with the rule that fired, until a biologist reviews them", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "bruno");
  await page.getByRole("link", { name: "Résultats autovalidés" }).click();
  const table = page.getByRole("table", { name: "Comptes rendus autovalidés à revoir" });
  await table.waitFor();
  assert.equal(await page.getByTestId("autoverified-count").textContent(), "1 à revoir");
  const row = (await table.getByRole("row").allInnerTexts())[1];
  assert.match(row, /DE LA FONTAINE MARIE-HÉLÈNE/);
  assert.match(row, /140/);
  assert.equal(await page.getByTestId("autoverified-rule").innerText(), "Autovalidation OpenSGL (rules.json)");
  await assertAccessible(page, "résultats autovalidés");
  await screenshot(page, "autovalides");
  await page.getByRole("button", { name: /^Revoir et valider/ }).click();
  await page.getByText(/revu et validé biologiquement\.$/).waitFor();
  await page.getByText("Aucun résultat autovalidé n'attend de revue.").waitFor();
  assert.equal(await page.getByTestId("autoverified-count").textContent(), "0 à revoir");
  assert.deepEqual(page.problems, []);
  await page.context().close();

  const desk = await newPage(chromium.browser);
  await login(desk, "sophie");
  await desk.getByRole("link", { name: "Patients" }).waitFor();
  assert.equal(await desk.getByRole("link", { name: "Résultats autovalidés" }).count(), 0);
  await desk.context().close();
});
