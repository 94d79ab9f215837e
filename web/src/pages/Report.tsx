// The validation screen of one report: its results with the previous value of the same analysis, the
// flags (icon + word + weight, never colour alone), the reference ranges and notes (delta check); the
// biological validation through the FHIR operation $validate-biological; the CR-Bio PDF once validated.
import { useCallback, useEffect, useState } from "react";
import {
  Alert, Anchor, Badge, Button, Group, Loader, Paper, Stack, Table, Text, Textarea, Title, VisuallyHidden,
} from "@mantine/core";
import { ApiError, call, fhir, matches, type Bundle } from "../api";
import { frenchDate, frenchDateTime, frenchNumber } from "../format";
import { analysisName, catalogueCode, steps, valueText, type Observation } from "../results";
import { sexLabel, shortName, type Patient } from "../identity";
import { can, type Session } from "../session";
import { linkProps } from "../router";
import { ResultReview } from "./ResultReview";
import { CriticalCalls } from "./CriticalCalls";
import { REPORT_STATUS, type DiagnosticReport } from "../reports";
import { worklistChanged } from "./Worklist";

const V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
const VALIDATED = new Set(["final", "amended", "corrected"]);
const DOCUMENTED = new Set(["preliminary", "final", "amended", "corrected"]);

/** Each flag: a symbol, a word and a weight, so that it reads the same in black and white. */
// Outside the range: outlined; critical: filled red; delta check: outlined violet (shade 9: AA contrast).
const FLAGS: Record<string, { symbol: string; label: string; color: string; critical?: boolean }> = {
  N: { symbol: "", label: "Normal", color: "gray.7" },
  H: { symbol: "▲", label: "Élevé", color: "dark" },
  L: { symbol: "▼", label: "Bas", color: "dark" },
  HH: { symbol: "▲▲", label: "Critique haut", color: "red.9", critical: true },
  LL: { symbol: "▼▼", label: "Critique bas", color: "red.9", critical: true },
  A: { symbol: "!", label: "Anormal", color: "dark" },
  AA: { symbol: "!!", label: "Critique", color: "red.9", critical: true },
  U: { symbol: "Δ▲", label: "Hausse significative", color: "grape.9" },
  D: { symbol: "Δ▼", label: "Baisse significative", color: "grape.9" },
};

function rangeText(o: Observation): string {
  const r = o.referenceRange?.[0];
  if (!r) return "—";
  if (r.text) return r.text;
  const unit = r.low?.unit ?? r.high?.unit ?? "";
  if (r.low?.value !== undefined && r.high?.value !== undefined) {
    return `${frenchNumber(r.low.value)} – ${frenchNumber(r.high.value)} ${unit}`.trim();
  }
  if (r.low?.value !== undefined) return `≥ ${frenchNumber(r.low.value)} ${unit}`.trim();
  if (r.high?.value !== undefined) return `≤ ${frenchNumber(r.high.value)} ${unit}`.trim();
  return "—";
}

const flagsOf = (o: Observation) => (o.interpretation ?? []).flatMap((i) => i.coding ?? [])
  .filter((c) => c.system === V3 && c.code).map((c) => c.code as string);

function resultState(o: Observation): string {
  if (o.status === "cancelled") return "Annulé (repassé)";
  if (steps(o).includes("autoverified")) return "Validé automatiquement";
  if (VALIDATED.has(o.status)) return o.status === "corrected" ? "Corrigé" : "Validé biologiquement";
  if (steps(o).includes("technical")) return "Validé techniquement";
  return "En attente de validation technique";
}

async function previousOf(o: Observation): Promise<Observation | null> {
  const code = catalogueCode(o);
  if (!code?.code || !o.subject?.reference || !o.effectiveDateTime) return null;
  const params = new URLSearchParams({
    subject: o.subject.reference, code: `${code.system ?? ""}|${code.code}`, status: "final,corrected,amended",
    date: `lt${o.effectiveDateTime}`, _sort: "-date", _count: "1",
  });
  return matches(await fhir<Bundle<Observation>>(`Observation?${params}`))[0] ?? null;
}

interface Loaded {
  report: DiagnosticReport;
  patient: Patient | null;
  results: { observation: Observation; previous: Observation | null; name: string }[];
}

async function load(id: string): Promise<Loaded> {
  const report = await fhir<DiagnosticReport>(`DiagnosticReport/${encodeURIComponent(id)}`);
  const ids = (report.result ?? []).map((r) => r.reference?.split("/")[1]).filter(Boolean);
  const [patient, observations, catalogue] = await Promise.all([
    report.subject?.reference ? fhir<Patient>(report.subject.reference) : Promise.resolve(null),
    ids.length ? fhir<Bundle<Observation>>(`Observation?_id=${ids.join(",")}&_count=200`).then(matches)
      : Promise.resolve([] as Observation[]),
    analysisName(),
  ]);
  const ordered = ids.map((rid) => observations.find((o) => o.id === rid)).filter((o): o is Observation => !!o);
  const previous = await Promise.all(ordered.map(previousOf));
  return {
    report, patient, results: ordered.map((observation, i) => {
      const code = catalogueCode(observation);
      const name = (code?.code && catalogue.get(code.code)) ?? code?.display ?? observation.code.text ?? code?.code ?? "?";
      return { observation, previous: previous[i] ?? null, name };
    }),
  };
}

export function ReportPage({ session, id }: { session: Session; id: string }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [conclusion, setConclusion] = useState("");
  const [busy, setBusy] = useState(false);
  const [pdf, setPdf] = useState<string | null>(null);
  const [producing, setProducing] = useState(false);
  const [open, setOpen] = useState<string | null>(null);

  const reload = useCallback(() => load(id).then(setData, (e: Error) => setError(e.message)), [id]);
  useEffect(() => {
    setData(null);
    void reload();
  }, [reload]);
  useEffect(() => () => {
    if (pdf) URL.revokeObjectURL(pdf);
  }, [pdf]);

  async function validate() {
    setBusy(true);
    setError(null);
    try {
      // a guard against validating from a stale page: the report must still be the version shown
      const now = await fhir<DiagnosticReport>(`DiagnosticReport/${encodeURIComponent(id)}`);
      if (now.meta?.versionId !== data?.report.meta?.versionId) {
        await reload();
        setError("Ce compte rendu a été modifié depuis que vous l'avez ouvert (par une autre personne ou un "
          + "automate). Les résultats affichés ont été relus : vérifiez-les avant de valider.");
        return;
      }
      const parameter = conclusion.trim() ? [{ name: "conclusion", valueString: conclusion.trim() }] : [];
      await fhir(`DiagnosticReport/${encodeURIComponent(id)}/$validate-biological`, {
        method: "POST", body: { resourceType: "Parameters", parameter },
      });
      await reload();
      worklistChanged();
      setDone("Compte rendu validé biologiquement.");
    } catch (e) {
      setError(`Validation refusée : ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  }

  async function showPdf() {
    setError(null);
    setProducing(true);
    try {
      // the documents are made just after the validating commit: 409 while they are, so ask again shortly
      for (let attempt = 0; ; attempt += 1) {
        try {
          const answer = await call(`/fhir/DiagnosticReport/${encodeURIComponent(id)}/$cr-bio?format=pdf`);
          setPdf(URL.createObjectURL(await answer.blob()));
          return;
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409) || attempt >= 60) throw e;
          await new Promise((resolve) => window.setTimeout(resolve, 1000));
        }
      }
    } catch (e) {
      setError(`CR-Bio indisponible : ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setProducing(false);
    }
  }

  if (!data) return error ? <Alert color="red" role="alert">{error}</Alert> : <Loader aria-label="Chargement" />;
  const { report, patient, results } = data;
  const pending = report.status === "partial" || report.status === "preliminary";
  const mayValidate = can(session, "DiagnosticReport", "$validate-biological") && pending;
  const mayView = can(session, "DiagnosticReport", "$cr-bio") && DOCUMENTED.has(report.status);

  return (
    <Stack>
      <Group>
        <Title order={2}>Demande {report.identifier?.[0]?.value ?? report.id}</Title>
        <Badge size="lg" data-testid="report-status">{REPORT_STATUS[report.status] ?? report.status}</Badge>
      </Group>
      {patient && (
        <Text data-testid="report-patient">
          Patient : <b>{shortName(patient)}</b>, né(e) le {frenchDate(patient.birthDate)}, sexe {sexLabel(patient.gender).toLowerCase()}
        </Text>
      )}
      <CriticalCalls session={session} subject={report.subject} criticals={results.flatMap(({ observation, name }) => {
        const code = flagsOf(observation).find((f) => FLAGS[f]?.critical);
        return code && observation.status !== "cancelled"
          ? [{ observation, name, flag: `${FLAGS[code].symbol} ${FLAGS[code].label}` }] : [];
      })} />
      <Table aria-label="Résultats de la demande" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Analyse</Table.Th><Table.Th>Résultat</Table.Th><Table.Th>Indicateur</Table.Th>
            <Table.Th>Valeurs de référence</Table.Th><Table.Th>Résultat précédent</Table.Th><Table.Th>État</Table.Th>
            <Table.Th><VisuallyHidden>Détails</VisuallyHidden></Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {results.map(({ observation: o, previous, name }) => {
            const flags = flagsOf(o).filter((f) => f !== "N");
            const outside = flags.length > 0;
            return (
              <Table.Tr key={o.id} data-testid={`result-${catalogueCode(o)?.code ?? o.id}`}>
                <Table.Td>{name}</Table.Td>
                <Table.Td>
                  <Text fw={outside ? 700 : 400} data-testid="value">{valueText(o)}</Text>
                  {(o.note ?? []).map((n, i) => <Text key={i} size="xs" c="dimmed">{n.text}</Text>)}
                </Table.Td>
                <Table.Td data-testid="flags">
                  {flags.length === 0 ? <Text size="sm">Normal</Text> : flags.map((f) => {
                    const flag = FLAGS[f] ?? { symbol: "?", label: f, color: "dark" };
                    return (
                      <Badge key={f} color={flag.color} variant={flag.critical ? "filled" : "outline"}
                        fw={flag.critical ? 800 : 600} mr={4}>
                        {flag.symbol} {flag.label}
                      </Badge>
                    );
                  })}
                </Table.Td>
                <Table.Td>{rangeText(o)}</Table.Td>
                <Table.Td data-testid="previous">
                  {previous ? `${valueText(previous)} le ${frenchDate(previous.effectiveDateTime)}` : "Aucun"}
                </Table.Td>
                <Table.Td>{resultState(o)}</Table.Td>
                <Table.Td>
                  <Button size="xs" variant={open === o.id ? "filled" : "subtle"} aria-expanded={open === o.id}
                    aria-label={`Détails : ${name}`} onClick={() => setOpen(open === o.id ? null : o.id ?? null)}>
                    Détails
                  </Button>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {(() => {
        const shown = results.find((r) => r.observation.id === open);
        return shown ? (
          <ResultReview key={`${shown.observation.id}-${shown.observation.meta?.versionId}`} session={session}
            observation={shown.observation} reportId={id} name={shown.name}
            onChanged={() => {
              setOpen(null);
              void reload();
              worklistChanged();
            }} />
        ) : null;
      })()}
      {report.conclusion && <Text>Conclusion : {report.conclusion}</Text>}
      {done && <Alert color="green" role="status">{done}</Alert>}
      {error && <Alert color="red" role="alert">{error}</Alert>}
      {mayValidate && (
        <Paper withBorder p="md">
          <Stack>
            <Textarea label="Conclusion (facultative)" value={conclusion} maxLength={2000}
              onChange={(e) => setConclusion(e.currentTarget.value)} />
            <Group>
              <Button onClick={validate} loading={busy}>Valider biologiquement</Button>
            </Group>
          </Stack>
        </Paper>
      )}
      {mayView && (
        <Group>
          <Button variant="default" onClick={showPdf} loading={producing}>Voir le CR-Bio (PDF)</Button>
          <Anchor {...linkProps(`/comptes-rendus/${report.id}`)}>Formats, diffusion et réglages DMP</Anchor>
          {producing && <Text size="sm" role="status">CR-Bio en cours de production…</Text>}
          <Text size="sm" c="dimmed">Dernière mise à jour {frenchDateTime(report.meta?.lastUpdated)}</Text>
        </Group>
      )}
      {pdf && <iframe title="CR-Bio (PDF)" src={pdf} style={{ width: "100%", height: "80vh", border: 0 }} />}
    </Stack>
  );
}
