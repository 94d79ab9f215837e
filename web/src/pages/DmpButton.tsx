// The DMP button (SGL.DMP.05, SGL.DMP.06): for a patient with a qualified INS, the contextual access to the
// patient's DMP (TD0.9) — GET /fhir/Patient/{id}/$dmp-access?target=patient-file|dashboard answers a Parameters
// with the portal's ``url``, the ``method`` (POST) and one ``field`` per form field (the signed VIHF, the INS,
// the page); the page posts that form into a new window (within the click's user activation: no pop-up blocker;
// noopener: the portal gets no handle on the workbench).
// Offered only to a role the permission table allows (Patient:$dmp-access) and only for a qualified identity
// (the server refuses the others anyway).
import { useState } from "react";
import { Alert, Button, Group } from "@mantine/core";
import { fhir } from "../api";
import { identityStatus, type Patient } from "../identity";
import { can, type Session } from "../session";

type Target = "patient-file" | "dashboard";

interface Part {
  name: string;
  valueUri?: string;
  valueUrl?: string;
  valueString?: string;
  valueCode?: string;
  part?: Part[];
}
interface Answer {
  parameter?: Part[];
}

/** The call to make: where, how, and the form fields (none for a plain GET). */
export function dmpCall(answer: Answer): { url: string; method: string; fields: [string, string][] } | null {
  const params = answer.parameter ?? [];
  const url = params.find((p) => p.name === "url")?.valueUrl ?? params.find((p) => p.name === "url")?.valueUri;
  if (!url || !/^https?:\/\//.test(url)) return null;
  const method = (params.find((p) => p.name === "method")?.valueCode ?? "GET").toUpperCase();
  const fields = params.filter((p) => p.name === "field").map((p): [string, string] => [
    p.part?.find((x) => x.name === "name")?.valueString ?? "", p.part?.find((x) => x.name === "value")?.valueString ?? ""]);
  return { url, method, fields };
}

function post(call: { url: string; fields: [string, string][] }): void {
  const form = document.createElement("form");
  form.method = "post";
  form.action = call.url;
  form.target = "_blank";
  form.setAttribute("rel", "noopener noreferrer");
  for (const [name, value] of call.fields) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
  form.remove();
}

export function DmpButton({ session, patient }: { session: Session; patient: Patient }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<Target | null>(null);
  if (!can(session, "Patient", "$dmp-access") || identityStatus(patient) !== "QUAL") return null;

  async function open(target: Target) {
    setError(null);
    setBusy(target);
    try {
      const answer = await fhir<Answer>(
        `Patient/${encodeURIComponent(patient.id ?? "")}/$dmp-access?target=${target}`);
      const call = dmpCall(answer);
      if (!call) throw new Error("la réponse ne contient pas d'adresse");
      if (call.method === "POST") post(call);
      else window.open(call.url, "_blank", "noopener,noreferrer");
    } catch (e) {
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
