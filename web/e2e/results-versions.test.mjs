// SGL.DOC.02: a lab that makes two CR-Bio versions. On the report's documents screen the biologist switches
// between the professional version (PDF, N3, N1) and the patient one (PDF, N3: no N1, which only the DMP and
// professionals take); each shows the document the server made for that reader ("Exemplaire destiné ...").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, fixture, loggedIn, screenshot, shownHead } from "./support.mjs";

const held = loggedIn("claire", { before, after });
const report = () => fixture.ids.earlier_report;
const FOR_PATIENT = "Exemplaire destiné au patient";
const FOR_PROFESSIONALS = "Exemplaire destiné aux professionnels de santé";

async function showN3(page, audience) {
  const asked = page.waitForResponse((r) => r.url().includes(`/${report()}/$cr-bio?format=n3`) && r.status() !== 409,
    { timeout: 60_000 });
  await page.getByRole("button", { name: "Afficher" }).click();
  const answer = await asked;
  assert.equal(answer.status(), 200);
  assert.equal(new URL(answer.url()).searchParams.get("audience"), audience);
  const shown = page.frameLocator('iframe[title="CR-Bio N3"]');
  await shown.getByText("Compte rendu d'examens biologiques").first().waitFor();
  return shown.locator("body").innerText();
}

test("the report's screen offers both versions, the professional one first", async () => {
  await held.page.goto(`/comptes-rendus/${report()}`);
  const copies = held.page.getByRole("radiogroup", { name: "Version du compte rendu" });
  await copies.waitFor();
  assert.equal(await copies.getByRole("radio", { name: "Version professionnel" }).isChecked(), true);
  assert.equal(await copies.getByRole("radio", { name: "Version patient" }).isChecked(), false);
  const formats = held.page.getByRole("radiogroup", { name: "Format du compte rendu" });
  assert.equal(await formats.getByRole("radio", { name: "CDA N1 (PDF)" }).count(), 1);
  await assertAccessible(held.page, "report-versions");
});

test("switching to the patient version shows the patient's document, without N1", async () => {
  const copies = held.page.getByRole("radiogroup", { name: "Version du compte rendu" });
  const formats = held.page.getByRole("radiogroup", { name: "Format du compte rendu" });
  await formats.getByText("CDA N1 (PDF)").click();
  await copies.getByText("Version patient").click();
  assert.equal(await formats.getByRole("radio", { name: "CDA N1 (PDF)" }).count(), 0, "no N1 for the patient");
  assert.equal(await formats.getByRole("radio", { name: "PDF", exact: true }).isChecked(), true, "N1 chosen: back to PDF");
  const asked = held.page.waitForResponse((r) => r.url().includes(`/${report()}/$cr-bio?format=pdf`) && r.status() !== 409,
    { timeout: 60_000 });
  await held.page.getByRole("button", { name: "Afficher" }).click();
  const pdf = await asked;
  assert.equal(new URL(pdf.url()).searchParams.get("audience"), "patient");
  assert.equal(pdf.headers()["content-type"], "application/pdf");
  const frame = held.page.getByTitle("CR-Bio PDF");
  await frame.waitFor();
  assert.equal(await shownHead(held.page, await frame.getAttribute("src")), "%PDF-");
  await formats.getByText("CDA N3 (auto-présentable)").click();
  const text = await showN3(held.page, "patient");
  assert.ok(text.includes(FOR_PATIENT), text.slice(0, 400));
  assert.ok(!text.includes(FOR_PROFESSIONALS));
  assert.match(text, /DE LA FONTAINE/);
  await screenshot(held.page, "cr-bio-patient-version");
});

test("switching back shows the professional document, N1 offered again", async () => {
  const copies = held.page.getByRole("radiogroup", { name: "Version du compte rendu" });
  await copies.getByText("Version professionnel").click();
  const formats = held.page.getByRole("radiogroup", { name: "Format du compte rendu" });
  assert.equal(await formats.getByRole("radio", { name: "CDA N1 (PDF)" }).count(), 1);
  const text = await showN3(held.page, null);
  assert.ok(text.includes(FOR_PROFESSIONALS), text.slice(0, 400));
  assert.ok(!text.includes(FOR_PATIENT));
  assert.deepEqual(held.page.problems, []);
});
