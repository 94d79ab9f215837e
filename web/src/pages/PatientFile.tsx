// The identity file, with the RNIV display rules (SGL.INS.02): birth name, first birth first name, date
// of birth and sex always shown, each with a label no one can misread; the identity status always shown;
// the other INS fields shown as the site setting chooses (SGL_INS_DISPLAY), and only to a role allowed
// to see the INS (the server masks it for the others anyway). The status history closes the file.
import { useEffect, useState } from "react";
import { Alert, Badge, Button, Group, Loader, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { fhir } from "../api";
import { frenchDate, frenchDateTime } from "../format";
import {
  STATUS_LABELS, attributes, birthFirstNames, birthName, birthplaceCode, firstBirthFirstName, identityStatus,
  ins, ipps, sexLabel, statusHistory, usedFirstName, usedName, type IdentityStatus, type Patient,
} from "../identity";
import { can, type Session } from "../session";
import { linkProps } from "../router";
import { InsiPanel } from "./InsiPanel";
import { DuplicatesPanel } from "./DuplicatesPanel";
import { IdentityLabel } from "./IdentityLabel";

// shade 9 (7 for grey; not green, whose 9 is 4.4:1): white text on them keeps a WCAG AA contrast; the word, not the colour, says the status
const STATUS_COLORS: Record<IdentityStatus, string> = { PROV: "gray.7", RECUP: "blue.9", VALI: "cyan.9", QUAL: "teal.9" };

function Field({ label, value, testid }: { label: string; value: string; testid: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" component="dt" id={`${testid}-label`}>{label}</Text>
      <Text fw={600} component="dd" m={0} data-testid={testid} aria-labelledby={`${testid}-label`}>{value}</Text>
    </div>
  );
}

export function PatientFilePage({ session, id }: { session: Session; id: string }) {
  const [patient, setPatient] = useState<Patient | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setPatient(null);
    fhir<Patient>(`Patient/${encodeURIComponent(id)}`).then(setPatient, (e: Error) => setError(e.message));
  }, [id]);

  if (error) return <Alert color="red" role="alert" title="Dossier introuvable">{error}</Alert>;
  if (!patient) return <Loader aria-label="Chargement du dossier" />;

  const status = identityStatus(patient);
  const shows = (field: string) => session.site.insDisplay.includes(field);
  const mayIns = can(session, "Patient", "ins");
  const theIns = ins(patient);
  const flags = attributes(patient);
  const history = statusHistory(patient);

  return (
    <Stack>
      <Group>
        <Title order={2}>Identité du patient</Title>
        <Badge size="lg" color={STATUS_COLORS[status]} data-testid="identity-status">{STATUS_LABELS[status]}</Badge>
        {flags.includes("DOUTE") && <Badge color="red.9">Identité douteuse</Badge>}
        {flags.includes("FICTI") && <Badge color="red.9">Identité fictive</Badge>}
        {can(session, "Patient", "update") && (
          <Button component="a" variant="outline" size="xs" {...linkProps(`/identite/${id}`)}>Modifier l'identité</Button>)}
        {can(session, "ServiceRequest", "$order") && patient.active !== false && (
          <Button component="a" size="xs" {...linkProps(`/demandes/nouvelle?patient=${id}`)}>Nouvelle demande</Button>)}
      </Group>
      <Paper withBorder p="md" aria-label="Traits d'identité">
        <SimpleGrid cols={4} component="dl" m={0} data-testid="strict-traits">
          <Field label="Nom de naissance" value={birthName(patient) ?? "Non renseigné"} testid="birth-name" />
          <Field label="Premier prénom de naissance" value={firstBirthFirstName(patient) ?? "Non renseigné"}
            testid="first-birth-first-name" />
          <Field label="Date de naissance" value={frenchDate(patient.birthDate)} testid="birth-date" />
          <Field label="Sexe" value={sexLabel(patient.gender)} testid="sex" />
        </SimpleGrid>
      </Paper>
      <Paper withBorder p="md" aria-label="Autres traits et identifiants">
        <SimpleGrid cols={3} component="dl" m={0}>
          {shows("birth_first_names") && mayIns && (
            <Field label="Prénoms de naissance (liste)" value={birthFirstNames(patient).join(" ") || "Non renseigné"}
              testid="birth-first-names" />
          )}
          {shows("used_names") && (
            <>
              <Field label="Nom utilisé" value={usedName(patient) ?? "—"} testid="used-name" />
              <Field label="Prénom utilisé" value={usedFirstName(patient) ?? "—"} testid="used-first-name" />
            </>
          )}
          {shows("birthplace") && mayIns && (
            <Field label="Code du lieu de naissance (INSEE)" value={birthplaceCode(patient) ?? "Non renseigné"}
              testid="birthplace" />
          )}
          {shows("matricule") && (
            <Field
              label="Matricule INS"
              testid="ins"
              value={!mayIns ? "Non visible avec votre profil"
                : theIns ? `${theIns.matricule} (${theIns.type})` : "Aucun INS"}
            />
          )}
          {shows("oid") && mayIns && theIns && (
            <Field label="OID de l'autorité d'affectation" value={theIns.oid} testid="ins-oid" />
          )}
          <Field label="IPP" value={ipps(patient).join(", ") || "—"} testid="ipp" />
        </SimpleGrid>
        {mayIns && theIns && status !== "QUAL" && (
          <Text size="sm" c="red.9" mt="sm">
            Identité non qualifiée : l'INS ne doit pas être utilisé pour échanger ou partager des données.
          </Text>
        )}
      </Paper>
      <IdentityLabel session={session} patient={patient} />
      <InsiPanel session={session} patient={patient} onChanged={setPatient} />
      <DuplicatesPanel session={session} patient={patient} onChanged={setPatient} />
      <Title order={3}>Historique du statut de l'identité</Title>
      {history.length === 0 ? (
        <Text>Aucun changement de statut enregistré.</Text>
      ) : (
        <Table aria-label="Historique du statut">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Date</Table.Th><Table.Th>Ancien statut</Table.Th><Table.Th>Nouveau statut</Table.Th>
              <Table.Th>Auteur</Table.Th><Table.Th>Motif</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {history.map((h, i) => (
              <Table.Tr key={i}>
                <Table.Td>{frenchDateTime(h.date)}</Table.Td>
                <Table.Td>{h.previous ? STATUS_LABELS[h.previous as IdentityStatus] ?? h.previous : "—"}</Table.Td>
                <Table.Td>{STATUS_LABELS[h.status as IdentityStatus] ?? h.status}</Table.Td>
                <Table.Td>{h.author}{h.role ? ` (${h.role})` : ""}</Table.Td>
                <Table.Td>{h.reason}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
