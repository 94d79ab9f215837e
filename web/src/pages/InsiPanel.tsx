// The identity file's INSi panel (RNIV): search the INS by the strict traits ($insi-search), see the
// INSi's answer next to the stored traits and decide to take it (apply: status "récupérée", or "qualifiée" on
// an identity already validated); verify a stored INS ($insi-verify: a KO downgrades and says why); record the
// identity document checked ($validate-identity: a high-trust one raises the status). Offered only to a role
// holding those rows of the permission table; the server checks them again.
import { useState } from "react";
import { Alert, Button, Group, NativeSelect, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { fhir, type FhirResource } from "../api";
import { frenchDate } from "../format";
import {
  STATUS_LABELS, birthFirstNames, birthName, birthplaceCode, identityStatus, ins, sexLabel, type IdentityStatus,
  type Patient,
} from "../identity";
import { insKeyError } from "../ins";
import { can, type Session } from "../session";

/** What a carte Vitale gives the INSi search (SGL.INS.49): the holder's NIR and birth rank; the birth name and
 * date are the file's. Null: the search is by the file's traits. */
interface Card { nir: string; rank: string }

interface Parameter {
  name: string;
  valueString?: string;
  valueCode?: string;
  resource?: FhirResource;
}
interface Parameters {
  parameter?: Parameter[];
}

const value = (p: Parameters, name: string) => {
  const found = p.parameter?.find((x) => x.name === name);
  return found?.valueString ?? found?.valueCode ?? null;
};
const resource = <T,>(p: Parameters, name: string) => p.parameter?.find((x) => x.name === name)?.resource as T | undefined;
const warnings = (p: Parameters) => ((resource<{ issue?: { diagnostics?: string }[] }>(p, "outcome")?.issue) ?? [])
  .map((i) => i.diagnostics ?? "");

const INSI_CODES: Record<string, string> = {
  "00": "Une identité trouvée",
  "01": "Aucune identité trouvée",
  "02": "Plusieurs identités trouvées : précisez les traits",
};
const JUSTIFICATIFS = [
  ["CN", "Carte nationale d'identité"], ["PA", "Passeport"], ["CS", "Titre de séjour"],
  ["CE", "Carte d'identité européenne"], ["IE", "Identification électronique eIDAS"],
  ["AN", "Extrait d'acte de naissance (faible)"], ["LE", "Livret de famille (faible)"],
  ["PC", "Permis de conduire (faible)"],
];

export function InsiPanel({ session, patient, onChanged }: {
  session: Session; patient: Patient; onChanged: (p: Patient) => void;
}) {
  const [found, setFound] = useState<{ code: string; identity?: Patient; warnings: string[] } | null>(null);
  const [card, setCard] = useState<Card | null>(null);
  const [cardError, setCardError] = useState<{ nir?: string; rank?: string }>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [justificatif, setJustificatif] = useState("CN");
  const mayInsi = can(session, "Patient", "$insi-search");
  const mayVerify = can(session, "Patient", "$insi-verify");
  const mayValidate = can(session, "Patient", "$validate-identity");
  if (!mayInsi && !mayVerify && !mayValidate) return null;
  const status = identityStatus(patient);
  const stored = ins(patient);
  const id = encodeURIComponent(patient.id ?? "");

  async function run(what: string, step: () => Promise<void>) {
    setBusy(what);
    setMessage(null);
    try {
      await step();
    } catch (e) {
      setMessage({ ok: false, text: `Refusé : ${(e as Error).message}` });
    } finally {
      setBusy(null);
    }
  }

  function cardParams(): object[] | null {
    if (!card) return [];
    const nir = card.nir.replace(/\s/g, "").toUpperCase();
    const errors = { nir: insKeyError(nir) ?? undefined,
      rank: /^[1-9]$/.test(card.rank.trim()) ? undefined : "Rang de naissance : un chiffre de 1 à 9 (1 sauf naissances multiples)." };
    setCardError(errors);
    if (errors.nir || errors.rank) return null;
    return [{ name: "mode", valueCode: "carte-vitale" }, { name: "nir", valueString: nir },
      { name: "birthRank", valueString: card.rank.trim() }, { name: "birthName", valueString: birthName(patient) ?? "" },
      { name: "birthDate", valueString: patient.birthDate ?? "" }];
  }

  const search = (apply: boolean) => run(apply ? "apply" : "search", async () => {
    const byCard = cardParams();
    if (byCard === null) return; // said next to the field, nothing sent
    const params: object[] = [{ name: "patient", valueReference: { reference: `Patient/${patient.id}` } }, ...byCard];
    if (apply) params.push({ name: "apply", valueBoolean: true });
    const answer = await fhir<Parameters>("Patient/$insi-search", {
      method: "POST", body: { resourceType: "Parameters", parameter: params } });
    const code = value(answer, "code") ?? "";
    const written = resource<Patient>(answer, "patient");
    if (apply && written) {
      setFound(null);
      setCard(null);
      setMessage({ ok: true, text: `Identité INSi reprise : ${STATUS_LABELS[identityStatus(written)]}.` });
      onChanged(written);
    } else {
      setFound({ code, identity: resource<Patient>(answer, "identity"), warnings: warnings(answer) });
    }
  });

  const verify = () => run("verify", async () => {
    const answer = await fhir<Parameters>(`Patient/${id}/$insi-verify`, {
      method: "POST", body: { resourceType: "Parameters", parameter: [] } });
    const reasons = (answer.parameter ?? []).filter((p) => p.name === "reason").map((p) => p.valueString ?? "");
    const after = value(answer, "status") as IdentityStatus | null;
    const ok = value(answer, "result") === "OK";
    setMessage({ ok, text: ok ? "INS vérifié auprès de l'INSi : conforme."
      : `INS non confirmé par l'INSi (${reasons.join(" ; ")}) : ${after ? STATUS_LABELS[after] : ""}, à revoir.` });
    const written = resource<Patient>(answer, "patient");
    if (written) onChanged(written);
  });

  const validate = () => run("validate", async () => {
    const answer = await fhir<Parameters>(`Patient/${id}/$validate-identity`, {
      method: "POST", body: { resourceType: "Parameters", parameter: [{ name: "justificatif", valueCode: justificatif }] } });
    const written = resource<Patient>(answer, "patient");
    const extra = warnings(answer);
    setMessage({ ok: true, text: `Justificatif enregistré : ${written ? STATUS_LABELS[identityStatus(written)] : ""}.`
      + (extra.length ? " Justificatif de faible confiance : le statut ne change pas." : "") });
    if (written) onChanged(written);
  });

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="insi-title">
      <Title order={3} id="insi-title">Téléservice INSi et validation</Title>
      <Group mt="sm" align="flex-end">
        {mayInsi && !card && <Button onClick={() => search(false)} loading={busy === "search"}>Rechercher l'INS (INSi)</Button>}
        {mayInsi && !card && (
          <Button variant="outline" onClick={() => { setFound(null); setCard({ nir: "", rank: "1" }); }}>
            Rechercher par carte Vitale</Button>)}
        {mayVerify && stored && (
          <Button variant="outline" onClick={verify} loading={busy === "verify"}>Vérifier l'INS (INSi)</Button>)}
        {mayValidate && (
          <>
            <NativeSelect label="Justificatif d'identité présenté" value={justificatif}
              onChange={(e) => setJustificatif(e.currentTarget.value)}
              data={JUSTIFICATIFS.map(([code, label]) => ({ value: code, label }))} />
            <Button variant="outline" onClick={validate} loading={busy === "validate"}>Valider l'identité</Button>
          </>
        )}
      </Group>
      {card && (
        <Stack mt="sm" component="form" aria-label="Recherche INSi par carte Vitale" data-testid="insi-card"
          onSubmit={(e) => { e.preventDefault(); search(false); }}>
          <Text size="sm">
            Carte Vitale : le NIR et le rang de naissance du bénéficiaire, lus sur la carte ; le nom et la date de
            naissance envoyés sont ceux du dossier ({birthName(patient) ?? "—"}, {frenchDate(patient.birthDate)}).
          </Text>
          <Group align="flex-start">
            <TextInput label="NIR du bénéficiaire (carte Vitale)" value={card.nir} error={cardError.nir} maxLength={20}
              onChange={(e) => setCard({ ...card, nir: e.currentTarget.value })} autoComplete="off" />
            <TextInput label="Rang de naissance" value={card.rank} error={cardError.rank} w={160} maxLength={2}
              onChange={(e) => setCard({ ...card, rank: e.currentTarget.value })} autoComplete="off" />
          </Group>
          <Group>
            <Button type="submit" loading={busy === "search"}>Interroger l'INSi avec la carte Vitale</Button>
            <Button variant="default" onClick={() => { setCard(null); setCardError({}); setFound(null); }}>
              Revenir à la recherche par traits</Button>
          </Group>
        </Stack>
      )}
      {message && (
        <Alert mt="sm" variant="outline" color={message.ok ? "teal.9" : "red.9"} role="status" data-testid="insi-message">{message.text}</Alert>)}
      {found && (
        <Stack mt="sm" data-testid="insi-result">
          <Text fw={700}>Réponse INSi : {found.code} — {INSI_CODES[found.code] ?? found.code}</Text>
          {found.identity && (
            <>
              <Table aria-label="Comparaison avec l'INSi">
                <Table.Thead>
                  <Table.Tr><Table.Th>Trait</Table.Th><Table.Th>Dossier</Table.Th><Table.Th>INSi</Table.Th></Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {compare(patient, found.identity).map(([label, here, there]) => (
                    <Table.Tr key={label}>
                      <Table.Td>{label}</Table.Td><Table.Td>{here}</Table.Td>
                      <Table.Td fw={here === there ? undefined : 700}>{there}{here === there ? "" : " (différent)"}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              {found.warnings.map((w) => <Alert key={w} color="orange" title="À vérifier">{w}</Alert>)}
              <Text size="sm">
                Reprendre l'identité INSi remplace les traits stricts et enregistre l'INS : statut
                {" "}{status === "VALI" || status === "QUAL" ? "« Identité qualifiée »" : "« Identité récupérée »"}.
              </Text>
              <Group>
                <Button onClick={() => search(true)} loading={busy === "apply"}>Reprendre l'identité INSi</Button>
                <Button variant="default" onClick={() => setFound(null)}>Ne pas reprendre</Button>
              </Group>
            </>
          )}
        </Stack>
      )}
    </Paper>
  );
}

function compare(here: Patient, there: Patient): [string, string, string][] {
  return [
    ["Nom de naissance", birthName(here) ?? "—", birthName(there) ?? "—"],
    ["Prénoms de naissance", birthFirstNames(here).join(" ") || "—", birthFirstNames(there).join(" ") || "—"],
    ["Date de naissance", frenchDate(here.birthDate), frenchDate(there.birthDate)],
    ["Sexe", sexLabel(here.gender), sexLabel(there.gender)],
    ["Lieu de naissance (INSEE)", birthplaceCode(here) ?? "—", birthplaceCode(there) ?? "—"],
    ["Matricule INS", ins(here)?.matricule ?? "—", ins(there) ? `${ins(there)?.matricule} (${ins(there)?.type})` : "—"],
  ];
}
