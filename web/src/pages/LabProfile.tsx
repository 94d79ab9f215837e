// "Profil du laboratoire" (issue 15 item 9): the texts printed on every CR-Bio — the RGPD patient information
// (SGL.DOC.08), the Cofrac accreditation number (SGL.DOC.10), the autoverification notice (SGL.DOC.09) — read and
// saved through GET/POST /fhir/Organization/$lab-profile (administrators; the server checks each call). The next
// report prints what is saved here; until a first save, the server's profile file applies ("source": environment).
// Also the general setting of SGL.DOC.02: one CR-Bio version, or a patient and a professional one ("versions").
import { useEffect, useState } from "react";
import { Alert, Badge, Button, Group, NativeSelect, Stack, Text, TextInput, Textarea, Title } from "@mantine/core";
import { fhir } from "../api";
import { frenchDateTime } from "../format";
import { fieldOf } from "../forms";

interface Part { name: string; valueString?: string; valueCode?: string; valueInstant?: string }
interface Parameters { resourceType: "Parameters"; parameter?: Part[] }
const EMPTY = { rgpd: "", cofrac_number: "", autoverification: "", versions: "single" };
const VERSIONS = [
  { value: "single", label: "Une seule version" },
  { value: "patient-professional", label: "Deux versions : patient et professionnel de santé" },
];
type Form = typeof EMPTY;

function valueOf(answer: Parameters, name: string): string {
  const part = (answer.parameter ?? []).find((p) => p.name === name);
  return part?.valueString ?? part?.valueCode ?? part?.valueInstant ?? "";
}

export function LabProfileSection() {
  const [form, setForm] = useState<Form | null>(null);
  const [origin, setOrigin] = useState<{ source: string; updated: string; by: string } | null>(null);
  const [errors, setErrors] = useState<Partial<Form>>({});
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);

  function show(answer: Parameters) {
    setForm({ rgpd: valueOf(answer, "rgpd"), cofrac_number: valueOf(answer, "cofrac-number"),
      autoverification: valueOf(answer, "autoverification"), versions: valueOf(answer, "versions") || "single" });
    setOrigin({ source: valueOf(answer, "source"), updated: valueOf(answer, "updated"), by: valueOf(answer, "by") });
  }
  useEffect(() => {
    fhir<Parameters>("Organization/$lab-profile").then(show, (e: Error) => setNotice({ ok: false, text: e.message }));
  }, []);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    if (!form) return;
    setErrors({});
    setNotice(null);
    const texts = [
      { name: "rgpd", valueString: form.rgpd }, { name: "cofrac-number", valueString: form.cofrac_number },
      { name: "autoverification", valueString: form.autoverification }].filter((p) => p.valueString.trim());
    const body = { resourceType: "Parameters",
      parameter: [...texts, { name: "versions", valueCode: form.versions }] };
    try {
      show(await fhir<Parameters>("Organization/$lab-profile", { method: "POST", body }));
      setNotice({ ok: true, text: "Profil enregistré : le prochain compte rendu l'imprimera." });
    } catch (e) {
      const [where, text] = fieldOf(e);
      if (where in EMPTY) setErrors({ [where]: text });
      else setNotice({ ok: false, text });
    }
  }

  const field = (key: keyof Form) => ({
    value: form?.[key] ?? "",
    error: errors[key],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) =>
      setForm({ ...(form ?? EMPTY), [key]: e.currentTarget.value }),
  });

  return (
    <form onSubmit={submit} aria-label="Profil du laboratoire">
      <Stack gap="xs">
        <Title order={3}>Profil du laboratoire</Title>
        {origin && (
          <Text size="sm">
            {origin.source === "stored"
              ? <>Enregistré le {frenchDateTime(origin.updated)} par {origin.by}</>
              : <Badge variant="light">Valeurs du fichier de configuration (jamais modifiées ici)</Badge>}
          </Text>
        )}
        {notice && <Alert color={notice.ok ? "green" : "red"} role={notice.ok ? "status" : "alert"}>{notice.text}</Alert>}
        <Textarea label="Information des patients (RGPD), imprimée sur chaque compte rendu" required autosize minRows={3}
          maxLength={4000} disabled={!form} {...field("rgpd")} />
        <Group align="flex-start">
          <TextInput label="N° d'accréditation Cofrac (vide : non accrédité)" placeholder="8-1234" maxLength={20}
            disabled={!form} {...field("cofrac_number")} />
        </Group>
        <Textarea label="Mention des résultats validés automatiquement" autosize minRows={2} maxLength={1000}
          disabled={!form} {...field("autoverification")} />
        <NativeSelect label="Versions du compte rendu (CDA N3, PDF)" data={VERSIONS} disabled={!form}
          {...field("versions")} />
        <Group><Button type="submit" disabled={!form}>Enregistrer le profil</Button></Group>
      </Stack>
    </form>
  );
}
