// The technician at the bench: results received and not yet technically validated, with their count;
// one validated through $validate-technical leaves the list, and its report reaches the biologist's worklist.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, launch, login, newPage, screenshot } from "./support.mjs";

let chromium;
before(async () => { chromium = await launch(); });
after(async () => { await chromium?.close(); });

test("the technician validates a result technically from the bench list", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "thomas");
  await page.getByRole("link", { name: "Validation technique" }).click();
  const table = page.getByRole("table", { name: "Résultats à valider techniquement" });
  await table.getByTestId("bench-GLU").waitFor();
  // the count comes from the live stream (its first event may follow the rows)
  await page.getByTestId("bench-count").filter({ hasText: "2 à valider" }).waitFor();
  const cells = (await table.getByTestId("bench-GLU").getByRole("cell").allTextContents()).map((t) => t.trim());
  assert.deepEqual(cells.slice(0, 4), ["LEFEVRE Jean-Luc", "Glucose", "0,88 g/L", "22/11/2026 à 07:45"]);
  await assertAccessible(page, "validation technique");
  await screenshot(page, "validation-technique");
  const sent = page.waitForResponse((r) => r.url().includes("/$validate-technical"));
  await page.getByRole("button", { name: "Valider techniquement Glucose" }).click();
  assert.equal((await sent).status(), 200);
  await page.getByTestId("bench-count").filter({ hasText: "1 à valider" }).waitFor();
  assert.equal(await table.getByTestId("bench-GLU").count(), 0);
  // the badge is the server's count of the waiting results, not the rows the page loaded (issue 15)
  const waiting = encodeURIComponent("https://opensgl.org/fhir/CodeSystem/validation-step|technical");
  const counted = await (await page.request.get(`/fhir/Observation?status=preliminary&_tag:not=${waiting}&_summary=count`)).json();
  assert.equal(counted.total, 1);
  // the server recorded it: the result is tagged technical, and its order's report waits for a biologist
  const glu = (await (await page.request.get("/fhir/Observation?status=preliminary&_count=50")).json()).entry
    .map((e) => e.resource).filter((o) => o.code.coding.some((c) => c.code === "GLU") && o.valueQuantity.value === 0.88);
  assert.equal(glu.length, 1);
  assert.ok(glu[0].meta.tag.some((t) => t.code === "technical"), JSON.stringify(glu[0].meta.tag));
  assert.equal(await page.getByRole("link", { name: /Validation biologique/ }).count(), 0, "not a technician's screen");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
