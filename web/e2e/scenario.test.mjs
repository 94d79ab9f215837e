// The whole path of one request through the workbench (issue 15 "Tests and checks"), one step after the other on
// the same data: the secretary records a request for a patient whose identity the identity source sent qualified;
// an analyzer sends the result over MLLP (a real socket); the technician validates it technically, the biologist
// biologically; the CR-Bio PDF opens; its DMP delivery shows "Délivré". At each step what the role may not do is
// neither offered in the page nor accepted by the server. Run by tests/server/web/test_scenario.py, which then
// checks the DMP simulator holds the document.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fixture, launch, login, newPage, shownHead } from "./support.mjs";
import { oru, sendMllp } from "./mllp.mjs";

let chromium;
const seen = { tube: null, report: null };
before(async () => { chromium = await launch(); });
after(async () => { await chromium?.close(); });

/** A small screenshot (the visible part only) in docs/screens/. */
async function shot(page, name) {
  mkdirSync(fixture.screenshots, { recursive: true });
  await page.screenshot({ path: join(fixture.screenshots, `${name}.png`) });
}

/** The menu's entries: what the role is offered. */
async function menu(page) {
  const nav = page.getByRole("navigation", { name: "Écrans" });
  await nav.getByRole("link").first().waitFor();
  return (await nav.getByRole("link").allInnerTexts()).map((t) => t.replace(/\s*\d+$/, "").trim());
}

/** A state-changing call the page would make, sent with the session and its CSRF token: the server's answer. */
async function tryPost(page, path, body) {
  const csrf = (await page.context().cookies()).find((c) => c.name === "sgl_csrf").value;
  const answer = await page.request.post(path, { data: body, headers: { "X-CSRF-Token": csrf,
    "Content-Type": "application/fhir+json" } });
  return answer.status();
}

const noParameters = { resourceType: "Parameters", parameter: [] };

test("the secretary records a request for the qualified patient; validation is neither offered nor accepted", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "sophie");
  const offered = await menu(page);
  assert.ok(offered.includes("Patients"), offered.join(", "));
  for (const forbidden of ["Validation technique", "Validation biologique"]) assert.ok(!offered.includes(forbidden), offered.join(", "));
  await page.getByRole("link", { name: "Patients" }).click();
  await page.getByLabel("Nom", { exact: true }).fill("DE LA FONTAINE");
  await page.getByRole("button", { name: "Rechercher" }).click();
  await page.getByRole("link", { name: "DE LA FONTAINE" }).first().click();
  await page.getByText("Identité qualifiée").first().waitFor();
  await page.getByRole("link", { name: "Nouvelle demande" }).click();
  const exam = page.getByRole("textbox", { name: "Ajouter un examen" });
  await exam.waitFor();
  await page.keyboard.type("gly");
  await page.getByRole("list", { name: "Examens proposés" }).getByRole("button", { name: "Glycémie" }).waitFor();
  await page.keyboard.press("Enter");
  await page.getByRole("combobox", { name: "Prescripteur" }).fill("10000000001"); // the prescriber's RPPS
  await page.getByRole("option", { name: fixture.ids.prescriber }).waitFor();
  await page.getByRole("combobox", { name: "Prescripteur" }).press("Enter");
  await page.getByText(`Choisi : ${fixture.ids.prescriber}`).waitFor();
  await shot(page, "scenario-1-demande");
  await page.getByRole("button", { name: "Enregistrer la demande" }).click();
  await page.getByRole("table", { name: "Tubes de la demande" }).waitFor();
  const tubes = await page.getByTestId("accession").allInnerTexts();
  assert.equal(tubes.length, 1, "one serum tube for a glucose");
  seen.tube = tubes[0];
  assert.equal(await tryPost(page, "/fhir/Observation/$validate-technical", noParameters), 403);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("the analyzer's result arrives over MLLP and the technician validates it; the biologist's step is not his", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "thomas");
  const offered = await menu(page);
  for (const forbidden of ["Validation biologique", "Comptes rendus et diffusion"]) assert.ok(!offered.includes(forbidden), offered.join(", "));
  await page.getByRole("link", { name: "Validation technique" }).click();
  await page.getByTestId("bench-count").filter({ hasText: "0 à valider" }).waitFor();
  const ack = await sendMllp(Number(fixture.ids.mllp), oru(seen.tube, "GLU", "1.32", "g/L"));
  assert.match(ack, /\rMSA\|AA\|/, ack); // committed, then acknowledged
  await page.reload(); // no live push in main yet: the list is read again (it also polls every 30 s)
  const table = page.getByRole("table", { name: "Résultats à valider techniquement" });
  await table.getByTestId("bench-GLU").waitFor();
  // the count is the live stream's, whose first event may come after the rows
  await page.getByTestId("bench-count").filter({ hasText: "1 à valider" }).waitFor();
  const cells = (await table.getByTestId("bench-GLU").getByRole("cell").allTextContents()).map((t) => t.trim());
  assert.match(cells[0], /^DE LA FONTAINE/, cells.join(" | ")); // the patient the secretary chose
  assert.match(cells.join(" "), /Glucose.*1,32 g\/L/);
  await shot(page, "scenario-2-paillasse");
  const sent = page.waitForResponse((r) => r.url().includes("/$validate-technical"));
  await page.getByRole("button", { name: "Valider techniquement Glucose" }).click();
  assert.equal((await sent).status(), 200);
  await page.getByTestId("bench-count").filter({ hasText: "0 à valider" }).waitFor();
  const found = await (await page.request.get("/fhir/DiagnosticReport?status=partial,preliminary")).json();
  const reports = (found.entry ?? []).map((e) => e.resource).filter((r) => r.resourceType === "DiagnosticReport");
  assert.equal(reports.length, 1, JSON.stringify(reports.map((r) => r.id)));
  seen.report = reports[0].id;
  assert.equal(await tryPost(page, `/fhir/DiagnosticReport/${seen.report}/$validate-biological`, noParameters), 403);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("the biologist validates biologically and the CR-Bio PDF opens", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "claire");
  await page.getByRole("link", { name: /Validation biologique/ }).click();
  const table = page.getByRole("table", { name: "Comptes rendus en attente de validation biologique" });
  await table.locator(`a[href="/validation/${seen.report}"]`).click();
  await page.getByRole("table", { name: "Résultats de la demande" }).getByTestId("result-GLU").waitFor();
  assert.match(await page.getByTestId("report-patient").innerText(), /DE LA FONTAINE MARIE-HÉLÈNE/);
  await shot(page, "scenario-3-validation");
  await page.getByRole("button", { name: "Valider biologiquement" }).click();
  await page.getByRole("status").filter({ hasText: "Compte rendu validé biologiquement." }).waitFor({ timeout: 60_000 });
  assert.equal(await page.getByTestId("report-status").textContent(), "Validé");
  assert.equal(await page.getByRole("button", { name: "Valider biologiquement" }).count(), 0, "not twice");
  const answer = page.waitForResponse((r) => r.url().includes(`/DiagnosticReport/${seen.report}/$cr-bio`)
    && r.status() !== 409, { timeout: 60_000 });
  await page.getByRole("button", { name: "Voir le CR-Bio (PDF)" }).click();
  const pdf = await answer;
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()["content-type"], "application/pdf");
  const frame = page.getByTitle("CR-Bio (PDF)");
  await frame.waitFor();
  assert.equal(await shownHead(page, await frame.getAttribute("src")), "%PDF-", "the frame shows the server's PDF");
  await shot(page, "scenario-4-cr-bio");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("the report's DMP delivery shows delivered; the secretary sees it and may not validate", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "claire");
  await page.getByRole("link", { name: "Comptes rendus et diffusion" }).click();
  await page.locator(`a[href="/comptes-rendus/${seen.report}"]`).click();
  const dmp = page.getByTestId("delivery-dmp");
  for (let tries = 0; tries < 60; tries += 1) { // the outbox sends after the documents are made: read again
    if (await dmp.getByTestId("state").filter({ hasText: "✓ Délivré" }).count()) break;
    await page.waitForTimeout(1000);
    await page.getByRole("button", { name: "Actualiser" }).click();
  }
  await dmp.getByTestId("state").filter({ hasText: "✓ Délivré" }).waitFor({ timeout: 5_000 });
  await shot(page, "scenario-5-diffusion");
  await page.context().close();

  const desk = await newPage(chromium.browser);
  await login(desk, "sophie", { from: `/comptes-rendus/${seen.report}` });
  await desk.getByTestId("delivery-dmp").getByTestId("state").filter({ hasText: "✓ Délivré" }).waitFor();
  assert.equal(await desk.getByRole("button", { name: "Valider biologiquement" }).count(), 0);
  assert.equal(await tryPost(desk, `/fhir/DiagnosticReport/${seen.report}/$validate-biological`, noParameters), 403);
  assert.deepEqual(desk.problems, []);
  await desk.context().close();
  console.log(`SCENARIO ${JSON.stringify(seen)}`);
});
