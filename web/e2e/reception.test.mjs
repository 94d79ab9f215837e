// Reception (issue 15, web1): identity creation and edit with the RNIV traits, bad input refused next to its
// field with nothing sent, INSi search from the identity file against the INSi simulator, the qualification
// decision, the status history; the technician is offered none of it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { assertAccessible, fixture, launch, login, newPage, screenshot } from "./support.mjs";
import { oru, sendMllp } from "./mllp.mjs";

let chromium;
let tubes = []; // the tube numbers of the request made below, used by the later tests
before(async () => { chromium = await launch(); });
after(async () => { await chromium?.close(); });

/** A text field by its accessible name (a required field's label also holds its " *"). */
const input = (page, name) => page.getByRole("textbox", { name, exact: true });

/** The fields of the identity form, by label (exact: "Nom de naissance" is not "Nom utilisé"). */
async function fill(page, fields) {
  for (const [label, value] of Object.entries(fields)) {
    if (label === "Sexe") await page.getByRole("combobox", { name: label, exact: true }).selectOption(value);
    else await input(page, label).fill(value);
  }
}

test("SGL.INS.11 a new identity: bad input said next to its field and nothing sent, then created", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "sophie");
  await page.getByRole("link", { name: "Patients" }).click();
  await page.getByRole("link", { name: "Nouvelle identité" }).click();
  const writes = [];
  page.on("request", (r) => { if (r.method() !== "GET" && r.url().includes("/fhir/Patient")) writes.push(r.url()); });
  await fill(page, { "Nom de naissance": "x".repeat(10_000), "Premier prénom de naissance": "Zoé",
    "Date de naissance": "31/02/1975", "Code du lieu de naissance (INSEE)": "63220" });
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await page.getByText("10000 caractères : 100 au plus.").waitFor();
  await page.getByText("Date impossible : attendue au format JJ/MM/AAAA.").waitFor();
  await page.getByText("Choisissez le sexe.").waitFor();
  // the message is the field's description for assistive technology (aria-describedby), next to it
  const described = await input(page, "Date de naissance").getAttribute("aria-describedby");
  assert.ok(described && (await page.locator(`[id="${described.split(" ").find((d) => d.includes("error"))}"]`)
    .innerText()).includes("Date impossible"), described);
  assert.equal(await input(page, "Nom de naissance").getAttribute("aria-invalid"), "true");
  assert.deepEqual(writes, [], "nothing was sent");
  await assertAccessible(page, "identité : erreurs de saisie");
  await screenshot(page, "identite-erreurs");
  await fill(page, { "Nom de naissance": "Adrun", "Premier prénom de naissance": "Zoé",
    "Date de naissance": "31/12/1975", Sexe: "female", "Code du lieu de naissance (INSEE)": "63220" });
  await screenshot(page, "identite-creation");
  await page.keyboard.press("Enter"); // keyboard-first: Enter in a field saves the form
  await page.getByTestId("identity-status").waitFor();
  assert.equal(writes.length, 1);
  assert.equal(await page.getByTestId("identity-status").textContent(), "Identité provisoire");
  assert.equal(await page.getByTestId("birth-name").innerText(), "ADRUN");
  assert.equal(await page.getByTestId("first-birth-first-name").innerText(), "ZOE"); // INS.01: as INSi holds it
  assert.equal(await page.getByTestId("birth-date").innerText(), "31/12/1975");
  assert.equal(await page.getByTestId("sex").innerText(), "Féminin");
  assert.equal(await page.getByTestId("birthplace").innerText(), "63220");

  // edit: the used name and first name (not strict traits)
  await page.getByRole("link", { name: "Modifier l'identité" }).click();
  assert.equal(await input(page, "Nom de naissance").inputValue(), "ADRUN");
  await fill(page, { "Nom utilisé": "Martin", "Prénom utilisé": "Zoé" });
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await page.getByTestId("used-name").waitFor();
  assert.equal(await page.getByTestId("used-name").innerText(), "MARTIN");
  assert.equal(await page.getByTestId("used-first-name").innerText(), "Zoé");
  assert.equal(writes.length, 2);

  // INSi search by the stored traits: the answer and the comparison, nothing written until the user decides
  await page.getByRole("button", { name: "Rechercher l'INS (INSi)" }).click();
  await page.getByTestId("insi-result").waitFor();
  assert.match(await page.getByTestId("insi-result").innerText(), /Réponse INSi : 00 — Une identité trouvée/);
  const rows = page.getByRole("table", { name: "Comparaison avec l'INSi" }).getByRole("row");
  assert.deepEqual((await rows.nth(6).getByRole("cell").allTextContents()).map((t) => t.trim()),
    ["Matricule INS", "—", "275126322074974 (NIR) (différent)"]);
  assert.equal(await page.getByTestId("identity-status").textContent(), "Identité provisoire");
  await assertAccessible(page, "INSi : réponse");
  await screenshot(page, "identite-insi");
  await page.getByRole("button", { name: "Reprendre l'identité INSi" }).click();
  await page.getByText("Identité INSi reprise : Identité récupérée.").waitFor();
  assert.equal(await page.getByTestId("identity-status").textContent(), "Identité récupérée");
  assert.equal(await page.getByTestId("ins").innerText(), "275126322074974 (NIR)");

  // verify the INS now stored, then the identity card: qualified
  await page.getByRole("button", { name: "Vérifier l'INS (INSi)" }).click();
  await page.getByText("INS vérifié auprès de l'INSi : conforme.").waitFor();
  await page.getByLabel("Justificatif d'identité présenté").selectOption("CN");
  await page.getByRole("button", { name: "Valider l'identité" }).click();
  await page.getByText("Justificatif enregistré : Identité qualifiée.").waitFor();
  assert.equal(await page.getByTestId("identity-status").textContent(), "Identité qualifiée");
  const history = page.getByRole("table", { name: "Historique du statut" }).getByRole("row");
  const changes = (await history.allInnerTexts()).slice(1);
  assert.equal(changes.length, 3, changes.join("\n"));
  assert.match(changes[0], /^\S+ à \S+\s+—\s+Identité provisoire\s+user:sophie/);
  assert.match(changes[1], /Identité provisoire\s+Identité récupérée\s+user:sophie.*SGL\.INS\.13 INSi traits search answered 00/);
  assert.match(changes[2], /Identité récupérée\s+Identité qualifiée\s+user:sophie.*justificatif CN/);
  await assertAccessible(page, "dossier d'identité qualifié");
  await screenshot(page, "identite-qualifiee-insi");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("a technician is offered neither identity creation nor edit nor INSi", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "thomas");
  await page.getByRole("link", { name: "Patients" }).click();
  await page.getByRole("button", { name: "Rechercher" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Nouvelle identité" }).count(), 0);
  await page.getByLabel("Nom", { exact: true }).fill("ADRUN");
  await page.getByRole("button", { name: "Rechercher" }).click();
  await page.getByRole("link", { name: "ADRUN" }).first().click();
  await page.getByTestId("identity-status").waitFor();
  for (const name of ["Modifier l'identité", "Nouvelle demande"]) {
    assert.equal(await page.getByRole("link", { name }).count(), 0, name);
  }
  assert.equal(await page.getByRole("button", { name: "Rechercher l'INS (INSi)" }).count(), 0);
  await page.goto("/identite/nouvelle");
  await page.getByText("Écran non disponible").waitFor();
  assert.equal(await page.getByRole("button", { name: "Enregistrer" }).count(), 0);
  await page.context().close();
});

test("a request from the catalogue, its tube labels (PDF), reception scan first, a tube refused with its reason", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "sophie");
  await page.getByRole("link", { name: "Patients" }).click();
  await page.getByLabel("Nom", { exact: true }).fill("ADRUN");
  await page.getByRole("button", { name: "Rechercher" }).click();
  await page.getByRole("link", { name: "ADRUN" }).first().click();
  await page.getByRole("link", { name: "Nouvelle demande" }).click();
  const orders = [];
  page.on("request", (r) => { if (r.url().includes("$order")) orders.push(r.postDataJSON()); });
  const exam = page.getByRole("textbox", { name: "Ajouter un examen" });
  await exam.waitFor();
  assert.ok(await exam.evaluate((e) => e === document.activeElement), "the cursor starts in the exam field");
  await page.keyboard.type("gly");
  await page.getByRole("list", { name: "Examens proposés" }).getByRole("button", { name: "Glycémie" }).waitFor();
  await page.keyboard.press("Enter"); // adds the first proposal
  await page.keyboard.type("NFS");
  await page.getByRole("list", { name: "Examens proposés" }).getByRole("button").first().waitFor();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter"); // a stray Enter (empty field) sends nothing
  const chosen = page.getByRole("list", { name: "Examens demandés" }).getByRole("listitem");
  assert.deepEqual(await chosen.allInnerTexts(), ["GLYCÉMIE", "NUMÉRATION FORMULE SANGUINE"]);
  await page.getByRole("button", { name: "Enregistrer la demande" }).click();
  await page.getByText("Choisissez le prescripteur.").waitFor();
  assert.deepEqual(orders, [], "nothing sent before the form is complete");
  // the prescriber, searched as one types: two homonyms, told apart by their place; picked with the keyboard
  await page.getByRole("combobox", { name: "Prescripteur" }).click();
  await page.keyboard.type("presc pau");
  const options = page.getByRole("listbox", { name: "Prescripteurs trouvés" }).getByRole("option");
  await options.nth(1).waitFor();
  const proposed = await options.allInnerTexts();
  assert.equal(proposed.length, 2, `two homonyms proposed: ${JSON.stringify(proposed)}`);
  assert.ok(proposed.every((o) => o.startsWith(fixture.ids.prescriber)), JSON.stringify(proposed));
  const elsewhere = proposed.findIndex((o) => o.includes("Lyon"));
  assert.ok(elsewhere >= 0 && proposed[elsewhere].includes("Médecine générale"), JSON.stringify(proposed));
  for (let i = 0; i < 1 - elsewhere; i += 1) await page.keyboard.press("ArrowDown"); // to the one not in Lyon
  await page.keyboard.press("Enter");
  await page.getByText(`Choisi : ${fixture.ids.prescriber}`).waitFor();
  assert.equal(await options.count(), 0, "the list closes once a prescriber is chosen");
  await assertAccessible(page, "nouvelle demande");
  await screenshot(page, "demande-nouvelle");
  await page.getByRole("button", { name: "Enregistrer la demande" }).click();
  const tubeTable = page.getByRole("table", { name: "Tubes de la demande" });
  await tubeTable.waitFor();
  assert.equal(orders.length, 1);
  assert.deepEqual(orders[0].parameter.find((p) => p.name === "requester").valueReference,
    { reference: fixture.ids.prescriberRole }, "the chosen homonym's role is what the form sends");
  assert.deepEqual(orders[0].parameter.filter((p) => p.name === "exam").map((p) => p.valueCoding.code), ["GLY", "NFS"]);
  const accessions = await page.getByTestId("accession").allInnerTexts();
  assert.equal(accessions.length, 2, "serum and whole-blood tubes");
  for (const a of accessions) assert.match(a, /^\d{10}$/);

  const label = page.waitForResponse((r) => r.url().includes("/$label"));
  await page.getByRole("button", { name: `Étiquette du tube ${accessions[0]} (PDF)` }).click();
  const pdf = await label;
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()["content-type"], "application/pdf");
  const frame = page.getByTitle(`Étiquette du tube ${accessions[0]}`);
  const head = await page.evaluate(async (src) => (await (await fetch(src)).text()).slice(0, 5),
    await frame.getAttribute("src"));
  assert.equal(head, "%PDF-");
  await screenshot(page, "demande-etiquettes");

  // reception: the cursor waits in the scan bar; a scan = the digits and a trailing Enter
  await page.getByRole("link", { name: "Réception des tubes" }).first().click();
  const bar = page.getByRole("textbox", { name: "Scanner ou saisir le numéro du tube" });
  await bar.waitFor();
  assert.ok(await bar.evaluate((e) => e === document.activeElement), "scan first: the bar has the focus");
  const feedback = page.getByTestId("scan-feedback");
  const scan = async (text) => {
    const before = await feedback.innerText();
    await page.keyboard.type(`${text}\n`);
    await page.waitForFunction((old) => document.querySelector("[data-testid=scan-feedback]").innerText !== old, before);
    return { tone: await feedback.locator("[data-tone]").getAttribute("data-tone"), text: await feedback.innerText() };
  };
  let seen = await scan(accessions[0]);
  assert.equal(seen.tone, "ok", seen.text);
  assert.match(seen.text, new RegExp(`Reçu\\s+Tube ${accessions[0]} \\(ADRUN ZOE\\) reçu le`));
  assert.equal(await bar.inputValue(), "", "ready for the next tube");
  seen = await scan(accessions[0]);
  assert.equal(seen.tone, "known");
  assert.match(seen.text, /déjà reçu le/);
  seen = await scan("9999999999");
  assert.equal(seen.tone, "bad");
  assert.match(seen.text, /Tube 9999999999 inconnu/);
  seen = await scan(accessions[1]);
  assert.equal(seen.tone, "ok");
  await assertAccessible(page, "réception des tubes");
  await screenshot(page, "reception-tubes");

  // refusal of the second tube: Enter in its fields records nothing, the button does
  const writes = [];
  page.on("request", (r) => { if (r.method() === "PUT" && r.url().includes("/fhir/Specimen/")) writes.push(r.url()); });
  await page.getByRole("button", { name: `Déclarer le tube ${accessions[1]} non conforme` }).click();
  await page.getByRole("combobox", { name: "Motif" }).selectOption({ label: "Échantillon hémolysé" });
  await page.getByRole("textbox", { name: "Commentaire" }).fill("sérum rosé");
  await page.getByRole("textbox", { name: "Commentaire" }).press("Enter");
  assert.equal(await page.getByRole("textbox", { name: "Commentaire" }).inputValue(), "sérum rosé", "not reset");
  await screenshot(page, "reception-non-conformite");
  await page.getByRole("button", { name: "Enregistrer la non-conformité" }).click();
  await page.getByText(`Tube ${accessions[1]} (ADRUN ZOE) déclaré non conforme : Échantillon hémolysé. Avis`).waitFor();
  assert.equal(writes.length, 1, "the Enter earlier sent nothing: only the button's write");
  // the notice to the prescriber, mailed over MSSanté by the outbox: its state where the refused tube is shown
  const refusedRow = page.getByRole("table", { name: "Tubes lus" }).getByRole("row").filter({ hasText: accessions[1] });
  await refusedRow.getByText("Avis envoyé (MSSanté)").waitFor();
  assert.match(await refusedRow.innerText(), /Dr Paul PRESCRIPTEUR \(dr\.prescripteur@cabinet-reception\.mssante\.fr\) le \d\d\/\d\d\/\d{4}/);
  await screenshot(page, "reception-avis-prescripteur");
  await bar.focus();
  seen = await scan(accessions[1]);
  assert.equal(seen.tone, "bad");
  assert.match(seen.text, /refusé : Échantillon hémolysé/);
  assert.deepEqual(page.problems, []);
  await page.context().close();
  tubes = accessions;
  console.log(`TUBES ${JSON.stringify(accessions)}`);
});

test("results sent over MLLP appear on the unmatched worklist without a reload; one attached to a tube and its request, one rejected", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "thomas");
  let loads = 0;
  page.on("load", () => { loads += 1; });
  await page.goto("/non-rattaches");
  const count = page.getByTestId("unmatched-count");
  await count.waitFor();
  const before = Number((await count.textContent()).split(" ")[0]);
  const lost = `X${Date.now()}`.slice(0, 12);
  const junk = `Y${Date.now()}`.slice(0, 12);
  for (const [tube, code, value, unit] of [[lost, "GLU", "1.02", "g/L"], [junk, "K", "4.1", "mmol/L"]]) {
    const ack = await sendMllp(Number(fixture.ids.mllp), oru(tube, code, value, unit));
    assert.match(ack, /\rMSA\|AA\|/, ack); // stored (on the worklist), then acknowledged
  }
  // no reload: the server's event stream says the worklist changed, the page reads it again (its own polling
  // is every 30 s, longer than this wait), and the menu's badge follows the pushed count
  await page.getByTestId(`unmatched-${lost}`).waitFor();
  await page.getByTestId(`unmatched-${junk}`).waitFor();
  assert.equal(await count.textContent(), `${before + 2} à traiter`);
  await page.waitForFunction((n) => document.querySelector("[data-testid=nav-unmatched]")?.textContent === n,
    String(before + 2));
  assert.equal(loads, 1, "the page was not reloaded");
  const row = page.getByTestId(`unmatched-${lost}`);
  assert.deepEqual((await row.getByRole("cell").allInnerTexts()).slice(1, 6),
    ["BIO1", lost, "Glucose", "1,02 g/L", "Tube inconnu"]);
  await assertAccessible(page, "résultats non rattachés");
  await screenshot(page, "resultats-non-rattaches");

  await page.getByRole("button", { name: `Rattacher le résultat du tube ${lost}` }).click();
  const tube = page.getByRole("textbox", { name: "N° du tube" });
  await tube.fill(tubes[0]);
  await tube.press("Enter"); // looks the tube up, writes nothing
  await page.getByRole("combobox", { name: "Demande (ADRUN ZOE)" }).waitFor();
  await page.getByRole("combobox", { name: "Demande (ADRUN ZOE)" }).selectOption({ label: "Glycémie" });
  await page.getByRole("button", { name: "Rattacher", exact: true }).click();
  await page.getByText(`Résultat rattaché au tube ${tubes[0]} (ADRUN ZOE).`).waitFor();
  await page.getByTestId(`unmatched-${lost}`).waitFor({ state: "detached" });

  await page.getByRole("button", { name: `Rejeter le résultat du tube ${junk}` }).click();
  await page.getByRole("textbox", { name: "Motif du rejet" }).fill("tube de contrôle qualité passé sans étiquette");
  await page.getByRole("textbox", { name: "Motif du rejet" }).press("Enter"); // sends nothing
  await page.getByRole("button", { name: "Rejeter le résultat", exact: true }).click();
  await page.getByText("Résultat rejeté : tube de contrôle qualité passé sans étiquette.").waitFor();
  await page.getByTestId(`unmatched-${junk}`).waitFor({ state: "detached" });
  assert.equal(await count.textContent(), `${before} à traiter`);
  assert.deepEqual(page.problems, []);
  await page.context().close();
  console.log(`UNMATCHED ${JSON.stringify([lost, junk])}`);
});

test("SGL.INS.49 INSi search by carte Vitale: a wrong NIR key said next to its field, nothing sent; then 00 and taken", async () => {
  const page = await newPage(chromium.browser);
  await login(page, "sophie");
  await page.getByRole("link", { name: "Patients" }).click();
  await page.getByRole("link", { name: "Nouvelle identité" }).click();
  await fill(page, { "Nom de naissance": "Adrtrois", "Premier prénom de naissance": "Dominique",
    "Date de naissance": "26/02/1997", Sexe: "female", "Code du lieu de naissance (INSEE)": "2A020" });
  await page.getByRole("button", { name: "Enregistrer" }).click();
  await page.getByTestId("identity-status").waitFor();
  const calls = [];
  page.on("request", (r) => { if (r.url().includes("$insi-search")) calls.push(r.postDataJSON()); });
  await page.getByRole("button", { name: "Rechercher par carte Vitale" }).click();
  await input(page, "NIR du bénéficiaire (carte Vitale)").fill("297022A02077879");
  await page.getByRole("button", { name: "Interroger l'INSi avec la carte Vitale" }).click();
  await page.getByText("La clé du matricule INS est fausse : vérifiez la saisie.").waitFor();
  assert.deepEqual(calls, [], "nothing was sent");
  await input(page, "NIR du bénéficiaire (carte Vitale)").fill("297022A02077878");
  await page.keyboard.press("Enter");
  await page.getByTestId("insi-result").waitFor();
  assert.match(await page.getByTestId("insi-result").innerText(), /Réponse INSi : 00 — Une identité trouvée/);
  const sent = Object.fromEntries(calls[0].parameter.map((p) => [p.name, p.valueString ?? p.valueCode]));
  assert.equal(sent.mode, "carte-vitale");
  assert.equal(sent.nir, "297022A02077878");
  assert.equal(sent.birthRank, "1");
  await assertAccessible(page, "INSi : carte Vitale");
  await screenshot(page, "identite-insi-carte-vitale");
  await page.getByRole("button", { name: "Reprendre l'identité INSi" }).click();
  await page.getByText("Identité INSi reprise : Identité récupérée.").waitFor();
  assert.equal(await page.getByTestId("ins").innerText(), "297022A02077878 (NIR)");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
