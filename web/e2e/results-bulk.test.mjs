// Bulk biological validation only of "clear" reports (issue 15 item 10): a report whose results carry no
// critical value, no flag outside the reference range, no delta check, no analyzer alarm and no comment may be
// ticked and validated with others; any other says why it must be opened; the button says why it is disabled;
// a critical value is never offered in bulk.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, fixture, loggedIn, screenshot } from "./support.mjs";

const held = loggedIn("claire", { before, after });
const UCUM = "http://unitsofmeasure.org";

async function order(results) {
  const page = held.page;
  const csrf = (await page.context().cookies()).find((c) => c.name === "sgl_csrf").value;
  const post = async (path, data) => {
    const answer = await page.request.post(`/fhir/${path}`, { data,
      headers: { "Content-Type": "application/fhir+json", "X-CSRF-Token": csrf } });
    assert.ok(answer.ok(), `${path}: ${answer.status()} ${await answer.text()}`);
    return answer.json();
  };
  const requisition = `G${Math.random().toString(16).slice(2, 10).toUpperCase()}`;
  const request = await post("ServiceRequest", { resourceType: "ServiceRequest", status: "active", intent: "order",
    subject: { reference: `Patient/${fixture.ids.qualified}` }, code: { text: "bilan" },
    requisition: { system: "https://opensgl.org/sid/demande", value: requisition } });
  const ids = [];
  for (const [code, value, unit] of results) {
    ids.push((await post("Observation", { resourceType: "Observation", status: "preliminary",
      category: [{ coding: [{ system: "http://terminology.hl7.org/CodeSystem/observation-category", code: "laboratory" }] }],
      code: { coding: [{ system: "https://opensgl.org/fhir/CodeSystem/catalogue", code }] },
      subject: { reference: `Patient/${fixture.ids.qualified}` }, basedOn: [{ reference: `ServiceRequest/${request.id}` }],
      effectiveDateTime: "2026-11-24T08:00:00+01:00", valueQuantity: { value, unit, system: UCUM, code: unit } })).id);
  }
  await post("Observation/$validate-technical", { resourceType: "Parameters",
    parameter: ids.map((id) => ({ name: "observation", valueReference: { reference: `Observation/${id}` } })) });
  const found = await (await page.request.get(`/fhir/DiagnosticReport?result=Observation/${ids[0]}`)).json();
  return { id: found.entry[0].resource.id, requisition };
}

let clear;
let flagged;
test("only clear reports can be ticked; the others say why; the button says why it is disabled", async () => {
  clear = await order([["NA", 139, "mmol/L"], ["CL", 101, "mmol/L"]]);
  flagged = await order([["GLU", 1.32, "g/L"]]);
  await held.page.goto("/validation");
  const table = held.page.getByRole("table", { name: "Comptes rendus en attente de validation biologique" });
  const row = (r) => table.getByRole("row").filter({ has: held.page.locator(`a[href="/validation/${r.id}"]`) });
  await row(clear).waitFor();
  assert.match(await row(flagged).getByTestId("not-clear").innerText(), /^À ouvrir : .*hors valeurs de référence/);
  assert.equal(await row(flagged).getByRole("checkbox").count(), 0);
  const button = held.page.getByRole("button", { name: /comptes rendus sans anomalie/ });
  assert.equal(await button.isDisabled(), true);
  assert.equal(await held.page.getByTestId("bulk-why").innerText(), "Cochez les comptes rendus sans anomalie à valider ensemble.");
  // a critical value is never offered in bulk (the seed's pending report carries K 6,5 ▲▲ when it is still there)
  for (const text of await table.getByTestId("not-clear").allInnerTexts()) assert.match(text, /^À ouvrir : /);
  await row(clear).getByRole("checkbox").check();
  assert.equal(await button.isDisabled(), false);
  await assertAccessible(held.page, "validation groupée");
  await screenshot(held.page, "validation-groupee");
});

test("the ticked clear report is validated; the flagged one is left for a look", async () => {
  const sent = [];
  held.page.on("request", (r) => { if (r.url().endsWith("$validate-biological")) sent.push(r.url()); });
  await held.page.getByRole("button", { name: "Valider les 1 comptes rendus sans anomalie" }).click();
  await held.page.getByRole("status").filter({ hasText: `1 compte(s) rendu(s) validé(s) : ${clear.requisition}.` }).waitFor();
  assert.deepEqual(sent.map((u) => u.split("/").at(-2)), [clear.id]);
  const status = async (r) => (await (await held.page.request.get(`/fhir/DiagnosticReport/${r.id}`)).json()).status;
  assert.equal(await status(clear), "final");
  assert.equal(await status(flagged), "partial");
  assert.deepEqual(held.page.problems, []);
});
