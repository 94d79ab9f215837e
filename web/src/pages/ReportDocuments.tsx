// One report's CR-Bio and where it went (SGL.DOC.12): the document in each format the lab keeps — the PDF, the
// self-presenting N3 (the browser applies the file's own stylesheet, in a sandboxed frame: no script runs) and
// the N1 (its header and the PDF it carries) — the delivery of each version per channel and recipient (DMP,
// MSSanté, DPI partners: to send, delivered, read, failed with the partner's answer) with resend for the roles
// allowed, the dossier's DMP settings and the DMP button. A lab that makes two versions (SGL.DOC.02) shows both:
// the professional one (PDF, N3, N1) and the patient one (PDF, N3).
import { useCallback, useEffect, useState } from "react";
import {
  Alert, Badge, Button, Group, Loader, Paper, SegmentedControl, Stack, Table, Text, Title, VisuallyHidden,
} from "@mantine/core";
import { fhir } from "../api";
import {
  ACTION_LABELS, CHANNEL_LABELS, RETRYABLE, crBio, deliveries, deliveryReason, deliveryState, lastEvent,
  n1Header, pdfOfN1, retryDeliveries, type CrFormat, type Delivery,
} from "../documents";
import { frenchDate, frenchDateTime } from "../format";
import { sexLabel, shortName, type Patient } from "../identity";
import { can, type Session } from "../session";
import { DmpButton } from "./DmpButton";
import { DmpSettings, dmpSettingsOf } from "./DmpSettings";
import { REPORT_STATUS, type DiagnosticReport } from "../reports";

const FORMAT_LABELS: Record<CrFormat, string> = { pdf: "PDF", n3: "CDA N3 (auto-présentable)", n1: "CDA N1 (PDF)" };
const TONES = { ok: "green.9", wait: "blue.9", bad: "red.9", off: "gray.7" } as const;
const SYMBOLS = { ok: "✓", wait: "…", bad: "✗", off: "—" } as const;

interface Shown {
  format: CrFormat;
  url: string;
  note?: string;
}

type Copy = "professional" | "patient";
const COPY_LABELS: Record<Copy, string> = { professional: "Version professionnel", patient: "Version patient" };

/** True when the report's documents include a patient version (``<report>-patient-<fmt>-v<n>``). */
function hasPatientCopy(report: DiagnosticReport): boolean {
  const forms = (report as DiagnosticReport & { presentedForm?: { url?: string }[] }).presentedForm ?? [];
  return forms.some((f) => /-patient-(n3|pdf)-v\d+$/.test(f.url ?? ""));
}

function Viewer({ id, twoCopies }: { id: string; twoCopies: boolean }) {
  const [format, setFormat] = useState<CrFormat>("pdf");
  const [copy, setCopy] = useState<Copy>("professional");
  const formats = (Object.keys(FORMAT_LABELS) as CrFormat[]).filter((f) => copy === "professional" || f !== "n1");
  const [shown, setShown] = useState<Shown | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [waiting, setWaiting] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => () => {
    if (shown) URL.revokeObjectURL(shown.url);
  }, [shown]);

  async function show() {
    setError(null);
    setBusy(true);
    try {
      const blob = await crBio(id, format, setWaiting, copy === "patient" ? "patient" : undefined);
      if (format === "pdf") {
        setShown({ format, url: URL.createObjectURL(new Blob([blob], { type: "application/pdf" })) });
      } else if (format === "n3") {
        // as the file: the browser applies the stylesheet the file carries to the ClinicalDocument inside it
        setShown({ format, url: URL.createObjectURL(new Blob([blob], { type: "text/xml" })) });
      } else {
        const xml = await blob.text();
        const pdf = pdfOfN1(xml);
        if (!pdf) throw new Error("le document N1 ne contient pas de PDF");
        const header = n1Header(xml);
        setShown({ format, url: URL.createObjectURL(pdf), note: `Document ${header.id} — ${header.title}` });
      }
    } catch (e) {
      setError(`CR-Bio indisponible : ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="crbio-title">
      <Stack gap="xs">
        <Title order={3} size="h4" id="crbio-title">Compte rendu (CR-Bio)</Title>
        <Group>
          {twoCopies && (
            <SegmentedControl aria-label="Version du compte rendu" value={copy} data-testid="crbio-copy"
              onChange={(v) => {
                setCopy(v as Copy);
                if (v === "patient" && format === "n1") setFormat("pdf");
              }}
              data={(Object.keys(COPY_LABELS) as Copy[]).map((c) => ({ value: c, label: COPY_LABELS[c] }))} />
          )}
          <SegmentedControl aria-label="Format du compte rendu" value={format}
            onChange={(v) => setFormat(v as CrFormat)}
            data={formats.map((f) => ({ value: f, label: FORMAT_LABELS[f] }))} />
          <Button onClick={show} loading={busy}>Afficher</Button>
          {waiting && <Text size="sm" role="status">CR-Bio en cours de production…</Text>}
        </Group>
        {error && <Alert color="red" role="alert">{error}</Alert>}
        {shown && shown.note && <Text size="sm" data-testid="n1-header">{shown.note}</Text>}
        {shown && (shown.format === "n3" ? (
          // sandbox without scripts (nothing in the document can run); same origin only so that the browser may
          // read the stylesheet the file carries (href="#": the blob itself)
          <iframe title="CR-Bio N3" sandbox="allow-same-origin" src={shown.url} style={{ width: "100%", height: "70vh", border: "1px solid #ccc" }} />
        ) : (
          <iframe title={`CR-Bio ${FORMAT_LABELS[shown.format]}`} src={shown.url}
            style={{ width: "100%", height: "70vh", border: 0 }} />
        ))}
      </Stack>
    </Paper>
  );
}

function Deliveries({ session, id, blocked }: { session: Session; id: string; blocked: string | null }) {
  const [found, setFound] = useState<Delivery[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const mayRetry = can(session, "DiagnosticReport", "$delivery-retry");
  const load = useCallback(() => deliveries(id).then(setFound, (e: Error) => setError(e.message)), [id]);
  useEffect(() => {
    void load();
  }, [load]);
  // read again every 2 s while something is on its way: a delivery pending, or none written yet (the documents
  // are made just after the validation, the deliveries with them); at most 2 minutes, then "Actualiser"
  const unfinished = found !== null && (found.length === 0 || found.some((d) => d.state === "pending"));
  useEffect(() => {
    if (!unfinished) return undefined;
    let left = 60;
    const timer = window.setInterval(() => {
      left -= 1;
      if (left <= 0) window.clearInterval(timer);
      void load();
    }, 2000);
    return () => window.clearInterval(timer);
  }, [unfinished, load]);

  async function retry(d: Delivery) {
    setError(null);
    setDone(null);
    try {
      const changed = await retryDeliveries(id, [d.id]);
      setDone(changed.length ? `Nouvel envoi demandé : ${CHANNEL_LABELS[d.channel] ?? d.channel}, ${d.recipient}.`
        : "Cet envoi est en cours : il n'a pas été relancé.");
      await load();
    } catch (e) {
      setError(`Renvoi refusé : ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="deliveries-title">
      <Stack gap="xs">
        <Group justify="space-between">
          <Title order={3} size="h4" id="deliveries-title">Diffusion</Title>
          <Button variant="default" size="xs" onClick={() => void load()}>Actualiser</Button>
        </Group>
        {error && <Alert color="red" role="alert">{error}</Alert>}
        {done && <Alert color="green" role="status">{done}</Alert>}
        {blocked !== null && (
          <Text data-testid="dmp-blocked">
            <b>— DMP non alimenté</b> pour ce dossier (réglage DMP), motif : {blocked || "non précisé"}.
          </Text>
        )}
        {!found ? <Loader aria-label="Chargement des envois" /> : found.length === 0 ? (
          <Text>Aucun envoi pour ce compte rendu.</Text>
        ) : (
          <Table aria-label="Envois du compte rendu" striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Canal</Table.Th><Table.Th>Destinataire</Table.Th><Table.Th>Version</Table.Th>
                <Table.Th>État</Table.Th><Table.Th>Motif / réponse</Table.Th><Table.Th>Tentatives</Table.Th>
                <Table.Th>Dernier événement</Table.Th><Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {found.map((d) => {
                const state = deliveryState(d);
                return (
                  <Table.Tr key={d.id} data-testid={`delivery-${d.channel}`}>
                    <Table.Td>{CHANNEL_LABELS[d.channel] ?? d.channel}</Table.Td>
                    <Table.Td>{d.recipient}</Table.Td>
                    <Table.Td>{ACTION_LABELS[d.action] ?? d.action} v{d.version}</Table.Td>
                    <Table.Td data-testid="state">
                      <Text size="sm" c={TONES[state.tone]} fw={state.tone === "bad" ? 800 : 600}
                        style={{ whiteSpace: "nowrap" }}>
                        {SYMBOLS[state.tone]} {state.label}
                      </Text>
                    </Table.Td>
                    <Table.Td data-testid="reason"><Text size="sm" lineClamp={3}>{deliveryReason(d)}</Text></Table.Td>
                    <Table.Td>{d.attempts}</Table.Td>
                    <Table.Td>{frenchDateTime(lastEvent(d))}</Table.Td>
                    <Table.Td>
                      {mayRetry && RETRYABLE.has(d.state) && (
                        <Button size="xs" variant="outline" onClick={() => void retry(d)}
                          aria-label={`Renvoyer : ${CHANNEL_LABELS[d.channel] ?? d.channel}, ${d.recipient}`}>
                          Renvoyer
                        </Button>
                      )}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Paper>
  );
}

export function ReportDocumentsPage({ session, id }: { session: Session; id: string }) {
  const [report, setReport] = useState<DiagnosticReport | null>(null);
  const [patient, setPatient] = useState<Patient | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  useEffect(() => {
    fhir<DiagnosticReport>(`DiagnosticReport/${encodeURIComponent(id)}`).then(async (r) => {
      setReport(r);
      if (r.subject?.reference) setPatient(await fhir<Patient>(r.subject.reference));
    }).catch((e: Error) => setError(e.message));
  }, [id]);
  if (error) return <Alert color="red" role="alert">{error}</Alert>;
  if (!report) return <Loader aria-label="Chargement" />;
  return (
    <Stack>
      <Group>
        <Title order={2}>Compte rendu {report.identifier?.[0]?.value ?? report.id}</Title>
        <Badge size="lg" data-testid="report-status">{REPORT_STATUS[report.status] ?? report.status}</Badge>
      </Group>
      {patient && (
        <Group justify="space-between">
          <Text data-testid="report-patient">
            Patient : <b>{shortName(patient)}</b>, né(e) le {frenchDate(patient.birthDate)}, sexe {sexLabel(patient.gender).toLowerCase()}
          </Text>
          <DmpButton session={session} patient={patient} />
        </Group>
      )}
      {can(session, "DiagnosticReport", "$cr-bio") && <Viewer id={id} twoCopies={hasPatientCopy(report)} />}
      {can(session, "DiagnosticReport", "$deliveries") && (
        <Deliveries session={session} id={id} blocked={dmpSettingsOf(report).blocked ? dmpSettingsOf(report).reason : null} />
      )}
      <DmpSettings key={report.meta?.versionId} report={report}
        editable={can(session, "DiagnosticReport", "update")} onSaved={(r, o) => {
          setReport(r);
          setOutcome(o);
        }} />
      {outcome && (
        <Alert color={outcome.ok ? "green" : "red"} role={outcome.ok ? "status" : "alert"}>{outcome.message}</Alert>
      )}
    </Stack>
  );
}
