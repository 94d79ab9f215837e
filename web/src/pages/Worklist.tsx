// Pending biological validation: the reports with technically validated results not yet validated by a
// biologist (status partial, or preliminary when partly validated), oldest first, with their count.
// The list and the count are read again every 30 s (polling; no server push yet) and at once after a
// validation made in this page.
import { useEffect, useState } from "react";
import { Alert, Anchor, Badge, Group, Loader, Stack, Table, Text, Title } from "@mantine/core";
import { fhir, included, matches, type Bundle, type FhirResource, type Reference } from "../api";
import { frenchDateTime } from "../format";
import { shortName, type Patient } from "../identity";
import { linkProps } from "../router";

export const PENDING = "DiagnosticReport?status=partial,preliminary";
const REFRESH_MS = 30_000;

export interface DiagnosticReport extends FhirResource {
  resourceType: "DiagnosticReport";
  status: string;
  subject?: Reference;
  result?: Reference[];
  identifier?: { system?: string; value?: string }[];
  issued?: string;
  effectiveDateTime?: string;
  conclusion?: string;
}

export const REPORT_STATUS: Record<string, string> = {
  registered: "Enregistré",
  partial: "En attente de validation biologique",
  preliminary: "Partiellement validé",
  final: "Validé",
  amended: "Complété",
  corrected: "Corrigé",
  cancelled: "Annulé",
  "entered-in-error": "Erreur de saisie",
};

const CHANGED = "sgl:worklist-changed";

/** Tell the lists and counters that a step changed what they show (they read again at once). */
export function worklistChanged(): void {
  window.dispatchEvent(new Event(CHANGED));
}

function usePolling<T>(load: () => Promise<T>, enabled = true): [T | null, string | null] {
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
    fhir<Bundle>(`${PENDING}&_include=DiagnosticReport:subject&_total=accurate&_count=100`));
  if (error) return <Alert color="red" role="alert">{error}</Alert>;
  if (!bundle) return <Loader aria-label="Chargement de la liste" />;
  const reports = matches(bundle) as DiagnosticReport[];
  const patients = included(bundle);
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
              <Table.Th>Mis à jour</Table.Th><Table.Th>État</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {reports.map((r) => {
              const patient = patients.get(r.subject?.reference ?? "") as Patient | undefined;
              return (
                <Table.Tr key={r.id}>
                  <Table.Td>
                    <Anchor {...linkProps(`/validation/${r.id}`)}>{r.identifier?.[0]?.value ?? r.id}</Anchor>
                  </Table.Td>
                  <Table.Td>{patient ? shortName(patient) : r.subject?.display ?? "—"}</Table.Td>
                  <Table.Td>{r.result?.length ?? 0}</Table.Td>
                  <Table.Td>{frenchDateTime(r.meta?.lastUpdated)}</Table.Td>
                  <Table.Td>{REPORT_STATUS[r.status] ?? r.status}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
