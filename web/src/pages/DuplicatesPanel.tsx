// The identity file's duplicates and merges (RNIV): the probable duplicates of this identity — same date of
// birth (the server's anteriority search, Patient/$duplicates), same birth name born another day (a mistyped
// date), same INS — and their merge (Patient/$merge) after a confirmation showing both identities side by side.
// The identity kept is the one with the highest status: the screen proposes that direction and the server
// refuses the other. A merged identity says so and leads to the one that replaced it; the identity kept lists
// the ones merged into it, whose requests and results stay attached to them and are reached from here.
import { useState } from "react";
import { Alert, Anchor, Button, Checkbox, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { fhir, matches, type Bundle } from "../api";
import { frenchDate } from "../format";
import {
  STATUS_LABELS, STATUS_RANK, birthFirstNames, birthName, firstBirthFirstName, identityStatus, ins, ipps, linked,
  sexLabel, shortName, type Patient,
} from "../identity";
import { linkProps, navigate } from "../router";
import { can, type Session } from "../session";

interface Candidate { patient: Patient; reasons: string[] }

/** The probable duplicates of `patient`, each with why it was found; itself and merged identities left out. */
async function probableDuplicates(patient: Patient): Promise<Candidate[]> {
  const found = new Map<string, Candidate>();
  const add = (list: Patient[], reason: string) => {
    for (const p of list) {
      if (!p.id || p.id === patient.id || p.active === false || linked(p, "replaced-by").length) continue;
      const seen = found.get(p.id) ?? { patient: p, reasons: [] };
      if (!seen.reasons.includes(reason)) seen.reasons.push(reason);
      found.set(p.id, seen);
    }
  };
  const family = birthName(patient);
  const theIns = ins(patient);
  const searches: [string, string][] = [];
  if (patient.birthDate) {
    const query = new URLSearchParams({ birthdate: patient.birthDate, ...(family ? { name: family } : {}) });
    searches.push([`Patient/$duplicates?${query}`, "même date de naissance et même nom"]);
  }
  if (family) searches.push([`Patient?family=${encodeURIComponent(family)}&_count=50`, "même nom de naissance"]);
  if (theIns) searches.push([`Patient/$duplicates?identifier=${encodeURIComponent(theIns.matricule)}`, "même INS"]);
  for (const [path, reason] of searches) add(matches(await fhir<Bundle<Patient>>(path)), reason);
  return [...found.values()];
}

function IdentityCard({ title, patient }: { title: string; patient: Patient }) {
  const theIns = ins(patient);
  return (
    <Paper withBorder p="sm" aria-label={title}>
      <Text fw={700}>{title}</Text>
      <Text>Nom de naissance : {birthName(patient) ?? "Non renseigné"}</Text>
      <Text>Prénoms de naissance : {birthFirstNames(patient).join(" ") || "Non renseigné"}</Text>
      <Text>Date de naissance : {frenchDate(patient.birthDate)}</Text>
      <Text>Sexe : {sexLabel(patient.gender)}</Text>
      <Text>Statut : {STATUS_LABELS[identityStatus(patient)]}</Text>
      <Text>INS : {theIns ? `${theIns.matricule} (${theIns.type})` : "—"}</Text>
      <Text>IPP : {ipps(patient).join(", ") || "—"}</Text>
    </Paper>
  );
}

export function DuplicatesPanel({ session, patient, onChanged }: {
  session: Session; patient: Patient; onChanged: (p: Patient) => void;
}) {
  const [candidates, setCandidates] = useState<Candidate[] | null>(null);
  const [chosen, setChosen] = useState<{ kept: Patient; merged: Patient } | null>(null);
  const [checked, setChecked] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const mayMerge = can(session, "Patient", "$merge");
  const survivor = linked(patient, "replaced-by")[0];
  const merged = linked(patient, "replaces");
  const maySearch = can(session, "Patient", "$duplicates");
  if (!maySearch && !survivor && merged.length === 0) return null;

  async function look() {
    setBusy(true);
    setMessage(null);
    try {
      setCandidates(await probableDuplicates(patient));
    } catch (e) {
      setMessage({ ok: false, text: `Recherche impossible : ${(e as Error).message}` });
    } finally {
      setBusy(false);
    }
  }

  function propose(other: Patient) {
    // the identity with the highest status stays; on a tie, the one whose file is open
    const keepOther = STATUS_RANK[identityStatus(other)] > STATUS_RANK[identityStatus(patient)];
    setChecked(false);
    setChosen(keepOther ? { kept: other, merged: patient } : { kept: patient, merged: other });
  }

  async function confirm() {
    if (!chosen) return;
    setBusy(true);
    try {
      const answer = await fhir<{ parameter?: { name: string; resource?: Patient }[] }>("Patient/$merge", {
        method: "POST", body: { resourceType: "Parameters", parameter: [
          { name: "source-patient", valueReference: { reference: `Patient/${chosen.merged.id}` } },
          { name: "target-patient", valueReference: { reference: `Patient/${chosen.kept.id}` } }] } });
      const kept = answer.parameter?.find((p) => p.name === "result")?.resource;
      const text = `Fusion faite : ${shortName(chosen.merged)} est fusionnée dans ${shortName(chosen.kept)}.`;
      setChosen(null);
      setCandidates(null);
      setMessage({ ok: true, text });
      if (chosen.kept.id === patient.id && kept) onChanged(kept);
      else navigate(`/patients/${chosen.kept.id}`);
    } catch (e) {
      setMessage({ ok: false, text: `Fusion refusée : ${(e as Error).message}` });
    } finally {
      setBusy(false);
    }
  }

  const tie = chosen && STATUS_RANK[identityStatus(chosen.kept)] === STATUS_RANK[identityStatus(chosen.merged)];
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="duplicates-title">
      <Title order={3} id="duplicates-title">Doublons et fusions</Title>
      {survivor && (
        <Alert mt="sm" color="orange.9" variant="outline" role="status" data-testid="merged-into" title="Identité fusionnée">
          Cette identité est inactive : elle a été fusionnée dans{" "}
          <Anchor {...linkProps(`/patients/${survivor}`)}>l'identité conservée</Anchor>. Ses demandes et résultats
          restent rattachés à elle et sont accessibles depuis l'identité conservée.
        </Alert>
      )}
      {merged.length > 0 && (
        <Text mt="sm" data-testid="merged-here">
          Identités fusionnées dans celle-ci (leurs demandes et résultats y restent rattachés) :{" "}
          {merged.map((id, i) => (
            <span key={id}>{i > 0 && ", "}<Anchor {...linkProps(`/patients/${id}`)}>{`identité ${id}`}</Anchor></span>
          ))}
        </Text>
      )}
      {!survivor && maySearch && (
        <Group mt="sm">
          <Button variant="outline" onClick={look} loading={busy && !chosen}>Rechercher les doublons probables</Button>
        </Group>
      )}
      {message && (
        <Alert mt="sm" variant="outline" color={message.ok ? "teal.9" : "red.9"} role="status"
          data-testid="merge-message">{message.text}</Alert>
      )}
      {candidates && candidates.length === 0 && <Text mt="sm">Aucun doublon probable trouvé.</Text>}
      {candidates && candidates.length > 0 && (
        <Table mt="sm" aria-label="Doublons probables">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Nom de naissance</Table.Th><Table.Th>Premier prénom de naissance</Table.Th>
              <Table.Th>Date de naissance</Table.Th><Table.Th>Sexe</Table.Th><Table.Th>Statut</Table.Th>
              <Table.Th>Trouvé par</Table.Th><Table.Th>Action</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {candidates.map(({ patient: p, reasons }) => (
              <Table.Tr key={p.id}>
                <Table.Td><Anchor {...linkProps(`/patients/${p.id}`)}>{birthName(p) ?? "—"}</Anchor></Table.Td>
                <Table.Td>{firstBirthFirstName(p) ?? "—"}</Table.Td>
                <Table.Td>{frenchDate(p.birthDate)}</Table.Td>
                <Table.Td>{sexLabel(p.gender)}</Table.Td>
                <Table.Td>{STATUS_LABELS[identityStatus(p)]}</Table.Td>
                <Table.Td>{reasons.join(" ; ")}</Table.Td>
                <Table.Td>
                  {mayMerge ? (
                    <Button size="xs" variant="outline" onClick={() => propose(p)}
                      aria-label={`Fusionner avec ${shortName(p)} né(e) le ${frenchDate(p.birthDate)}`}>Fusionner…</Button>
                  ) : <Text size="xs">Fusion réservée aux biologistes</Text>}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {chosen && (
        <Stack mt="sm" data-testid="merge-confirmation">
          <Title order={4}>Confirmer la fusion</Title>
          <SimpleGrid cols={2}>
            <IdentityCard title="Identité conservée" patient={chosen.kept} />
            <IdentityCard title="Identité fusionnée (rendue inactive)" patient={chosen.merged} />
          </SimpleGrid>
          <Text size="sm">
            L'identité conservée est celle dont le statut est le plus élevé ; elle garde ses traits, son statut et son
            INS. L'autre devient inactive, remplacée par elle ; ses demandes et résultats restent consultables depuis
            l'identité conservée. Les partenaires qui ont reçu des données de l'une ou l'autre en sont informés.
          </Text>
          {tie ? (
            <Button variant="subtle" size="xs" w="fit-content"
              onClick={() => setChosen({ kept: chosen.merged, merged: chosen.kept })}>Conserver plutôt l'autre identité</Button>
          ) : (
            <Text size="sm">Le sens est imposé : l'identité au statut le plus élevé est conservée.</Text>
          )}
          <Checkbox label="J'ai vérifié qu'il s'agit de la même personne" checked={checked}
            onChange={(e) => setChecked(e.currentTarget.checked)} />
          <Group>
            <Button color="red.9" onClick={confirm} disabled={!checked} loading={busy}>Confirmer la fusion</Button>
            <Button variant="default" onClick={() => setChosen(null)}>Annuler</Button>
          </Group>
        </Stack>
      )}
    </Paper>
  );
}
