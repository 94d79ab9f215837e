// A dossier's DMP settings (SGL.DMP.02, SGL.DMP.03, SGL.DOC.15), kept on the report as the server reads them
// (server/delivery/dmp_settings.py): masking / visibility as meta.security codings of TRE_A07, the blocking of
// DMP feeding as the DMP_BLOQUE meta.tag with its reason. Saved by a plain update of the report under If-Match
// (a page older than the report is refused by the server, never overwritten). The outbox snapshots them when a
// version is sent: a change applies to the next version of the CR-Bio.
import { useState } from "react";
import { Alert, Button, Checkbox, Group, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { ApiError, fhir, type Coding } from "../api";
import type { DiagnosticReport } from "../reports";

const VISIBILITY = "urn:oid:1.2.250.1.213.1.1.4.13";
const BLOCK = "https://opensgl.org/fhir/CodeSystem/dmp-feeding";
const FLAGS: { code: string; label: string }[] = [
  { code: "MASQUE_PS", label: "Masqué aux professionnels de santé" },
  { code: "INVISIBLE_PATIENT", label: "Non visible par le patient (en attente d'annonce)" },
  { code: "INVISIBLE_REPRESENTANTS_LEGAUX", label: "Non visible par les représentants légaux" },
];

export function dmpSettingsOf(report: DiagnosticReport) {
  const security = report.meta?.security ?? [];
  const flags = new Set(security.filter((s) => s.system === VISIBILITY).map((s) => s.code as string));
  const block = (report.meta?.tag ?? []).find((t) => t.system === BLOCK && t.code === "DMP_BLOQUE");
  return { flags, blocked: Boolean(block), reason: block?.display ?? "" };
}

/** ``onSaved`` gets the report as stored now and what to tell the user (the parent shows it: the form is made
 * again from the new version). */
export function DmpSettings({ report, editable, onSaved }: {
  report: DiagnosticReport; editable: boolean;
  onSaved: (r: DiagnosticReport, outcome: { ok: boolean; message: string }) => void;
}) {
  const current = dmpSettingsOf(report);
  const [flags, setFlags] = useState(current.flags);
  const [blocked, setBlocked] = useState(current.blocked);
  const [reason, setReason] = useState(current.reason);
  const [error, setError] = useState<string | null>(null);
  const [reasonError, setReasonError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function save() {
    setError(null);
    if (blocked && !reason.trim()) {
      setReasonError("Indiquez pourquoi le DMP n'est pas alimenté (par exemple : expertise assurance).");
      return;
    }
    setReasonError(null);
    setBusy(true);
    try {
      const meta = report.meta ?? {};
      const security: Coding[] = [...(meta.security ?? []).filter((s) => s.system !== VISIBILITY),
        ...FLAGS.filter((f) => flags.has(f.code)).map((f) => ({ system: VISIBILITY, code: f.code }))];
      const tag: Coding[] = [...(meta.tag ?? []).filter((t) => !(t.system === BLOCK && t.code === "DMP_BLOQUE")),
        ...(blocked ? [{ system: BLOCK, code: "DMP_BLOQUE", display: reason.trim() }] : [])];
      const body = { ...report, meta: { ...meta, security, tag } };
      const stored = await fhir<DiagnosticReport>(`DiagnosticReport/${encodeURIComponent(report.id ?? "")}`, {
        method: "PUT", body, headers: { "If-Match": `W/"${meta.versionId ?? ""}"` },
      });
      onSaved(stored, { ok: true, message: "Réglages DMP enregistrés." });
    } catch (e) {
      if (e instanceof ApiError && (e.status === 409 || e.status === 412)) {
        onSaved(await fhir<DiagnosticReport>(`DiagnosticReport/${encodeURIComponent(report.id ?? "")}`), {
          ok: false, message: "Ce compte rendu a été modifié depuis que vous l'avez ouvert : les réglages affichés "
            + "ont été relus, refaites votre choix." });
      } else {
        setError(`Enregistrement refusé : ${e instanceof Error ? e.message : String(e)}`);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="dmp-settings-title">
      <Stack gap="xs">
        <Title order={3} size="h4" id="dmp-settings-title">Réglages DMP du dossier</Title>
        {FLAGS.map((f) => (
          <Checkbox key={f.code} label={f.label} checked={flags.has(f.code)} disabled={!editable}
            onChange={(e) => {
              const next = new Set(flags);
              if (e.currentTarget.checked) next.add(f.code); else next.delete(f.code);
              setFlags(next);
            }} />
        ))}
        <Checkbox label="Ne pas alimenter le DMP pour ce dossier" checked={blocked} disabled={!editable}
          onChange={(e) => setBlocked(e.currentTarget.checked)} />
        {blocked && (
          <TextInput label="Motif du blocage" value={reason} maxLength={200} disabled={!editable} error={reasonError}
            onChange={(e) => setReason(e.currentTarget.value)} />
        )}
        <Text size="sm" c="dimmed">
          Ces réglages s'appliquent aux versions du compte rendu envoyées après leur enregistrement.
        </Text>
        {error && <Alert color="red" role="alert">{error}</Alert>}
        {editable && (
          <Group><Button onClick={save} loading={busy}>Enregistrer les réglages DMP</Button></Group>
        )}
      </Stack>
    </Paper>
  );
}
