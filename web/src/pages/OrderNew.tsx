// A new request for a patient, from the catalogue: exams picked by code or name (type, Enter adds the first
// match: the keyboard never leaves the field), the prescriber, the collection time, the priority and the
// patient's refusals; one POST ServiceRequest/$order writes it all or nothing. The answer lists the tubes
// (one Specimen per specimen type and container, its accession number) with their barcode label as a PDF
// (GET Specimen/{id}/$label, the server's label).
import { useEffect, useMemo, useState, type KeyboardEvent } from "react";
import {
  Alert, Badge, Button, Checkbox, CloseButton, Group, Loader, NativeSelect, Paper, Stack, Table, Text, TextInput, Title,
} from "@mantine/core";
import { call, fhir, matches, type Bundle, type CodeableConcept, type FhirResource, type Reference } from "../api";
import { shortName, type Patient } from "../identity";
import { linkProps } from "../router";
import { PrescriberPicker, type Prescriber } from "./PrescriberPicker";

const CATALOGUE = "https://opensgl.org/fhir/CodeSystem/catalogue";
const ACCESSION = "https://opensgl.org/fhir/sid/accession";

interface Exam { code: string; title: string; topic: string; synonyms: string[] }
interface Specimen extends FhirResource {
  accessionIdentifier?: { system?: string; value?: string };
  type?: CodeableConcept;
  container?: { type?: CodeableConcept }[];
}

function examOf(def: FhirResource): Exam | null {
  const code = ((def.code as CodeableConcept | undefined)?.coding ?? []).find((c) => c.system === CATALOGUE)?.code;
  if (!code) return null;
  const topics = (def.topic as CodeableConcept[] | undefined)?.[0]?.coding ?? [];
  const synonyms = ((def.extension ?? []) as { url: string; valueString?: string }[])
    .filter((e) => e.url.endsWith("/synonym")).map((e) => e.valueString ?? "");
  return { code, title: String(def.title ?? code), topic: topics[0]?.display ?? "", synonyms };
}

/** Now in the browser's local time, as a datetime-local field holds it. */
function localNow(): string {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

const REFUSALS = [
  ["dmp", "Refuse l'envoi au DMP"], ["mssante-patient", "Refuse l'envoi par messagerie au patient"],
  ["mssante-pro", "Refuse l'envoi aux correspondants"],
];

export function OrderNewPage({ patientId }: { patientId: string }) {
  const [patient, setPatient] = useState<Patient | null>(null);
  const [exams, setExams] = useState<Exam[] | null>(null);
  const [filter, setFilter] = useState("");
  const [chosen, setChosen] = useState<Exam[]>([]);
  const [requester, setRequester] = useState<Prescriber | null>(null);
  const [collected, setCollected] = useState(localNow());
  const [priority, setPriority] = useState("routine");
  const [refusals, setRefusals] = useState<string[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<{ requisition: string; tubes: Specimen[]; exams: Map<string, string[]> } | null>(null);
  const [label, setLabel] = useState<{ accession: string; url: string } | null>(null);

  useEffect(() => {
    fhir<Patient>(`Patient/${encodeURIComponent(patientId)}`).then(setPatient, (e: Error) => setFailure(e.message));
    fhir<Bundle>("ActivityDefinition?status=active&_count=500").then(
      (b) => setExams(matches(b).map(examOf).filter((e): e is Exam => e !== null)
        .sort((a, b) => a.title.localeCompare(b.title, "fr"))), (e: Error) => setFailure(e.message));
  }, [patientId]);
  useEffect(() => () => { if (label) URL.revokeObjectURL(label.url); }, [label]);

  const shown = useMemo(() => {
    const words = filter.trim().toLowerCase();
    if (!exams || !words) return [];
    return exams.filter((e) => !chosen.includes(e) && (e.code.toLowerCase().startsWith(words)
      || [e.title, ...e.synonyms].some((t) => t.toLowerCase().includes(words)))).slice(0, 12);
  }, [exams, filter, chosen]);

  if (failure && !patient) return <Alert color="red" role="alert">{failure}</Alert>;
  if (!patient || !exams) return <Loader aria-label="Chargement du catalogue" />;

  const add = (exam: Exam) => {
    setChosen((c) => [...c, exam]);
    setFilter("");
  };
  const onFilterKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== "Enter") return;
    event.preventDefault(); // Enter adds the first match, it never sends the request
    const first = shown[0];
    if (first) add(first);
  };

  async function send() {
    const found: Record<string, string> = {};
    if (!chosen.length) found.exams = "Ajoutez au moins un examen.";
    if (!requester) found.requester = "Choisissez le prescripteur.";
    if (!collected || Number.isNaN(new Date(collected).getTime())) found.collected = "Date et heure du prélèvement.";
    else if (new Date(collected).getTime() > Date.now() + 5 * 60_000) found.collected = "Le prélèvement est dans le futur.";
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const parameter = [
        { name: "patient", valueReference: { reference: `Patient/${patientId}` } },
        { name: "requester", valueReference: { reference: requester?.reference ?? "" } },
        ...chosen.map((e) => ({ name: "exam", valueCoding: { system: CATALOGUE, code: e.code } })),
        { name: "collected", valueDateTime: new Date(collected).toISOString() },
        { name: "priority", valueCode: priority },
        ...refusals.map((r) => ({ name: "refusal", valueCode: r })),
      ];
      const answer = await fhir<Bundle>("ServiceRequest/$order", {
        method: "POST", body: { resourceType: "Parameters", parameter } });
      const written = (answer.entry ?? []).map((e) => e.resource);
      const requests = written.filter((r) => r.resourceType === "ServiceRequest");
      const byTube = new Map<string, string[]>();
      for (const r of requests) {
        for (const s of (r.specimen as Reference[] | undefined) ?? []) {
          byTube.set(s.reference ?? "", [...(byTube.get(s.reference ?? "") ?? []),
            (r.code as CodeableConcept | undefined)?.text ?? ""]);
        }
      }
      const requisition = (requests[0]?.requisition as { value?: string } | undefined)?.value ?? "";
      setDone({ requisition, tubes: written.filter((r) => r.resourceType === "Specimen") as Specimen[], exams: byTube });
    } catch (e) {
      setFailure(`Demande non enregistrée (rien n'a été écrit) : ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  async function showLabel(tube: Specimen) {
    setFailure(null);
    try {
      const answer = await call(`/fhir/Specimen/${encodeURIComponent(tube.id ?? "")}/$label`);
      setLabel({ accession: tube.accessionIdentifier?.value ?? "", url: URL.createObjectURL(await answer.blob()) });
    } catch (e) {
      setFailure(`Étiquette non produite : ${(e as Error).message}`);
    }
  }

  if (done) {
    return (
      <Stack>
        <Title order={2}>Demande {done.requisition} enregistrée</Title>
        <Text>Patient : <strong>{shortName(patient)}</strong>. Imprimez l'étiquette de chaque tube.</Text>
        <Table aria-label="Tubes de la demande">
          <Table.Thead>
            <Table.Tr><Table.Th>N° de tube</Table.Th><Table.Th>Nature</Table.Th><Table.Th>Examens</Table.Th>
              <Table.Th>Étiquette</Table.Th></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {done.tubes.map((t) => {
              const accession = t.accessionIdentifier?.system === ACCESSION ? t.accessionIdentifier.value : "";
              return (
                <Table.Tr key={t.id}>
                  <Table.Td data-testid="accession">{accession}</Table.Td>
                  <Table.Td>{t.type?.text ?? t.type?.coding?.[0]?.display ?? "—"}</Table.Td>
                  <Table.Td>{(done.exams.get(`Specimen/${t.id}`) ?? []).join(", ")}</Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="outline" onClick={() => showLabel(t)}
                      aria-label={`Étiquette du tube ${accession} (PDF)`}>Étiquette (PDF)</Button>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
        {failure && <Alert color="red" role="alert">{failure}</Alert>}
        {label && <iframe title={`Étiquette du tube ${label.accession}`} src={label.url}
          style={{ width: "100%", height: "40vh", border: 0 }} />}
        <Group>
          <Button component="a" variant="default" {...linkProps(`/patients/${patientId}`)}>Retour au dossier</Button>
          <Button component="a" variant="default" {...linkProps("/reception")}>Réception des tubes</Button>
        </Group>
      </Stack>
    );
  }

  return (
    <Stack>
      <Title order={2}>Nouvelle demande</Title>
      <Text>Patient : <strong data-testid="order-patient">{shortName(patient)}</strong></Text>
      <Paper withBorder p="md">
        <TextInput label="Ajouter un examen" description="code ou nom ; Entrée ajoute le premier proposé"
          value={filter} onChange={(e) => setFilter(e.currentTarget.value)} onKeyDown={onFilterKey}
          error={errors.exams} autoComplete="off" autoFocus />
        {shown.length > 0 && (
          <Stack gap={4} mt="xs" role="list" aria-label="Examens proposés">
            {shown.map((e) => (
              <Group key={e.code} role="listitem" gap="xs">
                <Button size="compact-sm" variant="subtle" onClick={() => add(e)}>{e.title}</Button>
                <Text size="sm" c="dimmed">{e.code}{e.topic ? ` · ${e.topic}` : ""}</Text>
              </Group>
            ))}
          </Stack>
        )}
        <Group mt="sm" gap="xs" aria-label="Examens demandés" role="list">
          {chosen.map((e) => (
            <Badge key={e.code} role="listitem" size="lg" variant="outline" color="dark" rightSection={
              <CloseButton size="xs" aria-label={`Retirer ${e.title}`}
                onClick={() => setChosen((c) => c.filter((x) => x !== e))} />}>{e.title}</Badge>
          ))}
        </Group>
      </Paper>
      <Group align="flex-start">
        <PrescriberPicker value={requester} onChange={setRequester} error={errors.requester} />
        <TextInput type="datetime-local" label="Prélevé le" value={collected} error={errors.collected}
          onChange={(e) => setCollected(e.currentTarget.value)} />
        <NativeSelect label="Priorité" value={priority} onChange={(e) => setPriority(e.currentTarget.value)}
          data={[{ value: "routine", label: "Normale" }, { value: "urgent", label: "Urgente" },
            { value: "stat", label: "Vitale (immédiate)" }]} />
      </Group>
      <Checkbox.Group label="Refus exprimés par le patient" value={refusals} onChange={setRefusals}>
        <Group mt="xs">{REFUSALS.map(([code, text]) => <Checkbox key={code} value={code} label={text} />)}</Group>
      </Checkbox.Group>
      <Group>
        <Button onClick={send} loading={busy}>Enregistrer la demande</Button>
        <Button component="a" variant="default" {...linkProps(`/patients/${patientId}`)}>Annuler</Button>
      </Group>
      {failure && <Alert color="red" role="alert">{failure}</Alert>}
    </Stack>
  );
}
