// The validated reports (CR-Bio made or being made), newest first: the way in to a report's documents and
// deliveries for the people who send and answer for them (secretaries, biologists).
import { useEffect, useState } from "react";
import { Alert, Loader, Stack, Table, Text, Title } from "@mantine/core";
import { fhir, included, matches, type Bundle } from "../api";
import { frenchDateTime } from "../format";
import type { Patient } from "../identity";
import { REPORT_STATUS, type DiagnosticReport } from "../reports";
import { ReportRow } from "./ReportRow";

export const DOCUMENTED = "DiagnosticReport?status=preliminary,final,corrected,amended";

export function ReportsPage() {
  const [bundle, setBundle] = useState<Bundle | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    fhir<Bundle>(`${DOCUMENTED}&_include=DiagnosticReport:subject&_sort=-_lastUpdated&_count=100`)
      .then(setBundle, (e: Error) => setError(e.message));
  }, []);
  if (error) return <Alert color="red" role="alert">{error}</Alert>;
  if (!bundle) return <Loader aria-label="Chargement de la liste" />;
  const reports = matches(bundle) as DiagnosticReport[];
  const patients = included(bundle);
  return (
    <Stack>
      <Title order={2}>Comptes rendus et diffusion</Title>
      {reports.length === 0 ? <Text>Aucun compte rendu validé.</Text> : (
        <Table striped highlightOnHover aria-label="Comptes rendus validés">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Demande</Table.Th><Table.Th>Patient</Table.Th><Table.Th>État</Table.Th>
              <Table.Th>Mis à jour</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {reports.map((r) => (
              <ReportRow key={r.id} report={r} href={`/comptes-rendus/${r.id}`}
                patient={patients.get(r.subject?.reference ?? "") as Patient | undefined}>
                <Table.Td>{REPORT_STATUS[r.status] ?? r.status}</Table.Td>
                <Table.Td>{frenchDateTime(r.meta?.lastUpdated)}</Table.Td>
              </ReportRow>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
