// The analysis catalogue and its LOINC codes (SGL.LOI.08, SGL.LOI.09): each analysis with its LOINC code, the
// code's creation and modification dates and who changed it last (the Provenance the server writes); the manual
// edit through $set-loinc under If-Match (a page older than the definition is refused, never overwritten); the
// LOINC_1/2/3 exports and the LOINC_4/5/6 import with its line-numbered report (SGL.LOI.01-03, LOI.10).
import { useCallback, useEffect, useState } from "react";
import {
  Alert, Anchor, Button, FileInput, Group, Loader, Paper, Stack, Table, Text, TextInput, Title,
} from "@mantine/core";
import { ApiError, call, fhir, matches, type Bundle, type Coding, type FhirResource } from "../api";
import { frenchDateTime } from "../format";
import { can, type Session } from "../session";

const LOINC = "http://loinc.org";
const CATALOGUE = "https://opensgl.org/fhir/CodeSystem/catalogue";
const ASSIGNMENT = "https://opensgl.org/fhir/StructureDefinition/loinc-assignment";
const LOINC_CODE = /^\d{1,7}-\d$/;

interface Ext { url: string; extension?: Ext[]; valueDateTime?: string; valueString?: string }
type DatedCoding = Coding & { extension?: Ext[] };
interface Definition extends FhirResource {
  code?: { coding?: DatedCoding[] };
  category?: { coding?: Coding[] }[];
}

interface Row {
  def: Definition;
  local: Coding | undefined;
  loinc: DatedCoding | undefined;
  created?: string;
  modified?: string;
  source?: string;
}

function rowOf(def: Definition): Row {
  const codings = def.code?.coding ?? [];
  const loinc = codings.find((c) => c.system === LOINC);
  const dates: Record<string, string | undefined> = Object.fromEntries((loinc?.extension ?? [])
    .filter((e) => e.url === ASSIGNMENT).flatMap((e) => e.extension ?? [])
    .map((e) => [e.url, e.valueDateTime ?? e.valueString]));
  return { def, local: codings.find((c) => c.system === CATALOGUE), loinc, created: dates.created,
    modified: dates.modified, source: dates.source };
}

/** Who last changed a definition: the agent of its newest Provenance (the server writes one per edit). */
async function lastAuthor(ref: string): Promise<string | null> {
  const bundle = await fhir<Bundle>(`Provenance?target=${encodeURIComponent(ref)}&_sort=-_lastUpdated&_count=1`);
  const prov = matches(bundle)[0] as { agent?: { who?: { display?: string } }[]; recorded?: string } | undefined;
  return prov ? `${prov.agent?.[0]?.who?.display ?? "?"}, le ${frenchDateTime(prov.recorded)}` : null;
}

function Editor({ row, onSaved }: { row: Row; onSaved: () => void }) {
  const [code, setCode] = useState(row.loinc?.code ?? "");
  const [display, setDisplay] = useState(row.loinc?.display ?? "");
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [author, setAuthor] = useState<string | null | undefined>(undefined);
  const ref = `ObservationDefinition/${row.def.id}`;
  useEffect(() => {
    lastAuthor(ref).then(setAuthor, () => setAuthor(null));
  }, [ref]);

  async function save() {
    setError(null);
    if (!LOINC_CODE.test(code.trim())) {
      setFieldError("Un code LOINC s'écrit chiffres, tiret, chiffre de contrôle (par exemple 2345-7).");
      return;
    }
    setFieldError(null);
    setBusy(true);
    try {
      await fhir(`${ref}/$set-loinc`, {
        method: "POST", headers: { "If-Match": `W/"${row.def.meta?.versionId ?? ""}"` },
        body: { resourceType: "Parameters", parameter: [
          { name: "code", valueString: code.trim() }, { name: "display", valueString: display.trim() }] },
      });
      onSaved();
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        setError("Cette analyse a été modifiée depuis que vous l'avez ouverte : la liste a été relue.");
        onSaved();
      } else if (e instanceof ApiError && e.status < 500) {
        setFieldError(e.message);
      } else {
        setError(`Enregistrement refusé : ${e instanceof Error ? e.message : String(e)}`);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" component="section" aria-label={`Code LOINC de ${row.local?.display ?? row.def.id}`}>
      <Stack gap="xs">
        <Title order={3} size="h4">Code LOINC — {row.local?.display} ({row.local?.code})</Title>
        <Text size="sm" data-testid="loinc-dates">
          Créé le {frenchDateTime(row.created)} — modifié le {frenchDateTime(row.modified)}
          {row.source ? ` (origine : ${row.source})` : ""}
        </Text>
        <Text size="sm" data-testid="loinc-author">
          Dernière modification : {author === undefined ? "…" : author ?? "aucune depuis la création du catalogue"}
        </Text>
        <Group align="flex-start">
          <TextInput label="Code LOINC" value={code} maxLength={10} error={fieldError} w={180}
            onChange={(e) => setCode(e.currentTarget.value)} />
          <TextInput label="Libellé LOINC" value={display} maxLength={255} style={{ flex: 1 }}
            onChange={(e) => setDisplay(e.currentTarget.value)} />
        </Group>
        {error && <Alert color="red" role="alert">{error}</Alert>}
        <Group><Button onClick={save} loading={busy}>Enregistrer le code LOINC</Button></Group>
      </Stack>
    </Paper>
  );
}

interface Issue { severity?: string; diagnostics?: string; expression?: string[] }

function Files({ mayImport }: { mayImport: boolean }) {
  const [file, setFile] = useState<File | null>(null);
  const [issues, setIssues] = useState<Issue[] | null>(null);
  const [summary, setSummary] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function download(kind: string) {
    const answer = await call(`/fhir/CodeSystem/$loinc-export?file=${kind}`);
    const name = /filename="([^"]+)"/.exec(answer.headers.get("Content-Disposition") ?? "")?.[1] ?? `${kind}.csv`;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await answer.blob());
    link.download = name;
    link.click();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  async function upload() {
    if (!file) return;
    setBusy(true);
    setIssues(null);
    setSummary(null);
    try {
      const answer = await call(`/fhir/ConceptMap/$loinc-import?file=${encodeURIComponent(file.name)}`, {
        method: "POST", raw: file, headers: { "Content-Type": "text/csv" } });
      const outcome = (await answer.json()) as { issue?: Issue[] };
      setIssues(outcome.issue ?? []);
      setSummary({ ok: true, text: "Import appliqué." });
    } catch (e) {
      const outcome = e instanceof ApiError ? (e.outcome as { issue?: Issue[] } | null) : null;
      setIssues(outcome?.issue ?? []);
      setSummary({ ok: false, text: `Import refusé, rien n'a été modifié : ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="loinc-files-title">
      <Stack gap="xs">
        <Title order={3} size="h4" id="loinc-files-title">Fichiers LOINC</Title>
        <Group>
          {["LOINC_1", "LOINC_2", "LOINC_3"].map((k) => (
            <Button key={k} variant="default" onClick={() => void download(k)}>Exporter {k}</Button>
          ))}
        </Group>
        {mayImport && (
          <Group align="flex-end">
            <FileInput label="Fichier de transcodage (LOINC_4, LOINC_5 ou LOINC_6)" accept=".csv,text/csv"
              value={file} onChange={setFile} w={420} />
            <Button onClick={upload} loading={busy} disabled={!file}>Importer</Button>
          </Group>
        )}
        {summary && <Alert color={summary.ok ? "green" : "red"} role={summary.ok ? "status" : "alert"}>{summary.text}</Alert>}
        {issues && issues.length > 0 && (
          <Table aria-label="Rapport d'import" striped>
            <Table.Thead>
              <Table.Tr><Table.Th>Gravité</Table.Th><Table.Th>Ligne / champ</Table.Th><Table.Th>Message</Table.Th></Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {issues.map((i, n) => (
                <Table.Tr key={n}>
                  <Table.Td>{i.severity === "error" || i.severity === "fatal" ? "Bloquant" : i.severity === "warning" ? "Avertissement" : "Information"}</Table.Td>
                  <Table.Td>{(i.expression ?? []).join(", ") || "—"}</Table.Td>
                  <Table.Td>{i.diagnostics}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Paper>
  );
}

export function CataloguePage({ session }: { session: Session }) {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const mayEdit = can(session, "ObservationDefinition", "$set-loinc");
  const load = useCallback(() => fhir<Bundle>("ObservationDefinition?_count=500").then(
    (b) => setRows(matches(b).map((d) => rowOf(d as Definition))
      .sort((a, z) => (a.local?.code ?? "").localeCompare(z.local?.code ?? ""))),
    (e: Error) => setError(e.message)), []);
  useEffect(() => {
    void load();
  }, [load]);
  if (error) return <Alert color="red" role="alert">{error}</Alert>;
  if (!rows) return <Loader aria-label="Chargement du catalogue" />;
  const editing = rows.find((r) => r.def.id === open);
  return (
    <Stack>
      <Title order={2}>Catalogue et codes LOINC</Title>
      <Table aria-label="Analyses du catalogue" striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Code</Table.Th><Table.Th>Analyse</Table.Th><Table.Th>Chapitre</Table.Th>
            <Table.Th>Code LOINC</Table.Th><Table.Th>Libellé LOINC</Table.Th><Table.Th>Créé le</Table.Th>
            <Table.Th>Modifié le</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr key={r.def.id} data-testid={`analysis-${r.local?.code}`}>
              <Table.Td>
                <Anchor component="button" type="button" onClick={() => setOpen(r.def.id ?? null)}
                  aria-label={`${r.local?.code} — ${mayEdit ? "modifier" : "voir"} le code LOINC de ${r.local?.display ?? ""}`}>
                  {r.local?.code}
                </Anchor>
              </Table.Td>
              <Table.Td>{r.local?.display}</Table.Td>
              <Table.Td>{r.def.category?.[0]?.coding?.[0]?.display ?? "—"}</Table.Td>
              <Table.Td data-testid="loinc">{r.loinc?.code ?? "—"}</Table.Td>
              <Table.Td>{r.loinc?.display ?? "—"}</Table.Td>
              <Table.Td>{frenchDateTime(r.created)}</Table.Td>
              <Table.Td>{frenchDateTime(r.modified)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {editing && (mayEdit ? <Editor key={`${editing.def.id}-${editing.def.meta?.versionId}`} row={editing}
        onSaved={() => void load()} /> : (
        <Text size="sm" data-testid="loinc-dates">
          {editing.local?.display} : LOINC {editing.loinc?.code ?? "—"}, créé le {frenchDateTime(editing.created)},
          modifié le {frenchDateTime(editing.modified)}
        </Text>
      ))}
      <Files mayImport={can(session, "ConceptMap", "$loinc-import")} />
    </Stack>
  );
}
