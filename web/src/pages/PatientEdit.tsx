// Create or edit an identity (RNIV traits: birth name, first birth first name and the other birth first
// names, date of birth, sex, birthplace INSEE code; used name and first name). Each problem is said next to
// its field before anything is sent; the server's refusal (a locked strict trait of a qualified identity, a
// version changed since the page opened) is shown next to the field it names, and nothing is stored.
import { useEffect, useState, type FormEvent } from "react";
import { Alert, Button, Group, Loader, NativeSelect, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { ApiError, fhir } from "../api";
import { type Patient } from "../identity";
import { EMPTY_FORM, check, fieldOfExpression, formOf, patientOf, type FormErrors, type IdentityForm } from "../patientForm";
import { linkProps, navigate } from "../router";

const LABELS: Record<keyof IdentityForm, string> = {
  birthName: "Nom de naissance",
  firstName: "Premier prénom de naissance",
  otherFirstNames: "Autres prénoms de naissance",
  birthDate: "Date de naissance",
  sex: "Sexe",
  birthplace: "Code du lieu de naissance (INSEE)",
  usedName: "Nom utilisé",
  usedFirstName: "Prénom utilisé",
};

export function PatientEditPage({ id }: { id: string | null }) {
  const [stored, setStored] = useState<Patient | null>(null);
  const [form, setForm] = useState<IdentityForm>(EMPTY_FORM);
  const [errors, setErrors] = useState<FormErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!id) return;
    fhir<Patient>(`Patient/${encodeURIComponent(id)}`).then((p) => {
      setStored(p);
      setForm(formOf(p));
    }, (e: Error) => setFailure(e.message));
  }, [id]);

  if (id && !stored && !failure) return <Loader aria-label="Chargement de l'identité" />;

  const set = (field: keyof IdentityForm) => (event: { currentTarget: { value: string } }) => {
    const value = event.currentTarget.value;
    setForm((f) => ({ ...f, [field]: value }));
  };

  async function save(event: FormEvent) {
    event.preventDefault();
    const found = check(form);
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const body = patientOf(form, stored);
      const written = id
        ? await fhir<Patient>(`Patient/${encodeURIComponent(id)}`, {
          method: "PUT", body, headers: { "If-Match": `W/"${stored?.meta?.versionId ?? ""}"` } })
        : await fhir<Patient>("Patient", { method: "POST", body });
      navigate(`/patients/${written.id}`);
    } catch (e) {
      const field = e instanceof ApiError ? fieldOfExpression(e.expression) : null;
      const message = e instanceof ApiError && e.status === 412
        ? "L'identité a été modifiée depuis que vous l'avez ouverte : rechargez la page." : (e as Error).message;
      if (field) setErrors({ [field]: message });
      setFailure(`Rien n'a été enregistré : ${message}`);
    } finally {
      setBusy(false);
    }
  }

  const input = (field: keyof IdentityForm, extra: { description?: string; required?: boolean } = {}) => (
    <TextInput label={LABELS[field]} value={form[field]} onChange={set(field)} error={errors[field]}
      name={field} autoComplete="off" {...extra} />
  );

  return (
    <Stack>
      <Title order={2}>{id ? "Modifier l'identité" : "Nouvelle identité"}</Title>
      <Text size="sm">Saisir les traits tels qu'ils figurent sur la pièce d'identité. Les champs marqués * sont
        obligatoires.</Text>
      <form onSubmit={save} aria-label={id ? "Modifier l'identité" : "Nouvelle identité"} noValidate>
        <SimpleGrid cols={{ base: 1, md: 3 }}>
          {input("birthName", { required: true })}
          {input("firstName", { required: true })}
          {input("otherFirstNames", { description: "séparés par des espaces" })}
          {input("birthDate", { required: true, description: "JJ/MM/AAAA" })}
          <NativeSelect label={LABELS.sex} value={form.sex} onChange={set("sex")} error={errors.sex} required
            name="sex" data={[{ value: "", label: "— choisir —" }, { value: "female", label: "Féminin" },
              { value: "male", label: "Masculin" }, { value: "other", label: "Indéterminé" }]} />
          {input("birthplace", { required: true, description: "99999 si inconnu ; 99xxx pour un pays étranger" })}
          {input("usedName")}
          {input("usedFirstName")}
        </SimpleGrid>
        <Group mt="md">
          <Button type="submit" loading={busy}>Enregistrer</Button>
          <Button component="a" variant="default" {...linkProps(id ? `/patients/${id}` : "/patients")}>Annuler</Button>
        </Group>
      </form>
      {failure && <Alert color="red" role="alert">{failure}</Alert>}
    </Stack>
  );
}
