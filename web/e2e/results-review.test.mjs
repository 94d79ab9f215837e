// The review panel of a result (issue 15 item 10): who did what (Provenance), its versions, the analyzer, the
// trend of the patient's earlier values; a correction with its reason after validation ($correct: the reason
// is required, the report becomes "Corrigé", the older value stays in the history); a rerun with its reason
// before validation ($rerun: the first measurement is cancelled, "Annulé (repassé)").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, fixture, loggedIn, login, newPage, screenshot } from "./support.mjs";

const held = loggedIn("claire", { before, after });

const csrf = async () => (await held.page.context().cookies()).find((c) => c.name === "sgl_csrf").value;

test("the review panel shows who did what, the versions and the trend of earlier values", async () => {
  const id = fixture.ids.pending_report;
  const report = await (await held.page.request.get(`/fhir/DiagnosticReport/${id}`)).json();
  if (report.status === "partial") { // when this suite runs alone: the biologist's validation first
    const done = await held.page.request.post(`/fhir/DiagnosticReport/${id}/$validate-biological`, {
      headers: { "Content-Type": "application/fhir+json", "X-CSRF-Token": await csrf() },
      data: { resourceType: "Parameters", parameter: [] } });
    assert.equal(done.status(), 200, await done.text());
  }
  await held.page.goto(`/validation/${id}`);
  await held.page.getByRole("button", { name: "Détails : Potassium" }).click();
  const panel = held.page.getByRole("region", { name: "Détails du résultat Potassium" });
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
  await assertAccessible(held.page, "revue d'un résultat");
  await screenshot(held.page, "revue-resultat");
  await held.page.getByRole("button", { name: "Détails : Potassium" }).click(); // closed again
});

test("a critical value keeps a banner on the dossier until its phone call is documented (Communication)", async () => {
  const banner = held.page.getByTestId("critical-banner");
  assert.match(await banner.innerText(), /Potassium 6,5 mmol\/L \(▲▲ Critique haut\)/);
  const posts = [];
  held.page.on("request", (r) => { if (r.method() === "POST" && r.url().endsWith("/fhir/Communication")) posts.push(r); });
  await held.page.getByRole("button", { name: "Enregistrer l'appel" }).click();
  await held.page.getByText("Indiquez qui a été appelé (nom, service).").waitFor();
  await held.page.getByText("La relecture des valeurs par l'interlocuteur est obligatoire.").waitFor();
  assert.equal(posts.length, 0, "nothing stored half-way");
  await held.page.getByLabel("Personne appelée").fill("Dr MARTIN, cardiologie, poste 4521");
  await held.page.getByLabel("L'interlocuteur a relu les valeurs (read-back)").check();
  await held.page.getByRole("button", { name: "Enregistrer l'appel" }).click();
  const calls = held.page.getByRole("table", { name: "Appels documentés" });
  await calls.waitFor();
  assert.equal(await banner.count(), 0, "the banner goes once the call is documented");
  const row = (await calls.getByRole("row").allInnerTexts())[1];
  assert.match(row, /Dr MARTIN, cardiologie, poste 4521\s+Dr Claire VALIDEUR\s+Potassium : 6,5 mmol\/L \(▲▲ Critique haut\)\s+Relecture des valeurs faite/);
  const stored = JSON.parse(posts[0].postData());
  assert.equal(stored.category[0].coding[0].code, "critical-value-call");
  assert.equal(stored.about.length, 1);
  assert.match(stored.about[0].reference, /^Observation\//);
  const found = await (await held.page.request.get(`/fhir/Communication?about=${stored.about[0].reference}`)).json();
  assert.equal(found.entry.length, 1);
  assert.equal(found.entry[0].resource.recipient[0].display, "Dr MARTIN, cardiologie, poste 4521");
  await assertAccessible(held.page, "appel valeur critique");
  await screenshot(held.page, "valeur-critique-appel");
  await held.page.getByRole("button", { name: "Détails : Potassium" }).click();
});

test("a validated result is corrected with its reason; the older value stays in the history", async () => {
  const panel = held.page.getByRole("region", { name: "Détails du résultat Potassium" });
  const sent = [];
  held.page.on("request", (r) => { if (r.url().endsWith("$correct")) sent.push(r); });
  await panel.getByLabel("Nouvelle valeur").fill("5,9");
  await panel.getByRole("button", { name: "Corriger" }).click();
  await panel.getByText("Le motif est obligatoire.").waitFor();
  assert.equal(sent.length, 0);
  await panel.getByLabel("Motif").fill("Hémolyse : valeur du contrôle sur nouveau prélèvement");
  await panel.getByRole("button", { name: "Corriger" }).click();
  await held.page.getByTestId("report-status").filter({ hasText: /^Corrigé$/ }).waitFor({ timeout: 30_000 });
  const body = JSON.parse(sent[0].postData());
  assert.deepEqual(body.parameter.map((p) => p.name), ["observation", "value", "reason"]);
  assert.equal(body.parameter[1].valueQuantity.value, 5.9);
  const row = held.page.getByTestId("result-K");
  assert.equal(await row.getByTestId("value").innerText(), "5,9 mmol/L");
  await row.getByRole("button", { name: "Détails : Potassium" }).click();
  const again = held.page.getByRole("region", { name: "Détails du résultat Potassium" });
  await again.getByRole("table", { name: "Qui a fait quoi" }).getByRole("row").filter({ hasText: "Correction" }).waitFor();
  const steps = await again.getByRole("table", { name: "Qui a fait quoi" }).getByRole("row").allInnerTexts();
  assert.ok(steps.some((r) => r.includes("Correction") && r.includes("Hémolyse")), steps.join("\n"));
  const versions = await again.getByRole("table", { name: "Versions du résultat" }).getByRole("row").allInnerTexts();
  assert.ok(versions.some((v) => v.includes("6,5 mmol/L")) && versions.some((v) => v.includes("5,9 mmol/L")), versions.join("\n"));
});

test("a result not yet validated is rerun with its reason; the first measurement is cancelled", async () => {
  const id = fixture.ids.other_report;
  await held.page.goto(`/validation/${id}`);
  await held.page.getByRole("button", { name: "Détails : Créatinine" }).click();
  const panel = held.page.getByRole("region", { name: "Détails du résultat Créatinine" });
  await panel.getByRole("table", { name: "Qui a fait quoi" }).waitFor();
  assert.equal(await panel.getByRole("button", { name: "Corriger" }).count(), 0, "not validated: no correction");
  await panel.getByLabel("Motif").fill("dilution 1/10");
  const call = held.page.waitForResponse((r) => r.url().includes("$rerun"));
  const reread = held.page.waitForResponse((r) => r.url().endsWith(`/fhir/DiagnosticReport/${id}`) && r.request().method() === "GET");
  await panel.getByRole("button", { name: "Repasser" }).click();
  const answer = await call;
  assert.equal(answer.status(), 201);
  await reread; // the held.page reads the report again
  const first = answer.url().match(/Observation\/([^/]+)\/\$rerun/)[1];
  const old = await (await held.page.request.get(`/fhir/Observation/${first}`)).json();
  assert.equal(old.status, "cancelled");
  assert.ok(old.note.some((n) => n.text.includes("dilution 1/10")), JSON.stringify(old.note));
  const fresh = await answer.json();
  assert.equal(fresh.status, "registered");
  assert.equal(await panel.count(), 0, "the panel of the replaced measurement is closed");
  assert.deepEqual(held.page.problems, []);
});
