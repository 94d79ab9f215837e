// Administration (issue 15 item 9): the lab's local accounts — list, create, role, disable/enable, password reset,
// lockout — and its socket partners, through the same FHIR doors an integrator calls (GET /fhir/Person and its
// operations, GET /fhir/Endpoint, $add-partner, DELETE). Offered to the roles holding "Person:read"; the server checks each call again.
// A password typed here goes to the server once and is cleared from the page; it is never shown back.
import { useCallback, useEffect, useState } from "react";
import {
  Alert, Badge, Button, Group, Loader, NativeSelect, PasswordInput, Stack, Table, Text, TextInput, Title,
} from "@mantine/core";
import { call, fhir, type FhirResource } from "../api";
import { frenchDateTime } from "../format";
import { fieldOf, useFields } from "../forms";
import { ROLE_LABELS, can, type Session } from "../session";
import { LabProfileSection } from "./LabProfile";
import { PartnerMappings } from "./PartnerMappings";

const ROLE_URL = "urn:opensgl:StructureDefinition/role";
const LOCKED_URL = "urn:opensgl:StructureDefinition/locked-until";
const PARTNER_URL = "urn:opensgl:StructureDefinition/partner-";
const STAFF_ROLES = ["secretaire", "preleveur", "technicien", "biologiste", "biologiste-responsable", "administrateur"];
const PARTNER_LABELS: Record<string, string> = {
  automate: "Automate", "source-identite": "Source d'identité", dpi: "DPI (dossier patient)", "sous-traitant": "Sous-traitant",
};

interface Extension { url: string; valueCode?: string; valueString?: string; valueInstant?: string; valueBoolean?: boolean }
interface Bundle { entry?: { resource: FhirResource & Record<string, unknown> }[] }
type Resource = FhirResource & Record<string, unknown>;

function ext(resource: Resource, url: string): Extension[] {
  return ((resource.extension as Extension[] | undefined) ?? []).filter((e) => e.url === url);
}

function parameters(values: Record<string, string | undefined>) {
  return {
    resourceType: "Parameters",
    parameter: Object.entries(values).filter(([, v]) => v).map(([name, v]) => ({ name, valueString: v })),
  };
}

export function AdministrationPage({ session }: { session: Session }) {
  const [people, setPeople] = useState<Resource[] | null>(null);
  const [partners, setPartners] = useState<Resource[] | null>(null);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const reload = useCallback(() => {
    fhir<Bundle>("Person").then((b) => setPeople((b.entry ?? []).map((e) => e.resource)),
      (e: Error) => setNotice({ ok: false, text: e.message }));
  }, []);
  const reloadPartners = useCallback(() => {
    if (!can(session, "Endpoint", "read")) return;
    fhir<Bundle>("Endpoint").then((b) => setPartners((b.entry ?? []).map((e) => e.resource)),
      (e: Error) => setNotice({ ok: false, text: e.message }));
  }, [session]);
  useEffect(() => {
    reload();
    reloadPartners();
  }, [reload, reloadPartners]);

  async function removePartner(name: string) {
    try {
      await call(`/fhir/Endpoint/${encodeURIComponent(name)}`, { method: "DELETE" });
      setNotice({ ok: true, text: `Partenaire ${name} retiré : ses prochains messages seront refusés.` });
      reloadPartners();
    } catch (e) {
      setNotice({ ok: false, text: fieldOf(e)[1] });
    }
  }

  async function act(login: string, operation: string, body?: unknown, done?: string) {
    try {
      await call(`/fhir/Person/${encodeURIComponent(login)}/$${operation}`, { method: "POST", body }); // $set-password: 204
      setNotice({ ok: true, text: done ?? "Modification enregistrée." });
      reload();
      return true;
    } catch (e) {
      setNotice({ ok: false, text: fieldOf(e)[1] });
      return false;
    }
  }

  return (
    <Stack>
      <Title order={2}>Administration</Title>
      {notice && (
        <Alert color={notice.ok ? "green" : "red"} role={notice.ok ? "status" : "alert"} withCloseButton closeButtonLabel="Fermer le message"
          onClose={() => setNotice(null)}>{notice.text}</Alert>
      )}
      <Title order={3}>Comptes utilisateurs</Title>
      {people === null ? <Loader aria-label="Chargement des comptes" /> : (
        <Table aria-label="Comptes utilisateurs" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Identifiant</Table.Th><Table.Th>Nom</Table.Th><Table.Th>Rôle</Table.Th>
              <Table.Th>État</Table.Th><Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {people.map((p) => <AccountRow key={p.id} person={p} act={act} />)}
          </Table.Tbody>
        </Table>
      )}
      <NewAccount onCreated={(login) => { setNotice({ ok: true, text: `Compte ${login} créé.` }); reload(); }} />
      {partners !== null && (
        <Partners partners={partners} remove={can(session, "Endpoint", "delete") ? removePartner : null}
          editable={can(session, "Endpoint", "$set-mappings")}
          onSaved={(name) => { setNotice({ ok: true, text: `Correspondances de ${name} enregistrées.` }); reloadPartners(); }} />
      )}
      {partners !== null && can(session, "Endpoint", "$add-partner") && (
        <NewPartner onAdded={(name) => { setNotice({ ok: true, text: `Partenaire ${name} enregistré.` }); reloadPartners(); }} />
      )}
      {can(session, "Organization", "$lab-profile") && <LabProfileSection />}
    </Stack>
  );
}

type Act = (login: string, operation: string, body?: unknown, done?: string) => Promise<boolean>;

function AccountRow({ person, act }: { person: Resource; act: Act }) {
  const login = person.id ?? "";
  const role = ext(person, ROLE_URL)[0]?.valueCode ?? "";
  const locked = ext(person, LOCKED_URL)[0]?.valueInstant;
  const active = person.active === true;
  const name = ((person.name as { text?: string }[] | undefined) ?? [])[0]?.text ?? "";
  const [resetting, setResetting] = useState(false);
  const [password, setPassword] = useState("");
  const roles = STAFF_ROLES.includes(role) ? STAFF_ROLES : [role, ...STAFF_ROLES];
  return (
    <Table.Tr data-testid={`compte-${login}`}>
      <Table.Td>{login}</Table.Td>
      <Table.Td>{name || "—"}</Table.Td>
      <Table.Td>
        <NativeSelect aria-label={`Rôle de ${login}`} value={role}
          data={roles.map((r) => ({ value: r, label: ROLE_LABELS[r] ?? r }))}
          onChange={(e) => void act(login, "set-role", parameters({ role: e.currentTarget.value }),
            `Rôle de ${login} : ${ROLE_LABELS[e.currentTarget.value] ?? e.currentTarget.value}.`)} />
      </Table.Td>
      <Table.Td>
        <Group gap={4}>
          <Badge color="dark" variant={active ? "outline" : "filled"}>{active ? "Actif" : "Désactivé"}</Badge>
          {locked && <Badge color="red.9">Verrouillé jusqu'à {frenchDateTime(locked)}</Badge>}
        </Group>
      </Table.Td>
      <Table.Td>
        <Group gap="xs">
          {active
            ? <Button size="xs" variant="default" onClick={() => void act(login, "disable", undefined, `Compte ${login} désactivé.`)}>
                Désactiver</Button>
            : <Button size="xs" variant="default" onClick={() => void act(login, "enable", undefined, `Compte ${login} réactivé.`)}>
                Réactiver</Button>}
          {locked && <Button size="xs" variant="default" onClick={() => void act(login, "unlock")}>Déverrouiller</Button>}
          {!resetting ? (
            <Button size="xs" variant="default" onClick={() => setResetting(true)}>Réinitialiser le mot de passe</Button>
          ) : (
            <form onSubmit={async (event) => {
              event.preventDefault();
              if (await act(login, "set-password", parameters({ password }), `Mot de passe de ${login} réinitialisé.`)) {
                setResetting(false);
              }
              setPassword("");
            }}>
              <Group gap="xs">
                <PasswordInput size="xs" aria-label={`Nouveau mot de passe de ${login}`} value={password}
                  onChange={(e) => setPassword(e.currentTarget.value)} autoComplete="new-password" />
                <Button size="xs" type="submit">Enregistrer</Button>
                <Button size="xs" variant="subtle" onClick={() => { setResetting(false); setPassword(""); }}>Annuler</Button>
              </Group>
            </form>
          )}
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}

function NewAccount({ onCreated }: { onCreated: (login: string) => void }) {
  const empty = { username: "", name: "", role: "secretaire", rpps: "", password: "" };
  const { form, setForm, setErrors, field } = useFields(empty);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      await fhir("Person/$create-account", { method: "POST", body: parameters(form) });
      onCreated(form.username);
      setForm(empty);
    } catch (e) {
      const [where, text] = fieldOf(e);
      setErrors({ [where in empty ? where : "username"]: text });
      setForm({ ...form, password: "" });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-label="Nouveau compte">
      <Title order={3} mb="xs">Nouveau compte</Title>
      <Group align="flex-start">
        <TextInput label="Identifiant" required maxLength={64} {...field("username")} />
        <TextInput label="Nom complet" maxLength={200} {...field("name")} />
        <NativeSelect label="Rôle" data={STAFF_ROLES.map((r) => ({ value: r, label: ROLE_LABELS[r] ?? r }))}
          {...field("role")} />
        <TextInput label="RPPS (11 chiffres)" maxLength={11} {...field("rpps")} />
        <PasswordInput label="Mot de passe (12 caractères au moins)" required autoComplete="new-password"
          {...field("password")} />
      </Group>
      <Button type="submit" mt="sm" loading={busy}>Créer le compte</Button>
    </form>
  );
}

function NewPartner({ onAdded }: { onAdded: (name: string) => void }) {
  const empty = { name: "", role: "automate", hl7_application: "", astm_sender: "", addresses: "", send_to: "" };
  const { form, setForm, setErrors, field } = useFields(empty);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setErrors({});
    const { addresses, ...rest } = form;
    const body = parameters(rest);
    for (const address of addresses.split(/[\s,;]+/).filter(Boolean)) {
      body.parameter.push({ name: "addresses", valueString: address });
    }
    try {
      await fhir("Endpoint/$add-partner", { method: "POST", body });
      onAdded(form.name);
      setForm(empty);
    } catch (e) {
      const [where, text] = fieldOf(e);
      setErrors({ [where === "address" ? "addresses" : where in empty ? where : "name"]: text });
    }
  }

  return (
    <form onSubmit={submit} aria-label="Nouveau partenaire">
      <Title order={4} mb="xs">Nouveau partenaire</Title>
      <Group align="flex-start">
        <TextInput label="Nom du partenaire" required maxLength={200} {...field("name")} />
        <NativeSelect label="Rôle du partenaire" data={Object.entries(PARTNER_LABELS).map(([value, label]) => ({ value, label }))}
          {...field("role")} />
        <TextInput label="Application HL7 (MSH-3)" maxLength={200} {...field("hl7_application")} />
        <TextInput label="Émetteur ASTM (H-5)" maxLength={200} {...field("astm_sender")} />
        <TextInput label="Adresses autorisées (IP ou CIDR)" {...field("addresses")} />
        <TextInput label="Envoi vers (hôte:port)" maxLength={200} {...field("send_to")} />
      </Group>
      <Button type="submit" mt="sm">Enregistrer le partenaire</Button>
    </form>
  );
}

function Partners({ partners, remove, editable, onSaved }: {
  partners: Resource[]; remove: ((name: string) => void) | null; editable: boolean; onSaved: (name: string) => void;
}) {
  const one = (p: Resource, key: string) => ext(p, PARTNER_URL + key).map((e) => e.valueString).join(", ");
  return (
    <Stack gap="xs">
      <Title order={3}>Partenaires (automates, DPI, source d'identité, sous-traitants)</Title>
      {partners.length === 0 ? <Text>Aucun partenaire enregistré.</Text> : (
        <Table aria-label="Partenaires" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Nom</Table.Th><Table.Th>Rôle</Table.Th><Table.Th>Émetteur HL7 (MSH-3 / MSH-4)</Table.Th>
              <Table.Th>Émetteur ASTM</Table.Th><Table.Th>Adresses autorisées</Table.Th><Table.Th>Envoi vers</Table.Th>
              <Table.Th>Types d'identifiant et options</Table.Th>
              {remove && <Table.Th>Actions</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {partners.map((p) => {
              const role = ext(p, PARTNER_URL + "role")[0]?.valueCode ?? "";
              const address = String(p.address ?? "");
              return (
                <Table.Tr key={p.id} data-testid={`partenaire-${p.id}`}>
                  <Table.Td>{p.id}</Table.Td>
                  <Table.Td>{PARTNER_LABELS[role] ?? role}</Table.Td>
                  <Table.Td>{[one(p, "hl7_application"), one(p, "hl7_facility")].filter(Boolean).join(" / ") || "—"}</Table.Td>
                  <Table.Td>{one(p, "astm_sender") || "—"}</Table.Td>
                  <Table.Td>{one(p, "addresses") || "toutes"}</Table.Td>
                  <Table.Td>{address.startsWith("mllp://") ? address.slice(7) : "—"}</Table.Td>
                  <Table.Td>
                    <PartnerMappings key={String(p.meta?.versionId)} partner={p} editable={editable} onSaved={onSaved} />
                  </Table.Td>
                  {remove && (
                    <Table.Td>
                      <Button size="xs" variant="default" onClick={() => remove(String(p.id))}>Retirer</Button>
                    </Table.Td>
                  )}
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}
