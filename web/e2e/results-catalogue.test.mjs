// The catalogue and its LOINC codes (SGL.LOI.08, SGL.LOI.09): each analysis with its LOINC code and dates; the
// manual edit through $set-loinc (a malformed code refused next to the field before any request, a wrong check
// digit refused by the server next to the field), the creation date kept and the modification date and author
// shown after the edit; the LOINC_3 export downloaded; a LOINC_6 import with a bad line refused with its
// line-numbered report and nothing changed; what the secretary may not do is not offered.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { assertAccessible, loggedIn, login, newPage, screenshot } from "./support.mjs";

const held = loggedIn("claire", { before, after });

const NEW_CODE = "13978-2"; // a valid LOINC code of the circuit stand-in the seed catalogue does not use
const loincOf = async (id) => (await (await held.page.request.get(`/fhir/ObservationDefinition/${id}`)).json())
  .code.coding.find((c) => c.system === "http://loinc.org");

test("the catalogue lists the analyses with their LOINC codes and dates", async () => {
  await held.page.getByRole("link", { name: "Catalogue et LOINC" }).click();
  const glu = held.page.getByRole("table", { name: "Analyses du catalogue" }).getByTestId("analysis-GLU");
  await glu.waitFor();
  const cells = (await glu.getByRole("cell").allTextContents()).map((t) => t.trim());
  assert.equal(cells[0], "GLU");
  assert.equal(cells[1], "Glucose");
  assert.equal(cells[3], "2345-7");
  assert.match(cells[5], /^\d{2}\/\d{2}\/\d{4} à \d{2}:\d{2}$/);
  await assertAccessible(held.page, "catalogue");
});

test("a LOINC code is edited by hand: checked, created date kept, modified date and author shown (LOI.08/09)", async () => {
  const before = await loincOf("analysis-GLU");
  await held.page.getByRole("button", { name: "GLU — modifier le code LOINC de Glucose", exact: true }).click();
  const editor = held.page.getByRole("region", { name: "Code LOINC de Glucose" });
  await editor.getByTestId("loinc-author").filter({ hasText: "aucune depuis la création du catalogue" }).waitFor();
  const sent = [];
  held.page.on("request", (r) => { if (r.url().includes("$set-loinc")) sent.push(r); });
  await editor.getByLabel("Code LOINC").fill("2345");
  await editor.getByRole("button", { name: "Enregistrer le code LOINC" }).click();
  await editor.getByText("Un code LOINC s'écrit chiffres, tiret, chiffre de contrôle").waitFor();
  assert.equal(sent.length, 0, "a malformed code is not sent");
  await editor.getByLabel("Code LOINC").fill("2345-8"); // wrong check digit: the server says why
  await editor.getByRole("button", { name: "Enregistrer le code LOINC" }).click();
  await held.page.waitForResponse((r) => r.url().includes("$set-loinc"));
  await editor.locator(".mantine-TextInput-error").waitFor();
  assert.match(await editor.locator(".mantine-TextInput-error").innerText(), /2345-8/);
  assert.equal((await loincOf("analysis-GLU")).code, "2345-7", "nothing stored");
  await editor.getByLabel("Code LOINC").fill(NEW_CODE);
  await editor.getByLabel("Libellé LOINC").fill("Glucose [Masse/Volume] Sang ; Numérique");
  await editor.getByRole("button", { name: "Enregistrer le code LOINC" }).click();
  const row = held.page.getByTestId("analysis-GLU");
  await row.getByTestId("loinc").filter({ hasText: NEW_CODE }).waitFor();
  assert.match(sent.at(-1).headers()["if-match"], /^W\/"\d+"$/);
  const after = await loincOf("analysis-GLU");
  const dates = (c) => Object.fromEntries(c.extension[0].extension.map((e) => [e.url, e.valueDateTime ?? e.valueString]));
  assert.equal(dates(after).created, dates(before).created, "the creation date is kept");
  assert.notEqual(dates(after).modified, dates(before).modified, "the modification date moves");
  const fresh = held.page.getByRole("region", { name: "Code LOINC de Glucose" });
  await fresh.getByTestId("loinc-author").filter({ hasText: /Dr Claire VALIDEUR, le \d{2}\/\d{2}\/\d{4}/ }).waitFor();
  assert.match(await fresh.getByTestId("loinc-dates").innerText(), /^Créé le 05\/01\/2026 à 08:00 — modifié le \d{2}\/\d{2}\/\d{4}/);
  await fresh.scrollIntoViewIfNeeded();
  await screenshot(held.page, "catalogue-loinc", { fullPage: false }); // the whole list is a long page
});

test("LOINC_3 is exported; a LOINC_6 import with a bad line is refused with its line-numbered report", async () => {
  const download = held.page.waitForEvent("download");
  await held.page.getByRole("button", { name: "Exporter LOINC_3" }).click();
  const file = await download;
  assert.match(file.suggestedFilename(), /^LOINC_3_export_resultats_\d{8}\.csv$/);
  const text = readFileSync(await file.path(), "utf8").replace(/^\uFEFF/, "");
  const [header, ...lines] = text.split(/\r?\n/).filter(Boolean);
  assert.ok(header.includes(";") && lines.length > 3, header);
  const glu = lines.find((l) => l.startsWith("GLU;"));
  const csv = [`${header};Code LOINC analyse;Libellé LOINC analyse`, `${glu};2345-8;Glucose`]
    .join("\r\n");
  const day = file.suggestedFilename().match(/(\d{8})/)[1];
  await held.page.locator('input[type="file"]').setInputFiles({
    name: `LOINC_6_transcodage_resultats_${day}.csv`, mimeType: "text/csv", buffer: Buffer.from(`\uFEFF${csv}\r\n`) });
  await held.page.getByRole("button", { name: "Importer" }).click();
  const report = held.page.getByRole("table", { name: "Rapport d'import" });
  await report.waitFor();
  const rows = await report.getByRole("row").allInnerTexts();
  const bad = rows.find((r) => r.startsWith("Bloquant") && r.includes("2345-8"));
  assert.ok(bad, rows.join("\n"));
  assert.match(bad, /\b2\b/, `the line of the bad code is named: ${bad}`);
  await held.page.getByRole("alert").filter({ hasText: "Import refusé, rien n'a été modifié" }).waitFor();
  assert.equal((await loincOf("analysis-GLU")).code, NEW_CODE, "nothing applied");
  await assertAccessible(held.page, "import LOINC");
  await report.scrollIntoViewIfNeeded();
  await screenshot(held.page, "catalogue-import", { fullPage: false });
});

test("the secretary reads the catalogue; editing and importing are not offered", async () => {
  const desk = await newPage(held.browser);
  await login(desk, "sophie");
  await desk.getByRole("link", { name: "Catalogue et LOINC" }).click();
  await desk.getByTestId("analysis-GLU").waitFor();
  assert.equal(await desk.getByRole("button", { name: /modifier le code LOINC/ }).count(), 0);
  await desk.getByRole("button", { name: "GLU — voir le code LOINC de Glucose", exact: true }).click();
  assert.match(await desk.getByTestId("loinc-dates").innerText(), new RegExp(`LOINC ${NEW_CODE}, créé le 05/01/2026`));
  assert.equal(await desk.getByRole("button", { name: "Enregistrer le code LOINC" }).count(), 0);
  assert.equal(await desk.getByRole("button", { name: "Importer" }).count(), 0);
  assert.equal(await desk.getByRole("button", { name: "Exporter LOINC_1" }).count(), 1);
  await desk.context().close();
  assert.deepEqual(held.page.problems, []);
});
