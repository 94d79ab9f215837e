// Specimen reception, scan first: the cursor waits in the scan bar; a scanned (or typed) tube number and its
// trailing Enter look the tube up and receive it at once (Specimen.receivedTime, written on the version read:
// If-Match), with an immediate green or red answer, and the bar is ready for the next tube. A tube that does
// not conform is refused with a predefined reason (HL7 table 0490) recorded on the Specimen (status
// "unsatisfactory", condition, a dated note naming who refused it). In the refusal form Enter sends nothing:
// a scanner's Enter in the wrong field never records a refusal; the button does. The server notifies the requester
// of a refused tube (a Communication written with the refusal, mailed over MSSanté); the answer says so, and the
// row of a refused tube shows where that notice stands (notice.tsx).
import { useRef, useState, type KeyboardEvent } from "react";
import { Alert, Badge, Button, Group, NativeSelect, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { ApiError, fhir, included, matches, type Bundle, type CodeableConcept, type FhirResource, type Reference } from "../api";
import { frenchDateTime } from "../format";
import { shortName, type Patient } from "../identity";
import { NoticeBadges, noticeState } from "../notice";
import type { Session } from "../session";

export const REJECT_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0490";
export const REJECT_REASONS: [string, string][] = [
  ["RH", "Échantillon hémolysé"], ["RC", "Échantillon coagulé"], ["QS", "Quantité insuffisante"],
  ["RB", "Tube cassé ou fuyant"], ["RM", "Étiquetage incorrect"], ["RA", "Identification du patient absente"],
  ["RI", "Discordance d'identité"], ["RD", "Date ou heure de prélèvement absente"],
  ["EX", "Délai d'acheminement dépassé"], ["RR", "Conservation inadaptée (température)"], ["RN", "Échantillon contaminé"],
];

interface Specimen extends FhirResource {
  status?: string;
  accessionIdentifier?: { value?: string };
  subject?: Reference;
  receivedTime?: string;
  condition?: CodeableConcept[];
  note?: { text?: string; time?: string; authorString?: string }[];
  type?: CodeableConcept;
}
interface Scanned { accession: string; tone: "ok" | "known" | "bad"; text: string; specimen?: Specimen; patient?: string }

const TONES = { ok: "teal.9", known: "blue.9", bad: "red.9" } as const;
const rejection = (s: Specimen) => s.condition?.flatMap((c) => c.coding ?? []).find((c) => c.system === REJECT_SYSTEM);

export function ReceptionPage({ session }: { session: Session }) {
  const [scan, setScan] = useState("");
  const [last, setLast] = useState<Scanned | null>(null);
  const [seen, setSeen] = useState<Scanned[]>([]);
  const [refusing, setRefusing] = useState<Scanned | null>(null);
  const bar = useRef<HTMLInputElement>(null);

  function answer(result: Scanned) {
    setLast(result);
    setSeen((list) => [result, ...list.filter((s) => s.accession !== result.accession)].slice(0, 50));
    setScan("");
    bar.current?.focus();
  }

  async function lookUp(accession: string) {
    try {
      const bundle = await fhir<Bundle>(`Specimen?accession=${encodeURIComponent(accession)}&_include=Specimen:subject`);
      const [tube, ...others] = matches(bundle) as Specimen[];
      if (!tube) return answer({ accession, tone: "bad", text: `Tube ${accession} inconnu : vérifiez l'étiquette.` });
      if (others.length) return answer({ accession, tone: "bad", text: `Numéro ${accession} ambigu : plusieurs tubes.` });
      const patient = included(bundle).get(tube.subject?.reference ?? "") as Patient | undefined;
      const who = patient ? shortName(patient) : "patient inconnu";
      const refused = rejection(tube);
      if (tube.status === "unsatisfactory" || refused) {
        return answer({ accession, tone: "bad", specimen: tube, patient: who,
          text: `Tube ${accession} (${who}) refusé : ${refused?.display ?? "non conforme"}.` });
      }
      if (tube.receivedTime) {
        return answer({ accession, tone: "known", specimen: tube, patient: who,
          text: `Tube ${accession} (${who}) déjà reçu le ${frenchDateTime(tube.receivedTime)}.` });
      }
      const received = await fhir<Specimen>(`Specimen/${encodeURIComponent(tube.id ?? "")}`, {
        method: "PUT", headers: { "If-Match": `W/"${tube.meta?.versionId ?? ""}"` },
        body: { ...tube, receivedTime: new Date().toISOString() } });
      return answer({ accession, tone: "ok", specimen: received, patient: who,
        text: `Tube ${accession} (${who}) reçu le ${frenchDateTime(received.receivedTime)}.` });
    } catch (e) {
      return answer({ accession, tone: "bad", text: `Tube ${accession} non enregistré : ${(e as Error).message}` });
    }
  }

  const onScanKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const accession = scan.trim();
    if (accession) void lookUp(accession);
  };

  return (
    <Stack>
      <Title order={2}>Réception des tubes</Title>
      <Paper withBorder p="md">
        <TextInput ref={bar} label="Scanner ou saisir le numéro du tube" value={scan} autoFocus autoComplete="off"
          onChange={(e) => setScan(e.currentTarget.value)} onKeyDown={onScanKey} size="lg"
          description="le tube est reçu dès la lecture ; Entrée valide la saisie au clavier" />
        <div aria-live="assertive" role="status" data-testid="scan-feedback">
          {last && (
            <Alert mt="sm" variant="filled" color={TONES[last.tone]} data-tone={last.tone}
              title={{ ok: "✔ Reçu", known: "ℹ Déjà reçu", bad: "✖ Refusé" }[last.tone]}>{last.text}</Alert>
          )}
        </div>
      </Paper>
      {refusing?.specimen && (
        <RejectForm session={session} scanned={refusing} onDone={(result) => {
          setRefusing(null);
          if (result) answer(result);
        }} />
      )}
      <Title order={3}>Tubes lus pendant cette session</Title>
      {seen.length === 0 ? <Text>Aucun tube lu.</Text> : (
        <Table aria-label="Tubes lus">
          <Table.Thead>
            <Table.Tr><Table.Th>N° de tube</Table.Th><Table.Th>Patient</Table.Th><Table.Th>État</Table.Th>
              <Table.Th>Avis au prescripteur</Table.Th><Table.Th>Action</Table.Th></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {seen.map((s) => (
              <Table.Tr key={s.accession}>
                <Table.Td>{s.accession}</Table.Td>
                <Table.Td>{s.patient ?? "—"}</Table.Td>
                <Table.Td><Badge variant="outline" color={TONES[s.tone]}>
                  {s.specimen && rejection(s.specimen) ? "Non conforme" : s.specimen?.receivedTime ? "Reçu" : "Inconnu"}
                </Badge></Table.Td>
                <Table.Td>{s.specimen?.id && rejection(s.specimen) ? <NoticeBadges specimenId={s.specimen.id} /> : "—"}</Table.Td>
                <Table.Td>
                  {s.specimen && !rejection(s.specimen) && (
                    <Button size="xs" variant="outline" color="red.9" onClick={() => setRefusing(s)}
                      aria-label={`Déclarer le tube ${s.accession} non conforme`}>Non conforme…</Button>)}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

/** What the server did about the requester: the notice it wrote with the refusal, and its sending (notice.tsx). */
async function notified(tube: Specimen): Promise<string> {
  const states = await noticeState(tube.id ?? "");
  return (states ?? []).map((n) => `${n.label} : ${n.detail}.`).join(" ");
}

function RejectForm({ session, scanned, onDone }: {
  session: Session; scanned: Scanned; onDone: (result: Scanned | null) => void;
}) {
  const [reason, setReason] = useState("");
  const [comment, setComment] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tube = scanned.specimen as Specimen;

  async function record() {
    if (!reason) {
      setError("Choisissez le motif de non-conformité.");
      return;
    }
    setBusy(true);
    setError(null);
    const label = REJECT_REASONS.find(([code]) => code === reason)?.[1] ?? reason;
    try {
      const current = await fhir<Specimen>(`Specimen/${encodeURIComponent(tube.id ?? "")}`);
      const now = new Date().toISOString();
      const written = await fhir<Specimen>(`Specimen/${encodeURIComponent(tube.id ?? "")}`, {
        method: "PUT", headers: { "If-Match": `W/"${current.meta?.versionId ?? ""}"` },
        body: { ...current, status: "unsatisfactory",
          condition: [...(current.condition ?? []), { coding: [{ system: REJECT_SYSTEM, code: reason, display: label }],
            text: label }],
          note: [...(current.note ?? []), { time: now, authorString: session.name ?? session.username,
            text: `Non-conformité : ${label}${comment.trim() ? ` — ${comment.trim()}` : ""}` }] } });
      onDone({ ...scanned, tone: "bad", specimen: written,
        text: `Tube ${scanned.accession} (${scanned.patient}) déclaré non conforme : ${label}. ${await notified(written)}` });
    } catch (e) {
      setError(e instanceof ApiError && e.status === 412
        ? "Le tube a été modifié entre-temps : relisez-le." : `Non enregistré : ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  // a scanner's trailing Enter in a field of this form never records anything
  const swallowEnter = (event: KeyboardEvent) => {
    if (event.key === "Enter" && (event.target as HTMLElement).tagName !== "BUTTON") event.preventDefault();
  };

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="reject-title" onKeyDown={swallowEnter}>
      <Title order={3} id="reject-title">Non-conformité du tube {scanned.accession}</Title>
      <Group align="flex-end" mt="sm">
        <NativeSelect label="Motif" value={reason} onChange={(e) => setReason(e.currentTarget.value)} error={error}
          data={[{ value: "", label: "— choisir —" }, ...REJECT_REASONS.map(([value, label]) => ({ value, label }))]} />
        <TextInput label="Commentaire" value={comment} onChange={(e) => setComment(e.currentTarget.value)}
          maxLength={500} autoComplete="off" />
        <Button color="red.9" onClick={record} loading={busy}>Enregistrer la non-conformité</Button>
        <Button variant="default" onClick={() => onDone(null)}>Annuler</Button>
      </Group>
    </Paper>
  );
}
