// A partner's identifier-type mappings (PID-3 / MRG-1 types read as another, e.g. MR=PI: its MR is the IPP) and
// parsing options (test_code=auto|primary|alternate), edited from the Administration screen through
// POST /fhir/Endpoint/{name}/$set-mappings, on the version the page read (If-Match): a change made meanwhile
// by someone else is refused (412) rather than overwritten. The server checks the values as at registration;
// its refusal is shown next to the field it names.
import { useState } from "react";
import { Button, Group, Text, TextInput } from "@mantine/core";
import { ApiError, fhir, type FhirResource } from "../api";
import { fieldOf, useFields } from "../forms";

const PARTNER_URL = "urn:opensgl:StructureDefinition/partner-";
/** The field an OperationOutcome's expression names (the registration's checks say identifier_type / option). */
const FIELD: Record<string, "identifier_types" | "options"> = {
  identifier_type: "identifier_types", identifier_types: "identifier_types", option: "options", options: "options",
};

function pairs(partner: FhirResource, key: string): string {
  return ((partner.extension as { url: string; valueString?: string }[] | undefined) ?? [])
    .filter((e) => e.url === PARTNER_URL + key).map((e) => e.valueString ?? "").join(", ");
}

function parameters(form: { identifier_types: string; options: string }) {
  const parameter: { name: string; valueString: string }[] = [];
  for (const name of ["identifier_types", "options"] as const) {
    for (const value of form[name].split(/[\s,;]+/).filter(Boolean)) parameter.push({ name, valueString: value });
  }
  return { resourceType: "Parameters", parameter };
}

/** The current mappings and options in words, with "Modifier" opening the form when ``editable``. */
export function PartnerMappings({ partner, editable, onSaved }: {
  partner: FhirResource; editable: boolean; onSaved: (name: string) => void;
}) {
  const name = String(partner.id ?? "");
  const initial = { identifier_types: pairs(partner, "identifier_types"), options: pairs(partner, "options") };
  const { form, setForm, setErrors, field } = useFields(initial);
  const [open, setOpen] = useState(false);
  const [stale, setStale] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setStale(null);
    try {
      await fhir(`Endpoint/${encodeURIComponent(name)}/$set-mappings`, {
        method: "POST", body: parameters(form), headers: { "If-Match": `W/"${partner.meta?.versionId ?? "1"}"` } });
      setOpen(false);
      onSaved(name);
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        setStale("Ce partenaire a été modifié depuis l'ouverture de la page : rechargez-la avant de recommencer.");
      } else {
        const [where, text] = fieldOf(e);
        setErrors({ [FIELD[where] ?? "identifier_types"]: text });
      }
    } finally {
      setBusy(false);
    }
  }

  const summary = (
    <Text size="sm">
      Types : {initial.identifier_types || "—"} · Options : {initial.options || "défaut"}
    </Text>
  );
  if (!open) {
    return (
      <Group gap="xs">
        {summary}
        {editable && (
          <Button size="xs" variant="default" style={{ flexShrink: 0 }} aria-label={`Modifier les correspondances de ${name}`}
            onClick={() => { setForm(initial); setErrors({}); setStale(null); setOpen(true); }}>Modifier</Button>
        )}
      </Group>
    );
  }
  return (
    <form onSubmit={save} aria-label={`Correspondances de ${name}`}>
      <Group align="flex-start" gap="xs">
        <TextInput size="xs" label="Types d'identifiant (reçu=lu comme)" description="ex. MR=PI, NH=NIIP"
          {...field("identifier_types")} />
        <TextInput size="xs" label="Options (clé=valeur)" description="test_code=auto | primary | alternate"
          {...field("options")} />
      </Group>
      {stale && <Text size="sm" c="red.9" role="alert">{stale}</Text>}
      <Group gap="xs" mt={4}>
        <Button size="xs" type="submit" loading={busy}>Enregistrer</Button>
        <Button size="xs" variant="subtle" onClick={() => setOpen(false)}>Annuler</Button>
      </Group>
    </form>
  );
}
