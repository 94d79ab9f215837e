// The review panel of a result (issue 15 item 10): who did what (Provenance), its versions, the analyzer, the
// trend of the patient's earlier values; a correction with its reason after validation ($correct: the reason
// is required, the report becomes "Corrigé", the older value stays in the history); a rerun with its reason
// before validation ($rerun: the first measurement is cancelled, "Annulé (repassé)").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, fixture, launch, login, newPage, screenshot } from "./support.mjs";

let chromium;
let page;
before(async () => {
  chromium = await launch();
  page = await newPage(chromium.browser);
  await login(page, "claire");
});
after(async () => { await chromium?.close(); });

const csrf = async () => (await page.context().cookies()).find((c) => c.name === "sgl_csrf").value;

test("the review panel shows who did what, the versions and the trend of earlier values", async () => {
  const id = fixture.ids.pending_report;
  const report = await (await page.request.get(`/fhir/DiagnosticReport/${id}`)).json();
  if (report.status === "partial") { // when this suite runs alone: the biologist's validation first
    const done = await page.request.post(`/fhir/DiagnosticReport/${id}/$validate-biological`, {
      headers: { "Content-Type": "application/fhir+json", "X-CSRF-Token": await csrf() },
      data: { resourceType: "Parameters", parameter: [] } });
    assert.equal(done.status(), 200, await done.text());
  }
  await page.goto(`/validation/${id}`);
  await page.getByRole("button", { name: "Détails : Potassium" }).click();
  const panel = page.getByRole("region", { name: "Détails du résultat Potassium" });
  const trail = panel.getByRole("table", { name: "Qui a fait quoi" });
  await trail.waitFor();
  const steps = await trail.getByRole("row").allInnerTexts();
  assert.ok(steps.some((r) => r.includes("Validation technique")), steps.join("\n"));
  assert.ok(steps.some((r) => r.includes("Validation biologique") && r.includes("Dr Claire VALIDEUR")), steps.join("\n"));
  assert.ok(await panel.getByRole("table", { name: "Versions du résultat" }).getByRole("row").count() >= 3);
  assert.match(await panel.getByTestId("analyzer").innerText(), /^Automate : /);
  const trend = await panel.getByTestId("trend").getAttribute("aria-label");
  assert.equal(trend, "Évolution : 02/10/2026 : 4,2 mmol/L ; 20/11/2026 : 6,5 mmol/L");
  assert.equal(await panel.getByRole("button", { name: "Repasser" }).count(), 0, "a validated result is not rerun");
  await assertAccessible(page, "revue d'un résultat");
  await screenshot(page, "revue-resultat");
});

test("a validated result is corrected with its reason; the older value stays in the history", async () => {
  const panel = page.getByRole("region", { name: "Détails du résultat Potassium" });
  const sent = [];
  page.on("request", (r) => { if (r.url().endsWith("$correct")) sent.push(r); });
  await panel.getByLabel("Nouvelle valeur").fill("5,9");
  await panel.getByRole("button", { name: "Corriger" }).click();
  await panel.getByText("Le motif est obligatoire.").waitFor();
  assert.equal(sent.length, 0);
  await panel.getByLabel("Motif").fill("Hémolyse : valeur du contrôle sur nouveau prélèvement");
  await panel.getByRole("button", { name: "Corriger" }).click();
  await page.getByTestId("report-status").filter({ hasText: /^Corrigé$/ }).waitFor({ timeout: 30_000 });
  const body = JSON.parse(sent[0].postData());
  assert.deepEqual(body.parameter.map((p) => p.name), ["observation", "value", "reason"]);
  assert.equal(body.parameter[1].valueQuantity.value, 5.9);
  const row = page.getByTestId("result-K");
  assert.equal(await row.getByTestId("value").innerText(), "5,9 mmol/L");
  await row.getByRole("button", { name: "Détails : Potassium" }).click();
  const again = page.getByRole("region", { name: "Détails du résultat Potassium" });
  const steps = await again.getByRole("table", { name: "Qui a fait quoi" }).getByRole("row").allInnerTexts();
  assert.ok(steps.some((r) => r.includes("Correction") && r.includes("Hémolyse")), steps.join("\n"));
  const versions = await again.getByRole("table", { name: "Versions du résultat" }).getByRole("row").allInnerTexts();
  assert.ok(versions.some((v) => v.includes("6,5 mmol/L")) && versions.some((v) => v.includes("5,9 mmol/L")), versions.join("\n"));
});

test("a result not yet validated is rerun with its reason; the first measurement is cancelled", async () => {
  const id = fixture.ids.other_report;
  await page.goto(`/validation/${id}`);
  await page.getByRole("button", { name: "Détails : Créatinine" }).click();
  const panel = page.getByRole("region", { name: "Détails du résultat Créatinine" });
  await panel.getByRole("table", { name: "Qui a fait quoi" }).waitFor();
  assert.equal(await panel.getByRole("button", { name: "Corriger" }).count(), 0, "not validated: no correction");
  await panel.getByLabel("Motif").fill("dilution 1/10");
  const call = page.waitForResponse((r) => r.url().includes("$rerun"));
  await panel.getByRole("button", { name: "Repasser" }).click();
  assert.equal((await call).status(), 201);
  await page.getByTestId("result-CREA").getByText("Annulé (repassé)").waitFor();
  assert.deepEqual(page.problems, []);
});
