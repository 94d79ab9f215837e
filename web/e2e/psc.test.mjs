// Pro Santé Connect login from the workbench (SGL.PSC.01), against the PSC simulator: the button, the
// professional chosen on the simulator's page, back in the workbench with the account of that RPPS; the
// logout ends the PSC session too.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, screenshot } from "./support.mjs";

const RPPS_ID = "899700200001"; // the simulator's test biologist (idNatPs = 8 + RPPS 99700200001)
let chromium;
before(async () => { chromium = await launch(); });
after(async () => { await chromium?.close(); });

test("SGL.PSC.01 login with Pro Santé Connect opens the workbench as the account of that RPPS, logout ends both", async () => {
  const page = await newPage(chromium.browser);
  await page.goto("/");
  const button = page.getByRole("link", { name: "Se connecter avec Pro Santé Connect" });
  await button.waitFor();
  await screenshot(page, "connexion-psc");
  await button.click();
  const choice = page.locator(`button[name=user][value="${RPPS_ID}"]`);
  await choice.waitFor();
  assert.equal(new URL(page.url()).protocol, "https:", "on the PSC (simulator) page");
  await choice.click();
  await page.getByRole("button", { name: "Se déconnecter" }).waitFor();
  assert.equal(await page.getByTestId("user").textContent(), "Dr Claire VALIDEUR — Biologiste");
  const session = await (await page.request.get("/auth/session")).json();
  assert.equal(session.login, "psc");
  assert.equal(session.username, "claire");
  await page.getByRole("button", { name: "Se déconnecter" }).click();
  await page.getByText("Vous êtes déconnecté d'OpenSGL et de Pro Santé Connect.").waitFor();
  assert.equal((await page.request.get("/auth/session")).status(), 401);
  await page.context().close();
});
