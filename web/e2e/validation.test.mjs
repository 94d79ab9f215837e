// The biologist's day: the worklist of reports waiting for biological validation (with its count), the
// validation screen (results with previous value, flags, reference ranges), the validation itself through
// the FHIR operation $validate-biological, and the CR-Bio PDF of the validated report.
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

const cells = async (row) => (await row.getByRole("cell").allTextContents()).map((t) => t.trim());

test("the worklist lists the pending report with its patient and the count in the menu", async () => {
  await page.getByRole("link", { name: /Validation biologique/ }).click();
  const table = page.getByRole("table", { name: "Comptes rendus en attente de validation biologique" });
  await table.waitFor();
  assert.equal(await page.getByTestId("pending-count").textContent(), "2 en attente");
  assert.equal(await page.getByRole("navigation", { name: "Écrans" }).getByLabel("2 en attente").count(), 1);
  assert.equal(await table.getByRole("row").count(), 3);
  const row = table.getByRole("row").filter({ has: page.locator(`a[href="/validation/${fixture.ids.pending_report}"]`) });
  const [, patient, results, , state] = await cells(row);
  assert.deepEqual([patient, results, state], ["DE LA FONTAINE MARIE-HÉLÈNE", "3", "En attente de validation biologique"]);
  await assertAccessible(page, "liste de validation");
  await screenshot(page, "liste-validation-biologique");
  await row.getByRole("link").click();
  await page.waitForURL(`**/validation/${fixture.ids.pending_report}`);
});

test("the validation screen shows each result with flag, reference range and previous value", async () => {
  const table = page.getByRole("table", { name: "Résultats de la demande" });
  await table.getByTestId("result-GLU").waitFor();
  assert.match(await page.getByTestId("report-patient").innerText(), /DE LA FONTAINE MARIE-HÉLÈNE, né\(e\) le 14\/07\/1982, sexe féminin/);
  const rows = {};
  for (const code of ["GLU", "K", "NA"]) rows[code] = (await cells(table.getByTestId(`result-${code}`))).slice(1, 6); // then the "Détails" button
  assert.deepEqual(rows.GLU, ["1,32 g/L", "▲ Élevé", "0,7 – 1,1 g/L", "0,95 g/L le 02/10/2026", "Validé techniquement"]);
  assert.deepEqual(rows.K, ["6,5 mmol/L", "▲▲ Critique haut", "3,5 – 5,1 mmol/L", "4,2 mmol/L le 02/10/2026",
    "Validé techniquement"]);
  assert.deepEqual(rows.NA, ["140 mmol/L", "Normal", "136 – 145 mmol/L", "Aucun", "Validé techniquement"]);
  // outside the range: bold value, a symbol and a word (never colour alone)
  assert.equal(await table.getByTestId("result-K").getByTestId("value").evaluate((e) => getComputedStyle(e).fontWeight), "700");
  assert.equal(await table.getByTestId("result-NA").getByTestId("value").evaluate((e) => getComputedStyle(e).fontWeight), "400");
  assert.equal(await page.getByRole("button", { name: "Voir le CR-Bio (PDF)" }).count(), 0, "no CR before validation");
  await assertAccessible(page, "écran de validation");
  await screenshot(page, "validation-biologique");
});

test("the biologist validates through $validate-biological; the report and its results become validated", async () => {
  await page.getByLabel("Conclusion (facultative)").fill("Hyperkaliémie à contrôler.");
  const call = page.waitForRequest((r) => r.url().endsWith(`/fhir/DiagnosticReport/${fixture.ids.pending_report}/$validate-biological`));
  await page.getByRole("button", { name: "Valider biologiquement" }).click();
  const sent = await call;
  assert.equal(sent.method(), "POST");
  assert.ok(sent.headers()["x-csrf-token"], "the CSRF token goes with the session");
  assert.deepEqual(JSON.parse(sent.postData()).parameter, [{ name: "conclusion", valueString: "Hyperkaliémie à contrôler." }]);
  await page.getByRole("status").filter({ hasText: "Compte rendu validé biologiquement." }).waitFor({ timeout: 60_000 });
  assert.equal(await page.getByTestId("report-status").textContent(), "Validé");
  const states = await page.getByRole("table", { name: "Résultats de la demande" }).getByRole("row")
    .evaluateAll((rows) => rows.slice(1).map((r) => r.children[5].textContent));
  assert.deepEqual(states, ["Validé biologiquement", "Validé biologiquement", "Validé biologiquement"]);
  assert.equal(await page.getByRole("button", { name: "Valider biologiquement" }).count(), 0);
  // the menu's counter follows at once
  await page.getByRole("navigation", { name: "Écrans" }).getByLabel("1 en attente").waitFor({ timeout: 5_000 });
  // straight from the API: the report is final and names the biologist
  const report = await (await page.request.get(`/fhir/DiagnosticReport/${fixture.ids.pending_report}`)).json();
  assert.equal(report.status, "final");
  assert.equal(report.conclusion, "Hyperkaliémie à contrôler.");
  assert.ok(report.resultsInterpreter?.length, JSON.stringify(report.resultsInterpreter));
});

test("the CR-Bio PDF of the validated report opens in the page", async () => {
  // the documents are made just after the validating commit: the page asks again while the server says 409
  const answer = page.waitForResponse((r) => r.url().includes(`/DiagnosticReport/${fixture.ids.pending_report}/$cr-bio`)
    && r.status() !== 409, { timeout: 60_000 });
  await page.getByRole("button", { name: "Voir le CR-Bio (PDF)" }).click();
  const pdf = await answer;
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()["content-type"], "application/pdf");
  const frame = page.getByTitle("CR-Bio (PDF)");
  await frame.waitFor();
  const src = await frame.getAttribute("src");
  assert.match(src, /^blob:/);
  // what the frame shows is the server's PDF: read the blob back in the page
  const shown = await page.evaluate(async (url) => {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    return { head: String.fromCharCode(...bytes.slice(0, 5)), size: bytes.length };
  }, src);
  assert.equal(shown.head, "%PDF-");
  assert.ok(shown.size > 5000, `${shown.size} bytes`);
  await screenshot(page, "cr-bio-pdf");
});

test("a report changed since the page was opened is not validated from the stale page", async () => {
  const id = fixture.ids.other_report;
  await page.goto(`/validation/${id}`);
  await page.getByTestId("result-CREA").waitFor();
  // meanwhile another biologist validates it (the same operation, straight through the API)
  const other = await page.request.post(`/fhir/DiagnosticReport/${id}/$validate-biological`, {
    headers: { "Content-Type": "application/fhir+json", "X-CSRF-Token": (await page.context().cookies())
      .find((c) => c.name === "sgl_csrf").value },
    data: { resourceType: "Parameters", parameter: [] } });
  assert.equal(other.status(), 200, await other.text());
  const sent = [];
  page.on("request", (r) => { if (r.url().endsWith("$validate-biological")) sent.push(r.url()); });
  await page.getByRole("button", { name: "Valider biologiquement" }).click();
  await page.getByRole("alert").filter({ hasText: "Ce compte rendu a été modifié depuis que vous l'avez ouvert" }).waitFor();
  assert.deepEqual(sent, [], "the stale page sent no validation");
  await page.getByTestId("report-status").filter({ hasText: /^Validé$/ }).waitFor(); // re-read: what is true now
  assert.equal(await page.getByRole("button", { name: "Valider biologiquement" }).count(), 0);
});

test("the worklist is empty once the reports are validated", async () => {
  await page.getByRole("link", { name: /Validation biologique/ }).click();
  await page.getByText("Aucun compte rendu n'attend de validation biologique.").waitFor();
  assert.equal(await page.getByTestId("pending-count").textContent(), "0 en attente");
  assert.deepEqual(page.problems, []);
});
