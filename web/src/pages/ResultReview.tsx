// The review panel of one result (issue 15 item 10): who entered and changed it and how (the Provenance the
// server writes at each step: technical validation, rerun, biological validation, autoverification with its
// rule, correction with its reason), the analyzer, every stored version (value, state, when), the notes, and a
// trend chart of the patient's earlier values for that analysis. With it, the two actions on one result: rerun
// (a new measurement, with its reason: $rerun) before validation, and correction with its reason ($correct)
// after. Offered only to the roles the permission table allows.
import { useEffect, useState } from "react";
import { Alert, Button, Group, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { fhir, matches, type Bundle, type FhirResource } from "../api";
import { frenchDate, frenchDateTime, frenchNumber } from "../format";
import { catalogueCode, professionalOnly, valueText, type Observation } from "../results";
import { can, type Session } from "../session";

const ACTIVITIES: Record<string, string> = {
  "technical-validation": "Validation technique",
  rerun: "Nouvelle mesure (repasse)",
  "biological-validation": "Validation biologique",
  "biological-review": "Revue biologique d'un résultat validé automatiquement",
  autoverification: "Validation automatique",
  correction: "Correction",
  CREATE: "Saisie / réception",
  UPDATE: "Modification",
};

interface Provenance extends FhirResource {
  recorded?: string;
  activity?: { coding?: { code?: string; display?: string }[] };
  reason?: { text?: string }[];
  agent?: { who?: { display?: string; identifier?: { value?: string } } }[];
}

interface Review {
  trail: Provenance[];
  versions: Observation[];
  earlier: Observation[];
  device: string | null;
}

async function loadReview(o: Observation): Promise<Review> {
  const code = catalogueCode(o);
  const earlier = code?.code && o.subject?.reference ? fhir<Bundle<Observation>>(`Observation?${new URLSearchParams({
    subject: o.subject.reference, code: `${code.system ?? ""}|${code.code}`, status: "final,corrected,amended",
    _sort: "-date", _count: "20" })}`).then(matches) : Promise.resolve([] as Observation[]);
  const device = (o.device as { reference?: string; display?: string } | undefined);
  const [trail, history, past, dev] = await Promise.all([
    fhir<Bundle>(`Provenance?target=Observation/${o.id}&_count=50`).then((b) => matches(b) as Provenance[]),
    fhir<Bundle<Observation>>(`Observation/${o.id}/_history?_count=50`).then((b) => (b.entry ?? []).map((e) => e.resource)),
    earlier,
    device?.reference ? fhir<FhirResource>(device.reference).then(
      (d) => ((d.deviceName as { name?: string }[] | undefined)?.[0]?.name ?? device.reference ?? null),
      () => device.reference ?? null) : Promise.resolve(device?.display ?? null),
  ]);
  trail.sort((a, z) => (a.recorded ?? "").localeCompare(z.recorded ?? ""));
  history.sort((a, z) => Number(a.meta?.versionId ?? 0) - Number(z.meta?.versionId ?? 0));
  return { trail, versions: history, earlier: past.filter((p) => p.id !== o.id).reverse(), device: dev };
}

/** The earlier values and this one as a small line chart (SVG, labelled; the values are in the table too). */
function Trend({ points, unit }: { points: { when: string; value: number }[]; unit: string }) {
  if (points.length < 2) return <Text size="sm">Pas assez de résultats antérieurs pour une courbe.</Text>;
  const w = 420, h = 120, pad = 28;
  const values = points.map((p) => p.value);
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  const x = (i: number) => pad + (i * (w - 2 * pad)) / (points.length - 1);
  const y = (v: number) => h - pad - ((v - lo) * (h - 2 * pad)) / span;
  const label = points.map((p) => `${frenchDate(p.when)} : ${frenchNumber(p.value)} ${unit}`).join(" ; ");
  return (
    <svg role="img" aria-label={`Évolution : ${label}`} width={w} height={h} data-testid="trend">
      <polyline fill="none" stroke="#1c4e80" strokeWidth={2}
        points={points.map((p, i) => `${x(i)},${y(p.value)}`).join(" ")} />
      {points.map((p, i) => (
        <g key={i}>
          <circle cx={x(i)} cy={y(p.value)} r={4} fill="#1c4e80" />
          <text x={x(i)} y={y(p.value) - 8} fontSize={11} textAnchor="middle" fill="#222">{frenchNumber(p.value)}</text>
          <text x={x(i)} y={h - 6} fontSize={10} textAnchor="middle" fill="#444">{frenchDate(p.when).slice(0, 5)}</text>
        </g>
      ))}
    </svg>
  );
}

export function ResultReview({ session, observation, reportId, name, onChanged }: {
  session: Session; observation: Observation; reportId: string; name: string; onChanged: () => void;
}) {
  const [review, setReview] = useState<Review | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const [value, setValue] = useState("");
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    loadReview(observation).then(setReview, (e: Error) => setError(e.message));
  }, [observation]);

  const validated = ["final", "corrected", "amended"].includes(observation.status);
  const mayRerun = can(session, "Observation", "$rerun") && ["registered", "preliminary"].includes(observation.status);
  const mayCorrect = can(session, "DiagnosticReport", "$correct") && validated && Boolean(observation.valueQuantity);

  async function act(kind: "rerun" | "correct") {
    setError(null);
    if (!reason.trim()) {
      setFieldError("Le motif est obligatoire.");
      return;
    }
    const number = Number(value.replace(",", "."));
    if (kind === "correct" && (!value.trim() || Number.isNaN(number))) {
      setFieldError("Saisissez la nouvelle valeur (un nombre, virgule décimale).");
      return;
    }
    setFieldError(null);
    setBusy(true);
    try {
      if (kind === "rerun") {
        await fhir(`Observation/${observation.id}/$rerun`, { method: "POST", body: { resourceType: "Parameters",
          parameter: [{ name: "reason", valueString: reason.trim() }] } });
      } else {
        const q = observation.valueQuantity ?? {};
        await fhir(`DiagnosticReport/${encodeURIComponent(reportId)}/$correct`, { method: "POST", body: {
          resourceType: "Parameters", parameter: [
            { name: "observation", valueReference: { reference: `Observation/${observation.id}` } },
            { name: "value", valueQuantity: { ...q, value: number, comparator: undefined } },
            { name: "reason", valueString: reason.trim() }] } });
      }
      onChanged();
    } catch (e) {
      setError(`${kind === "rerun" ? "Repasse" : "Correction"} refusée : ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  }

  const points = review ? [...review.earlier, ...(validated ? [] : [observation])]
    .filter((o) => o.valueQuantity?.value !== undefined && o.effectiveDateTime)
    .map((o) => ({ when: o.effectiveDateTime as string, value: o.valueQuantity?.value as number })) : [];
  if (review && validated && observation.valueQuantity?.value !== undefined && observation.effectiveDateTime
    && !review.earlier.some((e) => e.id === observation.id)) {
    points.push({ when: observation.effectiveDateTime, value: observation.valueQuantity.value });
  }

  return (
    <Paper withBorder p="md" component="section" aria-label={`Détails du résultat ${name}`}>
      <Stack gap="xs">
        <Title order={3} size="h4">{name} : {valueText(observation)}</Title>
        {error && <Alert color="red" role="alert">{error}</Alert>}
        {!review ? <Text size="sm">Chargement…</Text> : (
          <>
            <Text size="sm" data-testid="analyzer">Automate : {review.device ?? "non renseigné (saisie manuelle)"}</Text>
            <Table aria-label="Qui a fait quoi" striped>
              <Table.Thead>
                <Table.Tr><Table.Th>Quand</Table.Th><Table.Th>Étape</Table.Th><Table.Th>Par</Table.Th><Table.Th>Motif / règle</Table.Th></Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {review.trail.map((p) => {
                  const code = p.activity?.coding?.[0]?.code ?? "";
                  return (
                    <Table.Tr key={p.id}>
                      <Table.Td>{frenchDateTime(p.recorded)}</Table.Td>
                      <Table.Td>{ACTIVITIES[code] ?? p.activity?.coding?.[0]?.display ?? code}</Table.Td>
                      <Table.Td>{p.agent?.map((a) => a.who?.display ?? a.who?.identifier?.value).filter(Boolean).join(", ") || "—"}</Table.Td>
                      <Table.Td>{p.reason?.map((r) => r.text).filter(Boolean).join(" ; ") || "—"}</Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
            <Table aria-label="Versions du résultat" striped>
              <Table.Thead>
                <Table.Tr><Table.Th>Version</Table.Th><Table.Th>Valeur</Table.Th><Table.Th>État</Table.Th><Table.Th>Enregistrée le</Table.Th></Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {review.versions.map((v) => (
                  <Table.Tr key={v.meta?.versionId}>
                    <Table.Td>{v.meta?.versionId}</Table.Td><Table.Td>{valueText(v)}</Table.Td>
                    <Table.Td>{v.status}</Table.Td><Table.Td>{frenchDateTime(v.meta?.lastUpdated)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            {(observation.note ?? []).map((n, i) => (
              <Text key={i} size="sm">
                Note : {n.text}{professionalOnly(n) ? " (réservée aux professionnels de santé)" : ""}
              </Text>
            ))}
            <Title order={4} size="h5">Résultats antérieurs</Title>
            <Trend points={points} unit={observation.valueQuantity?.unit ?? ""} />
          </>
        )}
        {(mayRerun || mayCorrect) && (
          <Group align="flex-end">
            {mayCorrect && (
              <TextInput label="Nouvelle valeur" value={value} w={140} onChange={(e) => setValue(e.currentTarget.value)} />
            )}
            <TextInput label="Motif" value={reason} maxLength={500} error={fieldError} style={{ flex: 1 }}
              onChange={(e) => setReason(e.currentTarget.value)} />
            {mayRerun && <Button variant="outline" loading={busy} onClick={() => void act("rerun")}>Repasser</Button>}
            {mayCorrect && <Button color="red.9" loading={busy} onClick={() => void act("correct")}>Corriger</Button>}
          </Group>
        )}
      </Stack>
    </Paper>
  );
}
