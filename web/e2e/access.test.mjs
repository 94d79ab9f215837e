// Login, logout, session end, and what each role is offered (the server refuses the rest anyway).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, fixture, launch, login, newPage, screenshot } from "./support.mjs";

let chromium;
before(async () => { chromium = await launch(); });
after(async () => { await chromium?.close(); });

const nav = (page) => page.getByRole("navigation", { name: "Écrans" });

test("a wrong password is refused with a French message and no session", async () => {
  const page = await newPage(chromium.browser);
  await page.goto("/");
  await assertAccessible(page, "connexion");
  await screenshot(page, "connexion");
  await page.getByLabel("Identifiant").fill("sophie");
  await page.getByLabel("Mot de passe").fill("pas-le-bon");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("alert").filter({ hasText: "Identifiant ou mot de passe incorrect." }).waitFor();
  assert.equal(await page.getByRole("link", { name: /Pro Santé Connect/ }).count(), 0, "PSC is not configured here");
  const cookies = await page.context().cookies();
  assert.ok(!cookies.some((c) => c.name === "sgl_session"), "no session cookie after a refused login");
  await page.context().close();
});

test("each role is offered only its screens; a screen typed in the address bar is not shown", async () => {
  const expected = {
    sophie: ["Patients", "Réception des tubes", "Comptes rendus et diffusion", "Catalogue et LOINC"],
    thomas: ["Patients", "Réception des tubes", "Résultats non rattachés", "Validation technique", "Catalogue et LOINC"],
    claire: ["Patients", "Réception des tubes", "Résultats non rattachés", "Validation technique",
      "Validation biologique", "Résultats autovalidés", "Comptes rendus et diffusion", "Catalogue et LOINC"],
  };
  for (const [user, screens] of Object.entries(expected)) {
    const page = await newPage(chromium.browser);
    await login(page, user);
    const links = (await nav(page).getByRole("link").allInnerTexts()).map((t) => t.replace(/\s*\d+$/, "").trim());
    assert.deepEqual(links, screens, `${user} (${fixture.users[user]})`);
    if (!screens.includes("Validation biologique")) {
      await page.goto(`/validation/${fixture.ids.pending_report}`);
      await page.getByText("Écran non disponible").waitFor();
      assert.equal(await page.getByRole("button", { name: "Valider biologiquement" }).count(), 0);
      await page.goto("/autovalides");
      await page.getByText("Écran non disponible").waitFor();
    }
    assert.deepEqual(page.problems, []);
    await page.context().close();
  }
});

test("logout ends the session on the server: a reload shows the login form", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "claire");
  await page.getByRole("button", { name: "Se déconnecter" }).click();
  await page.getByRole("button", { name: "Se connecter" }).waitFor();
  await page.reload();
  await page.getByRole("button", { name: "Se connecter" }).waitFor();
  const answer = await page.request.get("/auth/session");
  assert.equal(answer.status(), 401);
  await page.context().close();
});

test("an ended session brings the login form back with a message, then the user logs in again", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "claire");
  // the session cookie is gone (expired, as the browser drops it after its 8 h), the page is still open
  const kept = (await page.context().cookies()).filter((c) => c.name !== "sgl_session");
  await page.context().clearCookies();
  await page.context().addCookies(kept);
  await nav(page).getByRole("link", { name: /Validation biologique/ }).click();
  await page.getByRole("alert").filter({ hasText: "Votre session a expiré" }).waitFor();
  await login(page, "claire", { from: null });
  await page.getByRole("heading", { name: "Validation biologique" }).waitFor();  // back where the user was
  assert.equal(new URL(page.url()).pathname, "/validation");
  await page.context().close();
});
