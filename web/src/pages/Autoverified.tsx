// Results validated by autoverification and not yet reviewed by a biologist (issue 15 item 10): the reports the
// server tagged `autoverified` (server/validation/autoverify.py: every result of the order passed the lab's rules;
// a biologist's review removes the tag), newest first, with their count, the results and their values, when and
// by which rules file (the Provenance `autoverification` the server wrote). **Revoir** is the biologist's review:
// $validate-biological on the report, which keeps the results and signs them; the report then leaves this list.
import { useState } from "react";
import { Alert, Badge, Button, Group, Loader, Stack, Table, Text, Title } from "@mantine/core";
import { fhir, included, matches, type Bundle, type FhirResource } from "../api";
import { frenchDateTime } from "../format";
import type { Patient } from "../identity";
import { analysisName, catalogueCode, valueText, type Observation } from "../results";
import { requestNumber, type DiagnosticReport } from "../reports";
import { ReportRow } from "./ReportRow";
import { usePolling, worklistChanged } from "./Worklist";

const STEP = "https://opensgl.org/fhir/CodeSystem/validation-step";
export const AUTOVERIFIED = `DiagnosticReport?_tag=${encodeURIComponent(`${STEP}|autoverified`)}`;

interface Provenance extends FhirResource {
  recorded?: string;
  activity?: { coding?: { code?: string }[] };
  agent?: { who?: { display?: string } }[];
}
interface Row { report: DiagnosticReport; patient?: Patient; results: Observation[]; rule: string; when?: string }

async function load(): Promise<{ total: number; rows: Row[] }> {
  const bundle = await fhir<Bundle>(`${AUTOVERIFIED}&_include=DiagnosticReport:subject`
    + "&_include=DiagnosticReport:result&_sort=-issued&_total=accurate&_count=100");
  const found = included(bundle);
  const names = await analysisName();
  const rows = await Promise.all((matches(bundle) as DiagnosticReport[]).map(async (report) => {
    const trail = matches(await fhir<Bundle>(`Provenance?target=DiagnosticReport/${report.id}&_count=50`)) as Provenance[];
    const fired = trail.filter((p) => p.activity?.coding?.some((c) => c.code === "autoverification"))
      .sort((a, z) => (z.recorded ?? "").localeCompare(a.recorded ?? ""))[0];
    const results = (report.result ?? []).map((r) => found.get(r.reference ?? "") as Observation | undefined)
      .filter((o): o is Observation => Boolean(o))
      .map((o) => ({ ...o, code: { ...o.code, text: names.get(catalogueCode(o)?.code ?? "") ?? o.code.text } }));
    return { report, patient: found.get(report.subject?.reference ?? "") as Patient | undefined, results,
      rule: fired?.agent?.[0]?.who?.display ?? "règles d'autovalidation", when: fired?.recorded ?? report.issued };
  }));
  return { total: bundle.total ?? rows.length, rows };
}

export function AutoverifiedPage() {
  const [data, error] = usePolling(load);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  if (error) return <Alert color="red" role="alert">{error}</Alert>;
  if (!data) return <Loader aria-label="Chargement de la liste" />;

  async function review(report: DiagnosticReport) {
    const name = requestNumber(report);
    setBusy(report.id ?? "");
    setMessage(null);
    try {
      await fhir(`DiagnosticReport/${encodeURIComponent(report.id ?? "")}/$validate-biological`, {
        method: "POST", body: { resourceType: "Parameters", parameter: [] } });
      setMessage({ ok: true, text: `Compte rendu ${name} revu et validé biologiquement.` });
    } catch (e) {
      setMessage({ ok: false, text: `Revue refusée pour ${name} : ${(e as Error).message}` });
    } finally {
      setBusy(null);
      worklistChanged();
    }
  }

  return (
    <Stack>
      <Group>
        <Title order={2}>Résultats autovalidés</Title>
        <Badge size="lg" data-testid="autoverified-count">{data.total} à revoir</Badge>
      </Group>
      <Text size="sm">
        Comptes rendus validés automatiquement (chaque résultat remplit les règles d'autovalidation du laboratoire :
        analyse autorisée, âge du patient, interprétation normale, aucun drapeau de l'automate ni commentaire), en
        attente de la revue d'un biologiste. Ils sont déjà diffusés avec la mention « validé automatiquement ».
      </Text>
      {message && <Alert variant="outline" color={message.ok ? "teal.9" : "red.9"} role="status">{message.text}</Alert>}
      {data.rows.length === 0 ? <Text>Aucun résultat autovalidé n'attend de revue.</Text> : (
        <Table striped aria-label="Comptes rendus autovalidés à revoir">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Demande</Table.Th><Table.Th>Patient</Table.Th><Table.Th>Résultats</Table.Th>
              <Table.Th>Autovalidé le</Table.Th><Table.Th>Règle appliquée</Table.Th><Table.Th>Revue</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.rows.map(({ report, patient, results, rule, when }) => (
              <ReportRow key={report.id} report={report} patient={patient} href={`/validation/${report.id}`}>
                <Table.Td>{results.map((o) => `${o.code.text ?? catalogueCode(o)?.code ?? "?"} ${valueText(o)}`).join(" ; ")}</Table.Td>
                <Table.Td>{frenchDateTime(when)}</Table.Td>
                <Table.Td data-testid="autoverified-rule">{rule}</Table.Td>
                <Table.Td>
                  <Button size="xs" onClick={() => review(report)} loading={busy === report.id}
                    aria-label={`Revoir et valider ${requestNumber(report)}`}>Revoir et valider</Button>
                </Table.Td>
              </ReportRow>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
