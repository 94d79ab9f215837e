// The delivery dashboards (SGL.TBB.01-03) from GET /fhir/$delivery-dashboard: the server's own ";" extract
// (French column labels, decimal comma) shown as a table turned on its side — one line per measure, one column
// per period and FINESS (its total line; the per-biologist lines are in the file) — and the same file to
// download. Offered to the roles holding $delivery-dashboard.
import { useEffect, useState } from "react";
import { Alert, Button, Group, Loader, SegmentedControl, Stack, Table, Text, Title } from "@mantine/core";
import { call } from "../api";

/** A ";" CSV as the server writes it (quotes doubled inside quoted cells, CRLF, BOM). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  const body = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i];
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') { cell += '"'; i += 1; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ";") { row.push(cell); cell = ""; } else if (c === "\n" || c === "\r") {
      if (c === "\r" && body[i + 1] === "\n") i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

const PERIODS = [{ value: "mois", label: "Ce mois" }, { value: "annee", label: "Cette année" },
  { value: "annee-precedente", label: "Année précédente" }];

export function DashboardPage() {
  const [period, setPeriod] = useState("mois");
  const [file, setFile] = useState<{ rows: string[][]; blob: Blob; name: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setFile(null);
    call(`/fhir/$delivery-dashboard?period=${period}&_format=csv`).then(async (answer) => {
      const blob = await answer.blob();
      const name = /filename="([^"]+)"/.exec(answer.headers.get("Content-Disposition") ?? "")?.[1] ?? "tableau-de-bord.csv";
      setFile({ rows: parseCsv(await blob.text()), blob, name });
    }, (e: Error) => setError(e.message));
  }, [period]);

  function download() {
    if (!file) return;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(file.blob);
    link.download = file.name;
    link.click();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  if (error) return <Alert color="red" role="alert">{error}</Alert>;
  const [head, ...lines] = file?.rows ?? [[]];
  const rpps = head.indexOf("RPPS");
  const totals = lines.filter((l) => l.length === head.length && l[rpps] === "tous");
  return (
    <Stack>
      <Title order={2}>Tableau de bord des envois</Title>
      <Group>
        <SegmentedControl aria-label="Période" value={period} onChange={setPeriod} data={PERIODS} />
        <Button variant="default" onClick={download} disabled={!file}>Télécharger (CSV)</Button>
      </Group>
      {!file ? <Loader aria-label="Chargement du tableau de bord" /> : totals.length === 0 ? (
        <Text>Aucun compte rendu sur cette période.</Text>
      ) : (
        <Table aria-label="Tableau de bord des envois" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Mesure</Table.Th>
              {totals.map((t, i) => <Table.Th key={i}>{t[0]} — FINESS {t[3]}</Table.Th>)}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {head.map((label, col) => col < 5 ? null : (
              <Table.Tr key={label} data-testid={`measure-${col}`}>
                <Table.Td>{label}</Table.Td>
                {totals.map((t, i) => <Table.Td key={i}>{t[col] || "—"}</Table.Td>)}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
