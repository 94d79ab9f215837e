// Technical validation at the bench: the results received from the analyzers and not yet technically
// validated (Observation preliminary without the "technical" step tag), oldest first, with their count;
// each validated through the FHIR operation $validate-technical (flags and delta check computed there).
// The server selects them (_tag:not) and counts them all (_total=accurate): the badge is the true number
// waiting, not the rows of the page; "Suivants" follows the Bundle's next link (keyset cursor).
import { useRef, useState } from "react";
import { Alert, Badge, Button, Group, Loader, Stack, Table, Text, Title, VisuallyHidden } from "@mantine/core";
import { fhir, included, matches, type Bundle } from "../api";
import { frenchDateTime } from "../format";
import { shortName, type Patient } from "../identity";
import { analysisName, catalogueCode, steps, valueText, type Observation } from "../results";
import { usePolling, worklistChanged } from "./Worklist";

const STEP_SYSTEM = "https://opensgl.org/fhir/CodeSystem/validation-step";
/** The same search as the live count of $worklist-events (server/worklist_events.py). */
const RECEIVED = "Observation?status=preliminary&_tag:not=" + encodeURIComponent(`${STEP_SYSTEM}|technical`)
  + "&_include=Observation:subject&_count=50&_sort=date&_total=accurate";

/** The cursor of a Bundle's next page, if it has one. */
function nextCursor(bundle: Bundle): string | null {
  const next = bundle.link?.find((l) => l.relation === "next");
  return next ? new URL(next.url, window.location.href).searchParams.get("_cursor") : null;
}

export function BenchPage() {
  const cursor = useRef<string | null>(null);  // null: the first page (the polling reads the current one)
  const [bundle, error] = usePolling(() => fhir<Bundle>(
    cursor.current ? `${RECEIVED}&_cursor=${encodeURIComponent(cursor.current)}` : RECEIVED));
  const [names] = usePolling(analysisName);
  const [busy, setBusy] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [done, setDone] = useState<string[]>([]);

  if (error) return <Alert color="red" role="alert">{error}</Alert>;
  if (!bundle || !names) return <Loader aria-label="Chargement de la liste" />;
  const patients = included(bundle);
  const waiting = (matches(bundle) as Observation[])
    .filter((o) => !steps(o).includes("technical") && !done.includes(o.id ?? ""));
  const total = bundle.total ?? waiting.length;
  const next = nextCursor(bundle);

  function turn(to: string | null) {
    cursor.current = to;
    worklistChanged();  // the polling reads the page at once
  }

  async function validate(o: Observation) {
    setBusy(o.id ?? null);
    setFailure(null);
    try {
      await fhir(`Observation/${encodeURIComponent(o.id ?? "")}/$validate-technical`, {
        method: "POST", body: { resourceType: "Parameters", parameter: [] },
      });
      setDone((d) => [...d, o.id ?? ""]);
      worklistChanged();
    } catch (e) {
      setFailure(`Validation technique refusée : ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(null);
    }
  }

  return (
    <Stack>
      <Group>
        <Title order={2}>Validation technique</Title>
        <Badge size="lg" data-testid="bench-count">{total} à valider</Badge>
      </Group>
      {failure && <Alert color="red" role="alert">{failure}</Alert>}
      {waiting.length === 0 && total === 0 ? (
        <Text>Aucun résultat n'attend de validation technique.</Text>
      ) : (
        <Table striped aria-label="Résultats à valider techniquement">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Patient</Table.Th><Table.Th>Analyse</Table.Th><Table.Th>Résultat</Table.Th>
              <Table.Th>Prélevé le</Table.Th><Table.Th><VisuallyHidden>Action</VisuallyHidden></Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {waiting.map((o) => {
              const patient = patients.get(o.subject?.reference ?? "") as Patient | undefined;
              const code = catalogueCode(o)?.code ?? "";
              const name = names.get(code) ?? code;
              return (
                <Table.Tr key={o.id} data-testid={`bench-${code}`}>
                  <Table.Td>{patient ? shortName(patient) : "—"}</Table.Td>
                  <Table.Td>{name}</Table.Td>
                  <Table.Td>{valueText(o)}</Table.Td>
                  <Table.Td>{frenchDateTime(o.effectiveDateTime)}</Table.Td>
                  <Table.Td>
                    <Button size="xs" loading={busy === o.id} onClick={() => validate(o)}
                      aria-label={`Valider techniquement ${name}`}>Valider</Button>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
      {(next || cursor.current) && (
        <Group>
          {cursor.current && <Button variant="default" onClick={() => turn(null)}>Premiers résultats</Button>}
          {next && <Button variant="default" onClick={() => turn(next)}>Suivants</Button>}
        </Group>
      )}
    </Stack>
  );
}
