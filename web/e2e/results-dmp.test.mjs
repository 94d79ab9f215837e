// The DMP button (SGL.DMP.05, SGL.DMP.06): on a qualified patient, the biologist's button asks $dmp-access and
// posts the signed TD0.9 call into a new window, which lands on the DMP portal (sgl dmp-simulator's web-PS page)
// showing that patient's INS; the same for the professional's dashboard. No button for a provisional identity
// (the server refuses it anyway) nor for a role without Patient:$dmp-access.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fixture, loggedIn, login, newPage } from "./support.mjs";

const held = loggedIn("claire", { before, after });
const QUALIFIED_INS = "282077505612323";

for (const [button, title] of [["DMP du patient", "Dossier patient"], ["Tableau de bord DMP", "Tableau de bord du professionnel"]]) {
  test(`"${button}" opens the DMP portal on the qualified patient`, async () => {
    await held.page.goto(`/comptes-rendus/${fixture.ids.earlier_report}`);
    const asked = held.page.waitForResponse((r) => r.url().includes(`/Patient/${fixture.ids.qualified}/$dmp-access`));
    const opened = held.page.context().waitForEvent("page");
    await held.page.getByRole("button", { name: button }).click();
    assert.equal((await asked).status(), 200);
    const portal = await opened;
    await portal.waitForLoadState();
    assert.match(portal.url(), /^https:\/\/127\.0\.0\.1:\d+\/web-ps$/);
    assert.equal(await portal.locator("h1").innerText(), title);
    assert.match(await portal.locator("body").innerText(), new RegExp(QUALIFIED_INS));
    assert.equal(await portal.evaluate(() => window.opener), null, "the portal has no handle on the workbench");
    await portal.close();
  });
}

test("no DMP button for a provisional identity nor for the secretary", async () => {
  await held.page.goto(`/comptes-rendus/${fixture.ids.other_report}`);
  await held.page.getByTestId("report-patient").waitFor();
  assert.equal(await held.page.getByRole("button", { name: "DMP du patient" }).count(), 0);
  const desk = await newPage(held.browser);
  await login(desk, "sophie");
  await desk.goto(`/comptes-rendus/${fixture.ids.earlier_report}`);
  await desk.getByTestId("report-patient").waitFor();
  assert.equal(await desk.getByRole("button", { name: "DMP du patient" }).count(), 0);
  await desk.context().close();
  assert.deepEqual(held.page.problems, []);
});
