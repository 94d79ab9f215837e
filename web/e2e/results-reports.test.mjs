// The CR-Bio and where it went (SGL.DOC.12, DMP.02, DMP.03, DOC.15): the report in PDF, self-presenting N3 and
// N1 in the page; per channel and recipient the delivery state with the partner's answer; a refused DMP
// delivery sent again and delivered; the dossier's DMP settings saved on the report, then honoured by the
// outbox (a blocked dossier's DMP delivery is "Bloqué"); what the secretary and the technician are not offered.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, fixture, loggedIn, login, newPage, screenshot } from "./support.mjs";

const held = loggedIn("claire", { before, after });

const csrf = async (p) => (await p.context().cookies()).find((c) => c.name === "sgl_csrf").value;
const earlier = () => fixture.ids.earlier_report;
const apiDeliveries = async (p, id) => (await (await p.request.get(`/fhir/DiagnosticReport/${id}/$deliveries`)).json())
  .parameter.map((x) => JSON.parse(x.valueString));

test("the validated reports are listed and open on their documents screen", async () => {
  await held.page.getByRole("link", { name: "Comptes rendus et diffusion" }).click();
  const table = held.page.getByRole("table", { name: "Comptes rendus validés" });
  await table.waitFor();
  const row = table.getByRole("row").filter({ has: held.page.locator(`a[href="/comptes-rendus/${earlier()}"]`) });
  assert.match(await row.innerText(), /DE LA FONTAINE MARIE-HÉLÈNE\s+Validé/);
  await row.getByRole("link").click();
  await held.page.waitForURL(`**/comptes-rendus/${earlier()}`);
  assert.match(await held.page.getByTestId("report-patient").innerText(), /DE LA FONTAINE MARIE-HÉLÈNE, né\(e\) le 14\/07\/1982/);
});

test("the CR-Bio shows as PDF, as self-presenting N3 and as N1 (SGL.DOC.12)", async () => {
  const formats = held.page.getByRole("radiogroup", { name: "Format du compte rendu" });
  // PDF: the server's bytes in a frame
  let answer = held.page.waitForResponse((r) => r.url().includes(`/${earlier()}/$cr-bio?format=pdf`) && r.status() !== 409,
    { timeout: 60_000 });
  await held.page.getByRole("button", { name: "Afficher" }).click();
  assert.equal((await answer).headers()["content-type"], "application/pdf");
  const pdfFrame = held.page.getByTitle("CR-Bio PDF");
  await pdfFrame.waitFor();
  const head = await held.page.evaluate(async (url) => {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    return String.fromCharCode(...bytes.slice(0, 5));
  }, await pdfFrame.getAttribute("src"));
  assert.equal(head, "%PDF-");
  // N3: the file renders itself (its own XSL) inside a frame where nothing may run
  await formats.getByText("CDA N3 (auto-présentable)").click();
  answer = held.page.waitForResponse((r) => r.url().includes("$cr-bio?format=n3"));
  await held.page.getByRole("button", { name: "Afficher" }).click();
  assert.equal((await answer).status(), 200);
  const n3 = held.page.getByTitle("CR-Bio N3");
  await n3.waitFor();
  assert.equal(await n3.getAttribute("sandbox"), "allow-same-origin", "no script runs in it");
  const shown = held.page.frameLocator('iframe[title="CR-Bio N3"]');
  await shown.getByText("Compte rendu d'examens biologiques").first().waitFor();
  const text = await shown.locator("body").innerText();
  assert.match(text, /DE LA FONTAINE/);
  assert.match(text, /0,95|0\.95/, "the glucose result of the earlier report is shown");
  await screenshot(held.page, "cr-bio-n3");
  // N1: its header and the PDF it carries
  await formats.getByText("CDA N1 (PDF)").click();
  await held.page.getByRole("button", { name: "Afficher" }).click();
  assert.match(await held.page.getByTestId("n1-header").innerText(), new RegExp(`\\^${earlier()}\\.n1\\.1 — `));
  const n1 = held.page.getByTitle("CR-Bio CDA N1 (PDF)");
  await n1.waitFor();
  const carried = await held.page.evaluate(async (url) => {
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    return String.fromCharCode(...bytes.slice(0, 5));
  }, await n1.getAttribute("src"));
  assert.equal(carried, "%PDF-");
  // each view is traced for the user who looked (SGL.DOC.12)
  const audit = await (await held.page.request.get(`/fhir/AuditEvent?entity=DiagnosticReport/${earlier()}&_count=50`)).json();
  assert.ok((audit.entry ?? []).length >= 3, `AuditEvents: ${(audit.entry ?? []).length}`);
});

test("each channel and recipient shows its state with the partner's answer; a failed DMP delivery is sent again", async () => {
  const dmp = held.page.getByTestId("delivery-dmp");
  await dmp.getByTestId("state").filter({ hasText: "✗ Échec" }).waitFor({ timeout: 60_000 });
  assert.match(await dmp.getByTestId("reason").innerText(), /XDSUnknownPatientId/);
  const dpi = held.page.getByTestId("delivery-hl7v2");
  await held.page.getByRole("button", { name: "Actualiser" }).click();
  await dpi.getByTestId("state").filter({ hasText: "✗ Échec" }).waitFor({ timeout: 60_000 });
  assert.match(await dpi.innerText(), /DPI \(HL7 v2\)\s+DPI-CHU\s+Envoi v1/);
  assert.notEqual((await dpi.getByTestId("reason").innerText()).trim(), "—", "the connection error is shown");
  await assertAccessible(held.page, "documents et diffusion");
  await screenshot(held.page, "diffusion-echec");
  const sent = held.page.waitForRequest((r) => r.url().endsWith(`/${earlier()}/$delivery-retry`));
  await held.page.getByRole("button", { name: "Renvoyer : DMP, dmp" }).click();
  const body = JSON.parse((await sent).postData());
  const [before] = (await apiDeliveries(held.page, earlier())).filter((d) => d.channel === "dmp");
  assert.deepEqual(body.parameter, [{ name: "delivery", valueString: before.id }]);
  await held.page.getByRole("status").filter({ hasText: "Nouvel envoi demandé : DMP, dmp." }).waitFor();
  await dmp.getByTestId("state").filter({ hasText: "✓ Délivré" }).waitFor({ timeout: 60_000 });
  const [now] = (await apiDeliveries(held.page, earlier())).filter((d) => d.channel === "dmp");
  assert.equal(now.state, "delivered");
  assert.ok(now.history.some((h) => h.manual === "retry" && /VALIDEUR/.test(h.by)), JSON.stringify(now.history));
  assert.equal(await held.page.getByRole("button", { name: "Renvoyer : DMP, dmp" }).count(), 0);
  await screenshot(held.page, "diffusion-delivre");
});

test("the dossier's DMP settings are saved on the report and a blocked dossier never feeds the DMP (DMP.02/03, DOC.15)", async () => {
  const id = fixture.ids.pending_report;
  await held.page.goto(`/comptes-rendus/${id}`);
  await held.page.getByRole("heading", { name: "Réglages DMP du dossier" }).waitFor();
  await held.page.getByLabel("Masqué aux professionnels de santé").check();
  await held.page.getByLabel("Ne pas alimenter le DMP pour ce dossier").check();
  const puts = [];
  held.page.on("request", (r) => { if (r.method() === "PUT") puts.push(r); });
  await held.page.getByRole("button", { name: "Enregistrer les réglages DMP" }).click();
  await held.page.getByText("Indiquez pourquoi le DMP n'est pas alimenté").waitFor();
  assert.equal(puts.length, 0, "nothing sent without the reason");
  await held.page.getByLabel("Motif du blocage").fill("expertise assurance");
  await held.page.getByRole("button", { name: "Enregistrer les réglages DMP" }).click();
  await held.page.getByRole("status").filter({ hasText: "Réglages DMP enregistrés." }).waitFor();
  assert.match(puts[0].headers()["if-match"], /^W\/"\d+"$/);
  const stored = await (await held.page.request.get(`/fhir/DiagnosticReport/${id}`)).json();
  assert.deepEqual(stored.meta.security.filter((s) => s.system === "urn:oid:1.2.250.1.213.1.1.4.13").map((s) => s.code),
    ["MASQUE_PS"]);
  assert.deepEqual(stored.meta.tag.filter((t) => t.code === "DMP_BLOQUE").map((t) => t.display), ["expertise assurance"]);
  assert.equal(stored.status, "partial", "the settings change nothing else");
  await screenshot(held.page, "reglages-dmp");
  // the biologist validates: the outbox honours the settings in force
  const done = await held.page.request.post(`/fhir/DiagnosticReport/${id}/$validate-biological`, {
    headers: { "Content-Type": "application/fhir+json", "X-CSRF-Token": await csrf(held.page) },
    data: { resourceType: "Parameters", parameter: [] } });
  assert.equal(done.status(), 200, await done.text());
  await held.page.reload();
  const dpi = held.page.getByTestId("delivery-hl7v2"); // the outbox has written this version's deliveries
  for (let i = 0; i < 60 && await dpi.count() === 0; i += 1) {
    await held.page.waitForTimeout(1000);
    await held.page.getByRole("button", { name: "Actualiser" }).click();
  }
  await dpi.waitFor();
  assert.equal(await held.page.getByTestId("dmp-blocked").innerText(),
    "— DMP non alimenté pour ce dossier (réglage DMP), motif : expertise assurance.");
  // the outbox writes the DMP delivery as blocked (never sent; the simulator's side is checked by the Python test)
  const dmp = await apiDeliveries(held.page, id);
  assert.deepEqual(dmp.filter((d) => d.channel === "dmp").map((d) => d.state), ["blocked"]);
  const row = held.page.getByTestId("delivery-dmp");
  assert.equal(await row.getByTestId("state").innerText(), "— Bloqué (DMP non alimenté)");
  assert.match(await row.getByTestId("reason").innerText(), /expertise assurance$/); // as the outbox words it
  assert.equal(await held.page.getByLabel("Masqué aux professionnels de santé").isChecked(), true);
});

test("the secretary sees documents and deliveries but may not change DMP settings; the technician has no such screen", async () => {
  const desk = await newPage(held.browser);
  await login(desk, "sophie");
  await desk.goto(`/comptes-rendus/${earlier()}`);
  await desk.getByTestId("delivery-dmp").waitFor();
  assert.equal(await desk.getByRole("button", { name: "Afficher" }).count(), 1);
  assert.equal(await desk.getByRole("button", { name: "Enregistrer les réglages DMP" }).count(), 0);
  assert.equal(await desk.getByLabel("Masqué aux professionnels de santé").isDisabled(), true);
  await desk.context().close();
  const bench = await newPage(held.browser);
  await login(bench, "thomas");
  assert.equal(await bench.getByRole("link", { name: "Comptes rendus et diffusion" }).count(), 0);
  await bench.goto(`/comptes-rendus/${earlier()}`);
  await bench.getByText("Cet écran n'existe pas ou votre profil n'y a pas accès.").waitFor();
  await bench.context().close();
  assert.deepEqual(held.page.problems, []);
});
