// Technical validation at the bench: the results received from the analyzers and not yet technically
// validated (Observation preliminary without the "technical" step tag), oldest first, with their count;
// each validated through the FHIR operation $validate-technical (flags and delta check computed there).
// The server selects them (_tag:not); the badge is the true number waiting, not the rows of the page: the live
// stream's "received" count (the same search, counted by the server's poller) when the session has the stream,
// else the search's own count (_total=accurate, which reads every waiting result once more). "Suivants"
// follows the Bundle's next link (keyset cursor).
// Speed (bench/web.py): the login starts the list's first search and the catalogue names (prefetchBench)
// before the shell is drawn, and each row's button is a plain <button> (a Mantine Button per row cost more
// script time than the rest of the row).
import { memo, useCallback, useMemo, useRef, useState } from "react";
import { Alert, Badge, Button, Group, Loader, Stack, Table, Text, Title, VisuallyHidden } from "@mantine/core";
import type { WorklistCounts } from "../live";
import { fhir, included, matches, type Bundle, type FhirResource } from "../api";
import { frenchDateTime } from "../format";
import { shortName, type Patient } from "../identity";
import { analysisName, catalogueCode, steps, valueText, type Observation } from "../results";
import { usePolling, worklistChanged } from "./Worklist";

const STEP_SYSTEM = "https://opensgl.org/fhir/CodeSystem/validation-step";
const LABORATORY = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
/** The same search as the live count of $worklist-events (server/worklist_events.py): laboratory results only
 * (an order's clinical information, weight or pregnancy, may be preliminary too and is not the bench's). */
const RECEIVED = "Observation?status=preliminary&category=" + encodeURIComponent(LABORATORY)
  + "&_tag:not=" + encodeURIComponent(`${STEP_SYSTEM}|technical`) + "&_include=Observation:subject&_count=50&_sort=date";
const search = (streamed: boolean) => (streamed ? RECEIVED : `${RECEIVED}&_total=accurate`);

let early: { url: string; answer: Promise<Bundle> } | null = null;
/** Called when the login answers and the user lands on this list: its first search and the analysis names
 * start now, not after the shell is drawn. The page's first read takes the answer; later reads ask again. */
export function prefetchBench(streamed: boolean): Promise<unknown> {
  const url = search(streamed);
  early = { url, answer: fhir<Bundle>(url) };
  early.answer.catch(() => undefined);  // the page's read reports a failure
  return Promise.all([early.answer, analysisName()]);
}

function read(url: string): Promise<Bundle> {
  const prefetched = early?.url === url ? early.answer : null;
  early = null;
  return prefetched ?? fhir<Bundle>(url);
}

/** The cursor of a Bundle's next page, if it has one. */
function nextCursor(bundle: Bundle): string | null {
  const next = bundle.link?.find((l) => l.relation === "next");
  return next ? new URL(next.url, window.location.href).searchParams.get("_cursor") : null;
}

/** ``streamed``: the session has the live stream, whose ``live`` counts give the badge (null until the first). */
export function BenchPage({ streamed, live }: { streamed: boolean; live: WorklistCounts | null }) {
  const cursor = useRef<string | null>(null);  // null: the first page (the polling reads the current one)
  const [bundle, error] = usePolling(() => read(
    cursor.current ? `${search(streamed)}&_cursor=${encodeURIComponent(cursor.current)}` : search(streamed)));
  const [names] = usePolling(analysisName);
  const [busy, setBusy] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [done, setDone] = useState<string[]>([]);
  const patients = useMemo(() => (bundle ? included(bundle) : new Map<string, FhirResource>()), [bundle]);
  const waiting = useMemo(() => (bundle ? matches(bundle) as Observation[] : [])
    .filter((o) => !steps(o).includes("technical") && !done.includes(o.id ?? "")), [bundle, done]);

  const validate = useCallback(async (o: Observation) => {
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
  }, []);

  if (error) return <Alert color="red" role="alert">{error}</Alert>;
  if (!bundle || !names) return <Loader aria-label="Chargement de la liste" />;
  const next = nextCursor(bundle);
  const total = streamed ? live?.received : bundle.total ?? waiting.length;

  function turn(to: string | null) {
    cursor.current = to;
    worklistChanged();  // the polling reads the page at once
  }

  return (
    <Stack>
      <Group>
        <Title order={2}>Validation technique</Title>
        <Badge size="lg" data-testid="bench-count">{total ?? "…"} à valider</Badge>
      </Group>
      {failure && <Alert color="red" role="alert">{failure}</Alert>}
      {waiting.length === 0 && !next && !total ? (
        <Text>Aucun résultat n'attend de validation technique.</Text>
      ) : (
        <Rows waiting={waiting} patients={patients} names={names} busy={busy} validate={validate} />
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

interface RowsProps {
  waiting: Observation[];
  patients: Map<string, FhirResource>;
  names: Map<string, string>;
  busy: string | null;
  validate: (o: Observation) => void;
}

/** The table, drawn again only when its rows change: not when the live count (the badge) moves. */
const Rows = memo(function Rows({ waiting, patients, names, busy, validate }: RowsProps) {
  return (
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
                <button type="button" className="sgl-row-action" disabled={busy === o.id}
                  aria-busy={busy === o.id} onClick={() => validate(o)}
                  aria-label={`Valider techniquement ${name}`}>{busy === o.id ? "Validation…" : "Valider"}</button>
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
});
