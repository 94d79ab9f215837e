// Patient search and the identity file, with the RNIV display rules (SGL.INS.02) and the INS search check
// (SGL.INS.08), as the secretary and as a technician (who may not see the INS: the server masks it).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, fixture, launch, login, newPage, screenshot } from "./support.mjs";

const INS = "282077505612323";
let chromium;
before(async () => { chromium = await launch(); });
after(async () => { await chromium?.close(); });

/** The value shown for a field, and the label that names it (the dd is labelled by its dt). */
async function field(page, testid) {
  const value = page.getByTestId(testid);
  const label = await page.locator(`#${testid}-label`).innerText();
  return { label, value: (await value.innerText()).trim() };
}

async function search(page, fields) {
  await page.getByRole("link", { name: "Patients" }).click();
  for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole("button", { name: "Rechercher" }).click();
}

test("SGL.INS.02 the identity file shows the four traits with unambiguous labels, the status and the INS fields", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "sophie");
  await search(page, { Nom: "de la fontaine" });
  const row = page.getByRole("table", { name: "Patients trouvés" }).getByRole("row").nth(1);
  await row.getByRole("link", { name: "DE LA FONTAINE" }).waitFor();
  assert.deepEqual((await row.getByRole("cell").allTextContents()).map((t) => t.trim()),
    ["DE LA FONTAINE", "MARIE-HÉLÈNE", "14/07/1982", "Féminin", "Identité qualifiée"]);
  await assertAccessible(page, "recherche de patient");
  await screenshot(page, "recherche-patient");
  await row.getByRole("link", { name: "DE LA FONTAINE" }).click();
  await page.getByTestId("identity-status").waitFor();
  assert.equal(await page.getByTestId("identity-status").textContent(), "Identité qualifiée");
  const shown = {};
  for (const id of ["birth-name", "first-birth-first-name", "birth-date", "sex", "birth-first-names", "used-name",
    "used-first-name", "birthplace", "ins", "ins-oid", "ipp"]) {
    const { label, value } = await field(page, id);
    shown[label] = value;
  }
  assert.deepEqual(shown, {
    "Nom de naissance": "DE LA FONTAINE",
    "Premier prénom de naissance": "MARIE-HÉLÈNE",
    "Date de naissance": "14/07/1982",
    "Sexe": "Féminin",
    "Prénoms de naissance (liste)": "MARIE-HÉLÈNE LOUISE",
    "Nom utilisé": "MARTIN",
    "Prénom utilisé": "Marie",
    "Code du lieu de naissance (INSEE)": "75056",
    "Matricule INS": `${INS} (NIR de test)`,
    "OID de l'autorité d'affectation": "1.2.250.1.213.1.4.10",
    "IPP": "IPP-WB-0001",
  });
  // the accessible name of each value is its label: a screen reader says "Nom de naissance DE LA FONTAINE"
  assert.equal(await page.getByRole("definition").filter({ hasText: "DE LA FONTAINE" }).getAttribute("aria-labelledby"),
    "birth-name-label");
  await assertAccessible(page, "dossier d'identité");
  await screenshot(page, "identite-qualifiee");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("SGL.INS.02 a provisional identity shows its status and no INS; the four traits are still there", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "sophie");
  await page.goto(`/patients/${fixture.ids.provisional}`);
  await page.getByTestId("identity-status").waitFor();
  assert.equal(await page.getByTestId("identity-status").textContent(), "Identité provisoire");
  assert.equal(await page.getByTestId("birth-name").innerText(), "LEFEVRE");
  assert.equal(await page.getByTestId("first-birth-first-name").innerText(), "Jean-Luc");
  assert.equal(await page.getByTestId("birth-date").innerText(), "03/02/1990");
  assert.equal(await page.getByTestId("sex").innerText(), "Masculin");
  assert.equal(await page.getByTestId("ins").innerText(), "Aucun INS");
  await page.context().close();
});

test("SGL.INS.05 a technician sees the four traits but not the INS, which the server does not even send", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "thomas");
  const answer = page.waitForResponse((r) => r.url().endsWith(`/fhir/Patient/${fixture.ids.qualified}`));
  await page.goto(`/patients/${fixture.ids.qualified}`);
  assert.ok(!(await (await answer).text()).includes(INS), "the INS is masked in the FHIR answer");
  await page.getByTestId("identity-status").waitFor();
  assert.equal(await page.getByTestId("birth-name").innerText(), "DE LA FONTAINE");
  assert.equal(await page.getByTestId("sex").innerText(), "Féminin");
  assert.equal(await page.getByTestId("ins").innerText(), "Non visible avec votre profil");
  for (const hidden of ["ins-oid", "birth-first-names", "birthplace"]) {
    assert.equal(await page.getByTestId(hidden).count(), 0, hidden);
  }
  assert.ok(!(await page.content()).includes(INS));
  await page.context().close();
});

test("SGL.INS.08 a matricule INS with a wrong key or length is refused next to the field, before any search", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "sophie");
  const searches = [];
  page.on("request", (r) => { if (r.url().includes("/fhir/Patient?")) searches.push(r.url()); });
  await search(page, { "Matricule INS": "282077505612324" });
  await page.getByText("La clé du matricule INS est fausse").waitFor();
  await page.getByLabel("Matricule INS").fill("28207750561232");
  await page.getByRole("button", { name: "Rechercher" }).click();
  await page.getByText("Le matricule INS compte 15 caractères").waitFor();
  await page.getByLabel("Matricule INS").fill("");
  await page.getByLabel("Date de naissance").fill("31/02/1990");
  await page.getByRole("button", { name: "Rechercher" }).click();
  await page.getByText("Date attendue au format JJ/MM/AAAA").waitFor();
  assert.deepEqual(searches, [], "nothing was sent");
  await page.getByLabel("Date de naissance").fill("");
  await page.getByLabel("Matricule INS").fill(INS);
  await page.getByRole("button", { name: "Rechercher" }).click();
  await page.getByRole("link", { name: "DE LA FONTAINE" }).waitFor();
  assert.equal(searches.length, 1);
  assert.ok(searches[0].includes(`identifier=${INS}`), searches[0]);
  await page.context().close();
});
