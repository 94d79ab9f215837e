// Administration (issue 15 item 9): offered to the administrator only; accounts created, given a role, their
// password reset and disabled from the page; the server's refusals (weak password, last administrator) shown
// where they apply; the partners listed. tests/server/web/test_admin_screen.py checks the database afterwards.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, launch, login, newPage, screenshot } from "./support.mjs";

let chromium;
before(async () => { chromium = await launch(); });
after(async () => { await chromium?.close(); });

const nav = (page) => page.getByRole("navigation", { name: "Écrans" });

test("a secretary is not offered the administration, and the address typed in shows nothing of it", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "sophie");
  assert.equal(await nav(page).getByRole("link", { name: "Administration" }).count(), 0);
  await page.goto("/administration");
  await page.getByText("Écran non disponible").waitFor();
  assert.equal(await page.getByRole("table", { name: "Comptes utilisateurs" }).count(), 0);
  await page.context().close();
});

test("the administrator creates an account, changes its role, resets its password and disables it", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "root");
  await nav(page).getByRole("link", { name: "Administration" }).click();
  await page.getByRole("heading", { name: "Administration", level: 2 }).waitFor();
  const partner = page.getByTestId("partenaire-DPI-CHU");
  await partner.getByText("DPI (dossier patient)").waitFor();
  assert.match(await partner.innerText(), /127\.0\.0\.0\/8/);
  await page.getByTestId("compte-sophie").getByText("Actif").waitFor();
  await assertAccessible(page, "administration");

  const form = page.getByRole("form", { name: "Nouveau compte" });
  await form.getByLabel("Identifiant").fill("l.martin");
  await form.getByLabel("Nom complet").fill("Louis MARTIN");
  await form.getByLabel("Rôle").selectOption("technicien");
  await form.getByLabel(/^Mot de passe/).fill("court");
  await form.getByRole("button", { name: "Créer le compte" }).click();
  await form.getByText("at least 12 characters").waitFor();  // next to the password field, nothing created
  assert.equal(await page.getByTestId("compte-l.martin").count(), 0);
  await form.getByLabel(/^Mot de passe/).fill("Paillasse-du-matin-2026");
  await form.getByRole("button", { name: "Créer le compte" }).click();
  await page.getByRole("status").filter({ hasText: "Compte l.martin créé." }).waitFor();
  const row = page.getByTestId("compte-l.martin");
  assert.equal(await row.getByLabel("Rôle de l.martin").inputValue(), "technicien");
  assert.equal(await form.getByLabel(/^Mot de passe/).inputValue(), "", "the password is cleared from the page");

  await row.getByLabel("Rôle de l.martin").selectOption("biologiste");
  await page.getByRole("status").filter({ hasText: "Rôle de l.martin : Biologiste." }).waitFor();
  await row.getByRole("button", { name: "Réinitialiser le mot de passe" }).click();
  await row.getByLabel("Nouveau mot de passe de l.martin").fill("Nouvelle-cle-de-paillasse");
  await row.getByRole("button", { name: "Enregistrer" }).click();
  await page.getByRole("status").filter({ hasText: "Mot de passe de l.martin réinitialisé." }).waitFor();
  await row.getByRole("button", { name: "Désactiver" }).click();
  await row.getByText("Désactivé").waitFor();
  await screenshot(page, "administration");

  await page.getByTestId("compte-root").getByRole("button", { name: "Désactiver" }).click();
  await page.getByRole("alert").filter({ hasText: "at least one active administrator" }).waitFor();
  await page.getByTestId("compte-root").getByText("Actif").waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("the administrator registers an analyzer (a wrong address said next to its field) and removes the EHR", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "root", { from: "/administration" });
  const form = page.getByRole("form", { name: "Nouveau partenaire" });
  await form.getByLabel("Nom du partenaire").fill("COBAS-1");
  await form.getByLabel("Rôle du partenaire").selectOption("automate");
  await form.getByLabel("Application HL7 (MSH-3)").fill("COBAS");
  await form.getByLabel("Adresses autorisées (IP ou CIDR)").fill("10.0.5.0/24 300.1.1.1");
  await form.getByRole("button", { name: "Enregistrer le partenaire" }).click();
  await form.getByText("'300.1.1.1' is not an IP address or CIDR network").waitFor();
  assert.equal(await page.getByTestId("partenaire-COBAS-1").count(), 0, "nothing registered");
  await form.getByLabel("Adresses autorisées (IP ou CIDR)").fill("10.0.5.0/24, 127.0.0.1");
  await form.getByRole("button", { name: "Enregistrer le partenaire" }).click();
  await page.getByRole("status").filter({ hasText: "Partenaire COBAS-1 enregistré." }).waitFor();
  assert.match(await page.getByTestId("partenaire-COBAS-1").innerText(), /Automate[\s\S]*COBAS[\s\S]*10\.0\.5\.0\/24, 127\.0\.0\.1/);
  await page.getByTestId("partenaire-DPI-CHU").getByRole("button", { name: "Retirer" }).click();
  await page.getByRole("status").filter({ hasText: "Partenaire DPI-CHU retiré" }).waitFor();
  await page.getByTestId("partenaire-DPI-CHU").waitFor({ state: "detached" });  // the list read again
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a partner's identifier types and options are edited on the version read; a stale page is refused", async () => {
  const first = await newPage(chromium.browser);
  await login(first, "root", { from: "/administration" });
  const second = await newPage(chromium.browser);
  await login(second, "root", { from: "/administration" });
  const open = async (page) => {
    await page.getByTestId("partenaire-COBAS-1").getByRole("button", { name: "Modifier les correspondances de COBAS-1" }).click();
    return page.getByRole("form", { name: "Correspondances de COBAS-1" });
  };
  const stale = await open(first);
  const other = await open(second);
  await other.getByLabel("Types d'identifiant (reçu=lu comme)").fill("MR=XX");
  await other.getByRole("button", { name: "Enregistrer" }).click();
  await other.getByText("the target must be one of").waitFor();  // next to its field, nothing written
  await other.getByLabel("Types d'identifiant (reçu=lu comme)").fill("MR=PI");
  await other.getByLabel("Options (clé=valeur)").fill("test_code=premier");
  await other.getByRole("button", { name: "Enregistrer" }).click();
  await other.getByText("test_code='premier'").waitFor();
  await other.getByLabel("Options (clé=valeur)").fill("test_code=alternate");
  await other.getByRole("button", { name: "Enregistrer" }).click();
  await second.getByRole("status").filter({ hasText: "Correspondances de COBAS-1 enregistrées." }).waitFor();
  await second.getByTestId("partenaire-COBAS-1").getByText("Types : MR=PI · Options : test_code=alternate").waitFor();
  await assertAccessible(second, "correspondances d'un partenaire");
  await screenshot(second, "administration-partenaire");

  await stale.getByLabel("Types d'identifiant (reçu=lu comme)").fill("PN=PI");  // opened before that change
  await stale.getByRole("button", { name: "Enregistrer" }).click();
  await stale.getByRole("alert").filter({ hasText: "modifié depuis l'ouverture de la page" }).waitFor();
  await first.reload();
  const fresh = await open(first);
  assert.equal(await fresh.getByLabel("Types d'identifiant (reçu=lu comme)").inputValue(), "MR=PI");
  await fresh.getByLabel("Types d'identifiant (reçu=lu comme)").fill("MR=PI, NH=NIIP");
  await fresh.getByRole("button", { name: "Enregistrer" }).click();
  await first.getByTestId("partenaire-COBAS-1").getByText("Types : MR=PI, NH=NIIP · Options : test_code=alternate").waitFor();
  assert.deepEqual(first.problems, []);
  assert.deepEqual(second.problems, []);
  await first.context().close();
  await second.context().close();
});

test("the administrator edits the lab profile: a wrong Cofrac number said next to its field, then saved", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "root", { from: "/administration" });
  const form = page.getByRole("form", { name: "Profil du laboratoire" });
  await form.getByText("Valeurs du fichier de configuration").waitFor();
  const rgpd = form.getByLabel(/^Information des patients \(RGPD\)/);
  assert.match(await rgpd.inputValue(), /\S/, "the environment's RGPD text is shown before any save");
  await rgpd.fill("Données traitées par le laboratoire ; DPO : dpo@labo-web.fr.");
  await form.getByLabel(/^N° d'accréditation Cofrac/).fill("COFRAC-X");
  await form.getByRole("button", { name: "Enregistrer le profil" }).click();
  await form.getByText("a Cofrac accreditation number reads like 8-1234").waitFor();
  await form.getByLabel(/^N° d'accréditation Cofrac/).fill("8-4321");
  await form.getByRole("button", { name: "Enregistrer le profil" }).click();
  await form.getByRole("status").filter({ hasText: "Profil enregistré" }).waitFor();
  await form.getByText(/Enregistré le .* par/).waitFor();
  // SGL.DOC.02: the general setting, one version by default, two chosen and saved, then one again
  const versions = form.getByLabel(/^Versions du compte rendu/);
  assert.equal(await versions.inputValue(), "single");
  for (const choice of ["patient-professional", "single"]) {
    await versions.selectOption(choice);
    await form.getByRole("button", { name: "Enregistrer le profil" }).click();
    await form.getByRole("status").filter({ hasText: "Profil enregistré" }).waitFor();
    const saved = await page.evaluate(async () => {
      const answer = await fetch("/fhir/Organization/$lab-profile", { headers: { Accept: "application/fhir+json" } });
      return (await answer.json()).parameter.find((p) => p.name === "versions").valueCode;
    });
    assert.equal(saved, choice);
  }
  await assertAccessible(page, "profil du laboratoire");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
