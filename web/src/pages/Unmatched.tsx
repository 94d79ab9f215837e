// Analyzer results the server could not attach (server/analyzers: an unknown or ambiguous tube, a test not
// ordered on it, an unknown test code or unit): the worklist Task?code=unmatched-result&status=requested, with
// what the instrument sent and why. A person attaches a result to a tube (scanned or typed: Enter looks it up
// and never writes) and to one of its requests, or rejects it with a reason. Each decision is one FHIR
// transaction (the Observation and its Task, each on the version shown: If-Match), so both change or neither.
import { useState, type KeyboardEvent } from "react";
import {
  Alert, Badge, Button, Group, Loader, NativeSelect, Paper, Stack, Table, Text, TextInput, Title,
} from "@mantine/core";
import { fhir, included, matches, type Bundle, type CodeableConcept, type FhirResource, type Reference } from "../api";
import { frenchDateTime } from "../format";
import { shortName, type Patient } from "../identity";
import { valueText, type Observation } from "../results";
import { usePolling, worklistChanged } from "./Worklist";

export const UNMATCHED = "Task?code=unmatched-result&status=requested&_include=Task:focus&_count=200";
const REASONS: Record<string, string> = {
  "unknown-analyzer": "Automate inconnu", "unknown-test-code": "Code d'analyse inconnu",
  "unknown-accession": "Tube inconnu", "ambiguous-accession": "Numéro de tube ambigu",
  "not-ordered": "Analyse non demandée sur ce tube", "unit-mismatch": "Unité non reconnue",
  "not-numeric": "Valeur non numérique", "invalid-result": "Résultat illisible",
};

interface Task extends FhirResource {
  status: string;
  focus?: Reference;
  authoredOn?: string;
  statusReason?: CodeableConcept;
  input?: { type?: { text?: string }; valueString?: string }[];
  note?: { text?: string; time?: string; authorString?: string }[];
}
interface Tube { specimen: FhirResource; patient: string; requests: FhirResource[] }

const inputOf = (t: Task, name: string) => t.input?.find((i) => i.type?.text === name)?.valueString ?? "";
const tag = (r: FhirResource) => `W/"${r.meta?.versionId ?? ""}"`;

/** One FHIR transaction: the Observation and its Task updated together, each on the version the user saw. */
async function decide(observation: Observation, task: Task, newObservation: Observation, newTask: Task) {
  await fhir("", { method: "POST", body: { resourceType: "Bundle", type: "transaction", entry: [
    { resource: newObservation, request: { method: "PUT", url: `Observation/${observation.id}`, ifMatch: tag(observation) } },
    { resource: newTask, request: { method: "PUT", url: `Task/${task.id}`, ifMatch: tag(task) } },
  ] } });
  worklistChanged();
}

export function UnmatchedPage({ who }: { who: string }) {
  const [bundle, error] = usePolling(() => fhir<Bundle>(UNMATCHED));
  const [open, setOpen] = useState<{ task: Task; mode: "attach" | "reject" } | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  if (error) return <Alert color="red" role="alert">{error}</Alert>;
  if (!bundle) return <Loader aria-label="Chargement de la liste" />;
  const results = included(bundle);
  const tasks = (matches(bundle) as Task[]).filter((t) => results.has(t.focus?.reference ?? ""))
    .sort((a, b) => (a.authoredOn ?? "").localeCompare(b.authoredOn ?? "")); // oldest first

  const done = (text: string | null, ok = true) => {
    setOpen(null);
    if (text) setMessage({ ok, text });
  };

  return (
    <Stack>
      <Group>
        <Title order={2}>Résultats non rattachés</Title>
        <Badge size="lg" data-testid="unmatched-count">{tasks.length} à traiter</Badge>
      </Group>
      {message && <Alert variant="outline" color={message.ok ? "teal.9" : "red.9"} role="status">{message.text}</Alert>}
      {open && (
        <Decision key={open.task.id} who={who} mode={open.mode} task={open.task}
          observation={results.get(open.task.focus?.reference ?? "") as Observation} onDone={done} />
      )}
      {tasks.length === 0 ? <Text>Aucun résultat d'automate en attente de rattachement.</Text> : (
        <Table striped aria-label="Résultats non rattachés">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Reçu le</Table.Th><Table.Th>Automate</Table.Th><Table.Th>N° de tube envoyé</Table.Th>
              <Table.Th>Analyse</Table.Th><Table.Th>Résultat</Table.Th><Table.Th>Motif</Table.Th><Table.Th>Action</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {tasks.map((t) => {
              const o = results.get(t.focus?.reference ?? "") as Observation;
              const accession = inputOf(t, "accession");
              const reason = t.statusReason?.coding?.[0]?.code ?? "";
              return (
                <Table.Tr key={t.id} data-testid={`unmatched-${accession}`}>
                  <Table.Td>{frenchDateTime(t.authoredOn)}</Table.Td>
                  <Table.Td>{inputOf(t, "analyzer")}</Table.Td>
                  <Table.Td>{accession || "—"}</Table.Td>
                  <Table.Td>{o.code?.coding?.[0]?.display ?? inputOf(t, "test-code")}</Table.Td>
                  <Table.Td>{valueText(o)}</Table.Td>
                  <Table.Td title={t.statusReason?.text}>{REASONS[reason] ?? reason}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Button size="xs" onClick={() => setOpen({ task: t, mode: "attach" })}
                        aria-label={`Rattacher le résultat du tube ${accession}`}>Rattacher…</Button>
                      <Button size="xs" variant="outline" color="red.9" onClick={() => setOpen({ task: t, mode: "reject" })}
                        aria-label={`Rejeter le résultat du tube ${accession}`}>Rejeter…</Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

function Decision({ who, mode, task, observation, onDone }: {
  who: string; mode: "attach" | "reject"; task: Task; observation: Observation;
  onDone: (text: string | null, ok?: boolean) => void;
}) {
  const [accession, setAccession] = useState(inputOf(task, "accession"));
  const [tube, setTube] = useState<Tube | null>(null);
  const [request, setRequest] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const now = () => new Date().toISOString();

  async function lookUp() {
    setError(null);
    setTube(null);
    const b = await fhir<Bundle>(`Specimen?accession=${encodeURIComponent(accession.trim())}&_include=Specimen:subject`);
    const [specimen] = matches(b);
    if (!specimen) return setError(`Tube ${accession.trim()} inconnu.`);
    const patient = included(b).get((specimen.subject as Reference | undefined)?.reference ?? "") as Patient | undefined;
    const requests = matches(await fhir<Bundle>(`ServiceRequest?specimen=Specimen/${specimen.id}&status=active`));
    setTube({ specimen, patient: patient ? shortName(patient) : "patient inconnu", requests });
    setRequest(requests.length === 1 ? `ServiceRequest/${requests[0]?.id}` : "");
    return undefined;
  }

  const onKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== "Enter") return;
    event.preventDefault(); // Enter looks the tube up; only the button writes
    if (accession.trim()) lookUp().catch((e: Error) => setError(e.message));
  };

  async function run(step: () => Promise<string>) {
    setBusy(true);
    setError(null);
    try {
      onDone(await step());
    } catch (e) {
      setError(`Rien n'a été modifié : ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  const attach = () => run(async () => {
    if (!tube || !request) throw new Error("lisez le tube et choisissez la demande.");
    const note = { time: now(), authorString: who, text: `Rattaché au tube ${accession.trim()} par ${who}.` };
    await decide(observation, task,
      { ...observation, specimen: { reference: `Specimen/${tube.specimen.id}` },
        subject: tube.specimen.subject as Reference, basedOn: [{ reference: request }],
        note: [...(observation.note ?? []), note] } as Observation,
      { ...task, status: "completed", lastModified: now(), note: [...(task.note ?? []), note],
        output: [{ type: { text: "specimen" }, valueReference: { reference: `Specimen/${tube.specimen.id}` } }] } as Task);
    return `Résultat rattaché au tube ${accession.trim()} (${tube.patient}).`;
  });

  const reject = () => run(async () => {
    if (!reason.trim()) throw new Error("indiquez le motif du rejet.");
    const note = { time: now(), authorString: who, text: `Rejeté par ${who} : ${reason.trim()}` };
    await decide(observation, task,
      { ...observation, status: "cancelled", note: [...(observation.note ?? []), note] },
      { ...task, status: "rejected", lastModified: now(), note: [...(task.note ?? []), note] });
    return `Résultat rejeté : ${reason.trim()}.`;
  });

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="decision-title">
      <Title order={3} id="decision-title">
        {mode === "attach" ? "Rattacher" : "Rejeter"} le résultat {valueText(observation)} ({inputOf(task, "test-code")})
      </Title>
      <Text size="sm">{task.statusReason?.text}</Text>
      {mode === "attach" ? (
        <Group align="flex-end" mt="sm">
          <TextInput label="N° du tube" description="scanner ou saisir, puis Entrée" value={accession} autoFocus
            autoComplete="off" onChange={(e) => setAccession(e.currentTarget.value)} onKeyDown={onKey} />
          {tube && (
            <NativeSelect label={`Demande (${tube.patient})`} value={request} onChange={(e) => setRequest(e.currentTarget.value)}
              data={[{ value: "", label: tube.requests.length ? "— choisir —" : "aucune demande active" },
                ...tube.requests.map((r) => ({ value: `ServiceRequest/${r.id}`,
                  label: (r.code as CodeableConcept | undefined)?.text ?? r.id ?? "" }))]} />
          )}
          <Button onClick={attach} loading={busy} disabled={!tube || !request}>Rattacher</Button>
          <Button variant="default" onClick={() => onDone(null)}>Annuler</Button>
        </Group>
      ) : (
        <Group align="flex-end" mt="sm">
          <TextInput label="Motif du rejet" value={reason} autoFocus autoComplete="off" maxLength={500}
            onChange={(e) => setReason(e.currentTarget.value)}
            onKeyDown={(e) => { if (e.key === "Enter") e.preventDefault(); }} />
          <Button color="red.9" onClick={reject} loading={busy}>Rejeter le résultat</Button>
          <Button variant="default" onClick={() => onDone(null)}>Annuler</Button>
        </Group>
      )}
      {error && <Alert mt="sm" color="red.9" variant="outline" role="alert">{error}</Alert>}
    </Paper>
  );
}
