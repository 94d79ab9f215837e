// The prescriber of a new request, searched as one types: the national directory (Annuaire Santé) holds
// hundreds of thousands of PractitionerRoles, so the form never lists them all. Three letters of a name
// (each word a prefix, through the indexed Practitioner `name`), or a full RPPS / national id (the indexed
// `identifier` token), then the roles of the people found with their practitioner and place
// (PractitionerRole?practitioner=…&_include=…): name, profession or specialty and place tell homonyms apart.
// Arrow keys move in the list, Enter picks, Escape closes; the value is the chosen PractitionerRole reference.
import { useEffect, useId, useState, type KeyboardEvent } from "react";
import { Loader, Paper, Text, TextInput, UnstyledButton } from "@mantine/core";
import { fhir, included, matches, type Bundle, type CodeableConcept, type FhirResource, type Reference } from "../api";

export interface Prescriber { reference: string; label: string; detail: string }

const WAIT_MS = 300;
const MIN_LETTERS = 3;
const PEOPLE = 20;

interface Name { family?: string; given?: string[]; prefix?: string[] }

function nameOf(person: FhirResource | undefined): string {
  const name = (person?.name as Name[] | undefined)?.[0];
  return name ? [name.prefix?.[0] ?? "", name.family ?? "", ...(name.given ?? [])].join(" ").trim() : "";
}

function shown(concept: CodeableConcept | undefined): string {
  return concept?.text ?? concept?.coding?.[0]?.display ?? "";
}

function placeOf(org: FhirResource | undefined): string {
  const address = (org?.address as { city?: string; postalCode?: string }[] | undefined)?.[0];
  const town = [address?.postalCode ?? "", address?.city ?? ""].join(" ").trim();
  return [String(org?.name ?? ""), town].filter(Boolean).join(", ");
}

function prescribersOf(bundle: Bundle): Prescriber[] {
  const others = included(bundle);
  return matches(bundle).map((role) => {
    const person = others.get((role.practitioner as Reference | undefined)?.reference ?? "");
    const org = others.get((role.organization as Reference | undefined)?.reference ?? "");
    const what = shown((role.specialty as CodeableConcept[] | undefined)?.[0])
      || shown((role.code as CodeableConcept[] | undefined)?.[0]);
    const detail = [what, placeOf(org)].filter(Boolean).join(" · ");
    return { reference: `PractitionerRole/${role.id}`, label: nameOf(person) || String(role.id), detail };
  }).sort((a, b) => a.label.localeCompare(b.label, "fr") || a.detail.localeCompare(b.detail, "fr"));
}

/** The Practitioner search for what was typed, or null when it is too short to ask the server. */
export function practitionerQuery(typed: string): string | null {
  const text = typed.trim();
  const digits = text.replace(/\s/g, "");
  if (/^\d+$/.test(digits)) {  // an RPPS (11 digits) or a national id (8 + RPPS, 0 + ADELI): tokens are exact
    if (digits.length === 11) return `identifier=${digits},8${digits}`;
    return digits.length === 12 || digits.length === 10 ? `identifier=${digits}` : null;
  }
  const words = text.split(/[\s,'’-]+/).filter(Boolean);
  if (words.join("").length < MIN_LETTERS) return null;
  // the longest word first: it leads the query (its index range), the others are re-checked on what it found
  return [...words].sort((a, b) => b.length - a.length).map((w) => `name=${encodeURIComponent(w)}`).join("&");
}

async function search(typed: string): Promise<Prescriber[]> {
  const query = practitionerQuery(typed);
  if (!query) return [];
  const people = matches(await fhir<Bundle>(`Practitioner?${query}&_count=${PEOPLE}&_elements=id`));
  if (!people.length) return [];
  const refs = people.map((p) => `Practitioner/${p.id}`).join(",");
  return prescribersOf(await fhir<Bundle>(`PractitionerRole?practitioner=${encodeURIComponent(refs)}`
    + "&_include=PractitionerRole:practitioner&_include=PractitionerRole:organization&_count=50"));
}

export function PrescriberPicker({ value, onChange, error }: {
  value: Prescriber | null; onChange: (p: Prescriber | null) => void; error?: string;
}) {
  const listId = useId();
  const [typed, setTyped] = useState("");
  const [found, setFound] = useState<Prescriber[] | null>(null);
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    if (!practitionerQuery(typed)) { setFound(null); setBusy(false); return; }
    let current = true;
    setBusy(true);
    const timer = window.setTimeout(() => {
      search(typed).then((list) => { if (current) { setFound(list); setActive(0); setFailure(null); } },
        (e: Error) => { if (current) setFailure(e.message); })
        .finally(() => { if (current) setBusy(false); });
    }, WAIT_MS);
    return () => { current = false; window.clearTimeout(timer); };
  }, [typed]);

  const pick = (p: Prescriber) => {
    onChange(p);
    setTyped("");
    setOpen(false);
  };
  const onKey = (event: KeyboardEvent<HTMLInputElement>) => {
    const list = found ?? [];
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      setOpen(true);
      if (list.length) setActive((i) => (i + (event.key === "ArrowDown" ? 1 : list.length - 1)) % list.length);
    } else if (event.key === "Enter") {
      event.preventDefault(); // Enter picks the highlighted prescriber, it never sends the request
      const chosen = list[active];
      if (open && chosen) pick(chosen);
    } else if (event.key === "Escape") {
      setOpen(false);
    }
  };

  const list = open ? found ?? [] : [];
  const hint = value
    ? `Choisi : ${value.label}${value.detail ? ` (${value.detail})` : ""}`
    : "nom (3 lettres au moins) ou RPPS complet";
  return (
    <div style={{ position: "relative", minWidth: "22rem" }}>
      <TextInput label="Prescripteur" description={hint} value={typed} error={error} autoComplete="off"
        role="combobox" aria-autocomplete="list" aria-expanded={list.length > 0} aria-controls={list.length ? listId : undefined}
        aria-activedescendant={list.length ? `${listId}-${active}` : undefined}
        rightSection={busy ? <Loader size="xs" aria-label="Recherche des prescripteurs" /> : null}
        onChange={(e) => { setTyped(e.currentTarget.value); setOpen(true); }} onKeyDown={onKey}
        onFocus={() => setOpen(true)} onBlur={() => window.setTimeout(() => setOpen(false), 150)} />
      {open && found && found.length === 0 && !busy && (
        <Text size="sm" c="dimmed" role="status">Aucun prescripteur trouvé.</Text>
      )}
      {failure && <Text size="sm" c="red" role="alert">Recherche impossible : {failure}</Text>}
      {list.length > 0 && (
        <Paper withBorder shadow="sm" id={listId} role="listbox" aria-label="Prescripteurs trouvés"
          style={{ position: "absolute", zIndex: 10, width: "100%", maxHeight: "18rem", overflowY: "auto" }}>
          {list.map((p, i) => (
            <UnstyledButton key={p.reference} id={`${listId}-${i}`} role="option" aria-selected={i === active}
              tabIndex={-1} display="block" w="100%" px="sm" py={4}
              bg={i === active ? "var(--mantine-color-blue-light)" : undefined}
              onMouseDown={(e) => e.preventDefault()} onClick={() => pick(p)}>
              <Text size="sm" fw={600}>{p.label}</Text>
              {p.detail && <Text size="xs" c="dimmed">{p.detail}</Text>}
            </UnstyledButton>
          ))}
        </Paper>
      )}
    </div>
  );
}
