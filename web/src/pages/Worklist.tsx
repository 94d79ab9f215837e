// Pending biological validation: the reports with technically validated results not yet validated by a
// biologist (status partial, or preliminary when partly validated), oldest first, with their count.
// The list and the count are read again every 30 s (polling; no server push yet) and at once after a
// validation made in this page.
import { useEffect, useState } from "react";
import { Alert, Badge, Button, Checkbox, Group, Loader, Stack, Table, Text, Title } from "@mantine/core";
import { notClear, type Observation } from "../results";
import { fhir, included, matches, type Bundle, type FhirResource } from "../api";
import { frenchDateTime } from "../format";
import type { Patient } from "../identity";
import { REPORT_STATUS, requestNumber, type DiagnosticReport } from "../reports";
import { ReportRow } from "./ReportRow";

export const PENDING = "DiagnosticReport?status=partial,preliminary";
const REFRESH_MS = 30_000;

const CHANGED = "sgl:worklist-changed";

/** Tell the lists and counters that a step changed what they show (they read again at once). */
export function worklistChanged(): void {
  window.dispatchEvent(new Event(CHANGED));
}

export function usePolling<T>(load: () => Promise<T>, enabled = true): [T | null, string | null] {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!enabled) return undefined;
    let live = true;
    const run = () => load().then((v) => live && (setValue(v), setError(null)),
      (e: Error) => live && setError(e.message));
    run();
    const timer = window.setInterval(run, REFRESH_MS);
    window.addEventListener(CHANGED, run);
    return () => {
      live = false;
      window.clearInterval(timer);
      window.removeEventListener(CHANGED, run);
    };
  }, [enabled]);
  return [value, error];
}

/** The number of reports waiting for a biologist (null while unknown or not the user's job). */
export function usePendingCount(enabled: boolean): number | null {
  const [count] = usePolling(async () => (await fhir<Bundle>(`${PENDING}&_summary=count`)).total ?? 0, enabled);
  return enabled ? count : null;
}

export function WorklistPage() {
  const [bundle, error] = usePolling(() =>
    fhir<Bundle>(`${PENDING}&_include=DiagnosticReport:subject&_include=DiagnosticReport:result&_total=accurate&_count=100`));
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulk, setBulk] = useState<{ busy: boolean; message: string | null; failed: boolean }>(
    { busy: false, message: null, failed: false });
  if (error) return <Alert color="red" role="alert">{error}</Alert>;
  if (!bundle) return <Loader aria-label="Chargement de la liste" />;
  const reports = matches(bundle) as DiagnosticReport[];
  const patients = included(bundle);
  const blockers = new Map(reports.map((r) => [r.id ?? "", reportBlockers(r, patients)]));
  const chosen = reports.filter((r) => selected.has(r.id ?? "") && blockers.get(r.id ?? "")?.length === 0);
  const disabledWhy = reports.every((r) => (blockers.get(r.id ?? "") ?? []).length > 0)
    ? "Aucun compte rendu sans anomalie : chacun doit être ouvert et validé un par un."
    : chosen.length === 0 ? "Cochez les comptes rendus sans anomalie à valider ensemble." : null;

  async function validateChosen() {
    setBulk({ busy: true, message: null, failed: false });
    const done: string[] = [];
    try {
      for (const r of chosen) {
        // each report as shown: one changed since the list was read is left for a look (never validated blind)
        const now = await fhir<DiagnosticReport>(`DiagnosticReport/${encodeURIComponent(r.id ?? "")}`);
        if (now.meta?.versionId !== r.meta?.versionId) {
          throw new Error(`le compte rendu ${requestNumber(r)} a changé depuis l'affichage de la liste`);
        }
        await fhir(`DiagnosticReport/${encodeURIComponent(r.id ?? "")}/$validate-biological`, {
          method: "POST", body: { resourceType: "Parameters", parameter: [] } });
        done.push(requestNumber(r));
      }
      setBulk({ busy: false, message: `${done.length} compte(s) rendu(s) validé(s) : ${done.join(", ")}.`, failed: false });
    } catch (e) {
      setBulk({ busy: false, failed: true, message: `${done.length} validé(s), puis arrêt : ${
        e instanceof Error ? e.message : String(e)}.` });
    } finally {
      setSelected(new Set());
      worklistChanged();
    }
  }

  return (
    <Stack>
      <Group>
        <Title order={2}>Validation biologique</Title>
        <Badge size="lg" data-testid="pending-count">{bundle.total ?? reports.length} en attente</Badge>
      </Group>
      {reports.length === 0 ? (
        <Text>Aucun compte rendu n'attend de validation biologique.</Text>
      ) : (
        <Table striped highlightOnHover aria-label="Comptes rendus en attente de validation biologique">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Demande</Table.Th><Table.Th>Patient</Table.Th><Table.Th>Résultats</Table.Th>
              <Table.Th>Mis à jour</Table.Th><Table.Th>État</Table.Th><Table.Th>Validation groupée</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {reports.map((r) => (
              <ReportRow key={r.id} report={r} href={`/validation/${r.id}`}
                patient={patients.get(r.subject?.reference ?? "") as Patient | undefined}>
                <Table.Td>{r.result?.length ?? 0}</Table.Td>
                <Table.Td>{frenchDateTime(r.meta?.lastUpdated)}</Table.Td>
                <Table.Td>{REPORT_STATUS[r.status] ?? r.status}</Table.Td>
                <Table.Td>
                  {(blockers.get(r.id ?? "") ?? []).length === 0 ? (
                    <Checkbox label="Sans anomalie" checked={selected.has(r.id ?? "")}
                      aria-label={`Sans anomalie : valider ${requestNumber(r)} avec les autres`}
                      onChange={(e) => {
                        const next = new Set(selected);
                        if (e.currentTarget.checked) next.add(r.id ?? ""); else next.delete(r.id ?? "");
                        setSelected(next);
                      }} />
                  ) : (
                    <Text size="sm" data-testid="not-clear">À ouvrir : {blockers.get(r.id ?? "")?.join(", ")}</Text>
                  )}
                </Table.Td>
              </ReportRow>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {reports.length > 0 && (
        <Group>
          <Button onClick={validateChosen} loading={bulk.busy} disabled={disabledWhy !== null}
            aria-describedby="bulk-why">
            Valider les {chosen.length || ""} comptes rendus sans anomalie
          </Button>
          <Text size="sm" id="bulk-why" data-testid="bulk-why">
            {disabledWhy ?? "Seuls les comptes rendus sans valeur critique, hors normes, delta check, alarme ni commentaire sont proposés ; les valeurs critiques ne sont jamais validées en groupe."}
          </Text>
        </Group>
      )}
      {bulk.message && <Alert color={bulk.failed ? "red" : "green"} role={bulk.failed ? "alert" : "status"}>{bulk.message}</Alert>}
    </Stack>
  );
}

/** Why a report must be opened rather than validated in bulk: its results' reasons (none: it is clear). */
function reportBlockers(report: DiagnosticReport, found: Map<string, FhirResource>): string[] {
  const why = new Set<string>();
  for (const ref of report.result ?? []) {
    const o = found.get(ref.reference ?? "") as Observation | undefined;
    if (!o) why.add("résultats non lus");
    else if (o.status !== "cancelled" && !["final", "corrected", "amended"].includes(o.status)) {
      notClear(o).forEach((w) => why.add(w));
    }
  }
  if (!(report.result ?? []).length) why.add("aucun résultat");
  return [...why];
}
