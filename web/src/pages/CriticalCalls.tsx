// Critical values: the phone call to the prescriber or the care unit is documented (who was called, that they
// read the values back, when, by whom), stored as a FHIR Communication (category critical-value-call, about the
// results it reports). Until every critical result of the report has its call, the dossier carries a banner
// saying so. Documented by the roles the permission table lets create a Communication (bench and biologists);
// a documented call is never rewritten (no update, no delete in the table).
import { useCallback, useEffect, useState } from "react";
import { Alert, Button, Checkbox, Group, Paper, Stack, Table, TextInput, Textarea, Title } from "@mantine/core";
import { fhir, matches, type Bundle, type FhirResource, type Reference } from "../api";
import { frenchDateTime } from "../format";
import { valueText, type Observation } from "../results";
import { can, type Session } from "../session";

export const CALL_CATEGORY = "https://opensgl.org/fhir/CodeSystem/communication-category";
const READ_BACK = "Relecture des valeurs faite par l'interlocuteur.";

interface Communication extends FhirResource {
  sent?: string;
  about?: Reference[];
  recipient?: Reference[];
  sender?: Reference;
  note?: { text?: string }[];
  payload?: { contentString?: string }[];
}

export interface Critical {
  observation: Observation;
  name: string;
  flag: string;
}

/** "2026-12-05T10:31" in Paris time for a datetime-local field, and back to an instant. */
function localNow(): string {
  const now = new Date();
  const parts = new Intl.DateTimeFormat("sv-SE", { timeZone: "Europe/Paris", year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit" }).format(now);
  return parts.replace(" ", "T");
}

export function CriticalCalls({ session, subject, criticals }: {
  session: Session; subject: Reference | undefined; criticals: Critical[];
}) {
  const [calls, setCalls] = useState<Communication[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [called, setCalled] = useState("");
  const [readBack, setReadBack] = useState(false);
  const [when, setWhen] = useState(localNow);
  const [comment, setComment] = useState("");
  const [errors, setErrors] = useState<{ called?: string; readBack?: string; when?: string }>({});
  const [busy, setBusy] = useState(false);
  const load = useCallback(() => {
    if (!subject?.reference) return;
    fhir<Bundle>(`Communication?subject=${encodeURIComponent(subject.reference)}&category=${encodeURIComponent(
      `${CALL_CATEGORY}|critical-value-call`)}&_count=100`)
      .then((b) => setCalls(matches(b) as Communication[]), (e: Error) => setError(e.message));
  }, [subject?.reference]);
  useEffect(load, [load]);
  if (criticals.length === 0) return null;

  const ref = (o: Observation) => `Observation/${o.id}`;
  const mine = (calls ?? []).filter((c) => c.about?.some((a) => criticals.some((k) => a.reference === ref(k.observation))));
  const missing = criticals.filter((k) => !mine.some((c) => c.about?.some((a) => a.reference === ref(k.observation))));
  const mayLog = can(session, "Communication", "create");

  async function log() {
    const found: typeof errors = {};
    if (!called.trim()) found.called = "Indiquez qui a été appelé (nom, service).";
    if (!readBack) found.readBack = "La relecture des valeurs par l'interlocuteur est obligatoire.";
    const instant = new Date(`${when}:00`);
    if (!when || Number.isNaN(instant.getTime()) || instant.getTime() > Date.now() + 60_000) {
      found.when = "Date et heure de l'appel invalides (pas dans le futur).";
    }
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    setError(null);
    try {
      await fhir("Communication", { method: "POST", body: {
        resourceType: "Communication", status: "completed",
        category: [{ coding: [{ system: CALL_CATEGORY, code: "critical-value-call", display: "Appel pour valeur critique" }] }],
        medium: [{ coding: [{ system: "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode", code: "PHONE",
          display: "telephone" }] }],
        subject, sent: instant.toISOString(),
        about: missing.map((k) => ({ reference: ref(k.observation) })),
        recipient: [{ display: called.trim() }],
        sender: session.practitioner ? { reference: session.practitioner, display: session.name ?? undefined }
          : { display: session.name ?? session.username },
        payload: missing.map((k) => ({ contentString: `${k.name} : ${valueText(k.observation)} (${k.flag})` })),
        note: [{ text: READ_BACK }, ...(comment.trim() ? [{ text: comment.trim() }] : [])],
      } });
      setCalled("");
      setReadBack(false);
      setComment("");
      load();
    } catch (e) {
      setError(`Appel non enregistré : ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Stack gap="xs">
      {calls !== null && missing.length > 0 && (
        <Alert color="red.9" variant="filled" role="alert" title="▲▲ Valeur critique : appel à documenter" data-testid="critical-banner">
          {missing.map((k) => `${k.name} ${valueText(k.observation)} (${k.flag})`).join(" ; ")} — l'appel au
          prescripteur ou au service n'est pas encore documenté.
        </Alert>
      )}
      {error && <Alert color="red" role="alert">{error}</Alert>}
      {mayLog && missing.length > 0 && calls !== null && (
        <Paper withBorder p="md" component="section" aria-labelledby="critical-call-title">
          <Stack gap="xs">
            <Title order={3} size="h4" id="critical-call-title">Documenter l'appel</Title>
            <Group align="flex-start">
              <TextInput label="Personne appelée" value={called} maxLength={200} error={errors.called} style={{ flex: 1 }}
                onChange={(e) => setCalled(e.currentTarget.value)} />
              <TextInput type="datetime-local" label="Appelé le" value={when} error={errors.when} w={220}
                onChange={(e) => setWhen(e.currentTarget.value)} />
            </Group>
            <Checkbox label="L'interlocuteur a relu les valeurs (read-back)" checked={readBack} error={errors.readBack}
              onChange={(e) => setReadBack(e.currentTarget.checked)} />
            <Textarea label="Commentaire (facultatif)" value={comment} maxLength={1000}
              onChange={(e) => setComment(e.currentTarget.value)} />
            <Group><Button color="red.9" onClick={log} loading={busy}>Enregistrer l'appel</Button></Group>
          </Stack>
        </Paper>
      )}
      {mine.length > 0 && (
        <Table aria-label="Appels documentés" striped>
          <Table.Thead>
            <Table.Tr><Table.Th>Appelé le</Table.Th><Table.Th>Personne appelée</Table.Th><Table.Th>Par</Table.Th>
              <Table.Th>Valeurs</Table.Th><Table.Th>Notes</Table.Th></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {mine.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>{frenchDateTime(c.sent)}</Table.Td>
                <Table.Td>{c.recipient?.map((r) => r.display).join(", ")}</Table.Td>
                <Table.Td>{c.sender?.display ?? "—"}</Table.Td>
                <Table.Td>{c.payload?.map((p) => p.contentString).join(" ; ")}</Table.Td>
                <Table.Td>{c.note?.map((n) => n.text).join(" ")}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
