// Patient search by traits (name, first name, date of birth), IPP or matricule INS. The matricule is
// checked before any search (15 characters and its key, SGL.INS.08): a wrong one is said next to the field.
import { useState, type FormEvent } from "react";
import { Alert, Anchor, Badge, Button, Group, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { fhir, matches, type Bundle } from "../api";
import { frenchDate } from "../format";
import {
  STATUS_LABELS, birthName, firstBirthFirstName, identityStatus, sexLabel, type Patient,
} from "../identity";
import { linkProps } from "../router";
import { insKeyError } from "../ins";
import { can, type Session } from "../session";

export function PatientSearchPage({ session }: { session?: Session }) {
  const [family, setFamily] = useState("");
  const [given, setGiven] = useState("");
  const [birth, setBirth] = useState("");
  const [ipp, setIpp] = useState("");
  const [insValue, setIns] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [found, setFound] = useState<Patient[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function search(event: FormEvent) {
    event.preventDefault();
    const errors: Record<string, string> = {};
    const params = new URLSearchParams({ _count: "50" });
    if (family.trim()) params.set("family", family.trim());
    if (given.trim()) params.set("given", given.trim());
    if (birth.trim()) {
      const iso = isoDate(birth.trim());
      if (iso) params.set("birthdate", iso);
      else errors.birth = "Date attendue au format JJ/MM/AAAA (ou MM/AAAA, AAAA).";
    }
    if (ipp.trim()) params.append("identifier", ipp.trim());
    if (insValue.trim()) {
      const problem = insKeyError(insValue);
      if (problem) errors.ins = problem;
      else params.append("identifier", insValue.replace(/\s/g, "").toUpperCase());
    }
    setFieldErrors(errors);
    if (Object.keys(errors).length) return;
    if ([...params.keys()].every((k) => k === "_count")) {
      setError("Saisissez au moins un critère de recherche.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      setFound(matches(await fhir<Bundle<Patient>>(`Patient?${params}`)));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Stack>
      <Title order={2}>Recherche de patient</Title>
      <form onSubmit={search} aria-label="Recherche de patient">
        <Group align="flex-start">
          <TextInput label="Nom" description="de naissance ou utilisé" value={family}
            onChange={(e) => setFamily(e.currentTarget.value)} maxLength={100} />
          <TextInput label="Prénom" value={given} onChange={(e) => setGiven(e.currentTarget.value)} maxLength={100} />
          <TextInput label="Date de naissance" description="JJ/MM/AAAA" value={birth} error={fieldErrors.birth}
            onChange={(e) => setBirth(e.currentTarget.value)} maxLength={10} />
          <TextInput label="IPP" value={ipp} onChange={(e) => setIpp(e.currentTarget.value)} maxLength={64} />
          <TextInput label="Matricule INS" description="15 caractères, clé comprise" value={insValue}
            error={fieldErrors.ins} onChange={(e) => setIns(e.currentTarget.value)} maxLength={21} />
        </Group>
        <Group mt="sm">
          <Button type="submit" loading={busy}>Rechercher</Button>
          {session && can(session, "Patient", "create") && (
            <Button component="a" variant="outline" {...linkProps("/identite/nouvelle")}>Nouvelle identité</Button>)}
        </Group>
      </form>
      {error && <Alert color="red" role="alert">{error}</Alert>}
      {found && (found.length === 0 ? (
        <Text>Aucun patient ne correspond à ces critères.</Text>
      ) : (
        <Table striped highlightOnHover aria-label="Patients trouvés">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Nom de naissance</Table.Th>
              <Table.Th>Premier prénom de naissance</Table.Th>
              <Table.Th>Date de naissance</Table.Th>
              <Table.Th>Sexe</Table.Th>
              <Table.Th>Statut de l'identité</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {found.map((p) => (
              <Table.Tr key={p.id}>
                <Table.Td>
                  <Anchor {...linkProps(`/patients/${p.id}`)}>{birthName(p) ?? "(sans nom de naissance)"}</Anchor>
                </Table.Td>
                <Table.Td>{firstBirthFirstName(p) ?? "—"}</Table.Td>
                <Table.Td>{frenchDate(p.birthDate)}</Table.Td>
                <Table.Td>{sexLabel(p.gender)}</Table.Td>
                <Table.Td><Badge variant="outline" color="dark">{STATUS_LABELS[identityStatus(p)]}</Badge></Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ))}
    </Stack>
  );
}

/** "12/04/1975" -> "1975-04-12"; "04/1975" -> "1975-04"; "1975" -> "1975"; an impossible date -> null. */
export function isoDate(text: string): string | null {
  const full = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
  if (full) {
    const [, d, m, y] = full;
    const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
    const ok = date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d);
    return ok ? `${y}-${m}-${d}` : null;
  }
  const month = /^(\d{2})\/(\d{4})$/.exec(text);
  if (month && Number(month[1]) >= 1 && Number(month[1]) <= 12) return `${month[2]}-${month[1]}`;
  return /^\d{4}$/.test(text) ? text : null;
}
