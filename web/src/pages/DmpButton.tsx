// The DMP button (SGL.DMP.05, SGL.DMP.06): for a patient with a qualified INS, the contextual access to the
// patient's DMP (TD0.9) — GET /fhir/Patient/{id}/$dmp-access?target=patient-file|dashboard answers a Parameters
// holding the URL to open; the page opens it in a new window. Offered only to a role the permission table
// allows (Patient:$dmp-access) and only for a qualified identity (the server refuses the others anyway).
import { useState } from "react";
import { Alert, Button, Group } from "@mantine/core";
import { fhir } from "../api";
import { identityStatus, type Patient } from "../identity";
import { can, type Session } from "../session";

type Target = "patient-file" | "dashboard";

interface Answer {
  parameter?: { name: string; valueUri?: string; valueUrl?: string; valueString?: string }[];
}

export function dmpAccessUrl(answer: Answer): string | null {
  const part = (answer.parameter ?? []).find((p) => p.valueUri ?? p.valueUrl ?? p.valueString);
  const url = part?.valueUri ?? part?.valueUrl ?? part?.valueString ?? null;
  return url && /^https?:\/\//.test(url) ? url : null;
}

export function DmpButton({ session, patient }: { session: Session; patient: Patient }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<Target | null>(null);
  if (!can(session, "Patient", "$dmp-access") || identityStatus(patient) !== "QUAL") return null;

  async function open(target: Target) {
    setError(null);
    setBusy(target);
    const opened = window.open("about:blank", "_blank"); // opened in the click, so no pop-up blocker
    try {
      const answer = await fhir<Answer>(
        `Patient/${encodeURIComponent(patient.id ?? "")}/$dmp-access?target=${target}`);
      const url = dmpAccessUrl(answer);
      if (!url) throw new Error("la réponse ne contient pas d'adresse");
      if (opened) {
        opened.opener = null;
        opened.location.href = url;
      }
    } catch (e) {
      opened?.close();
      setError(`Accès au DMP impossible : ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(null);
    }
  }

  return (
    <Group gap="xs">
      <Button variant="outline" loading={busy === "patient-file"} onClick={() => open("patient-file")}>
        DMP du patient
      </Button>
      <Button variant="subtle" loading={busy === "dashboard"} onClick={() => open("dashboard")}>
        Tableau de bord DMP
      </Button>
      {error && <Alert color="red" role="alert">{error}</Alert>}
    </Group>
  );
}
