// The RNIV identity traits of a FHIR Patient, read the FR Core way (the same conventions as the
// server's resources/patient_traits.py), and their French labels.
import type { Extension, FhirResource } from "./api";

export interface HumanName {
  use?: string;
  family?: string;
  given?: string[];
}
export interface Identifier {
  use?: string;
  system?: string;
  value?: string;
  type?: { coding?: { system?: string; code?: string }[] };
}
export interface Patient extends FhirResource {
  resourceType: "Patient";
  name?: HumanName[];
  gender?: string;
  birthDate?: string;
  identifier?: Identifier[];
  extension?: Extension[];
  active?: boolean;
  link?: { other?: { reference?: string }; type?: string }[];
}

const BIRTH_LIST = [
  "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name",
  "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-birth-list-given-name",
];
const BIRTHPLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace";
const INSEE_CODE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code";
const RELIABILITY = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability";
const STATUS_HISTORY = "https://opensgl.org/fhir/StructureDefinition/identity-status-history";
const ATTRIBUTE = "https://opensgl.org/fhir/StructureDefinition/identity-attribute";
export const IPP_TYPE = "PI";

const nameOf = (p: Patient, use: string) => p.name?.find((n) => n.use === use);
const ext = (holder: { extension?: Extension[] }, ...urls: string[]) =>
  holder.extension?.find((e) => urls.includes(e.url));

export const birthName = (p: Patient) => nameOf(p, "official")?.family ?? null;

export function birthFirstNames(p: Patient): string[] {
  const listed = ext(p, ...BIRTH_LIST)?.valueString?.trim();
  return listed ? listed.split(/\s+/) : (nameOf(p, "official")?.given ?? []);
}

export function firstBirthFirstName(p: Patient): string | null {
  const given = nameOf(p, "official")?.given;
  return given?.[0] ?? birthFirstNames(p)[0] ?? null;
}

export const usedName = (p: Patient) => nameOf(p, "usual")?.family ?? null;
export const usedFirstName = (p: Patient) => nameOf(p, "usual")?.given?.[0] ?? null;

export function birthplaceCode(p: Patient): string | null {
  const address = ext(p, BIRTHPLACE)?.valueAddress;
  return (address && ext(address, INSEE_CODE)?.valueCoding?.code) ?? null;
}

/** Sex with a label no one can misread (never a bare "M"/"F"). */
export function sexLabel(gender: string | undefined): string {
  return { male: "Masculin", female: "Féminin", other: "Indéterminé", unknown: "Inconnu" }[gender ?? ""] ?? "Non renseigné";
}

export type IdentityStatus = "PROV" | "RECUP" | "VALI" | "QUAL";
export const STATUS_LABELS: Record<IdentityStatus, string> = {
  PROV: "Identité provisoire",
  RECUP: "Identité récupérée",
  VALI: "Identité validée",
  QUAL: "Identité qualifiée",
};

export function identityStatus(p: Patient): IdentityStatus {
  const reliability = ext(p, RELIABILITY);
  const code = reliability?.extension?.find((e) => e.url === "identityStatus")?.valueCoding?.code;
  return code && code in STATUS_LABELS ? (code as IdentityStatus) : "PROV";
}

export function attributes(p: Patient): string[] {
  return (p.extension ?? []).filter((e) => e.url === ATTRIBUTE).map((e) => e.valueCoding?.code ?? "");
}

export const INS_TYPES: Record<string, string> = {
  "1.2.250.1.213.1.4.8": "NIR",
  "1.2.250.1.213.1.4.9": "NIA",
  "1.2.250.1.213.1.4.10": "NIR de test",
  "1.2.250.1.213.1.4.11": "NIR de démonstration",
};

/** The current INS (an identifier under an INS OID, not retired), or null (none, or masked for this role). */
export function ins(p: Patient): { matricule: string; oid: string; type: string } | null {
  for (const id of p.identifier ?? []) {
    const oid = (id.system ?? "").replace(/^urn:oid:/, "");
    if (oid in INS_TYPES && id.use !== "old" && id.value) {
      return { matricule: id.value, oid, type: INS_TYPES[oid] ?? oid };
    }
  }
  return null;
}

/** The IPP(s): identifiers typed PI. */
export function ipps(p: Patient): string[] {
  return (p.identifier ?? [])
    .filter((id) => id.type?.coding?.some((c) => c.code === IPP_TYPE))
    .map((id) => id.value ?? "")
    .filter(Boolean);
}

export interface StatusChange {
  previous?: string;
  status?: string;
  date?: string;
  author?: string;
  role?: string;
  reason?: string;
}

export function statusHistory(p: Patient): StatusChange[] {
  return (p.extension ?? [])
    .filter((e) => e.url === STATUS_HISTORY)
    .map((e) => {
      const row: Record<string, string> = {};
      for (const sub of e.extension ?? []) {
        row[sub.url] = sub.valueCode ?? sub.valueDateTime ?? sub.valueString ?? "";
      }
      return row as StatusChange;
    });
}

/** "DUPONT Jeanne": birth name and first birth first name, the way lists name a patient. */
export function shortName(p: Patient): string {
  return [birthName(p) ?? "(sans nom de naissance)", firstBirthFirstName(p) ?? ""].join(" ").trim();
}

/** The ids a Patient.link of that type points at ("replaced-by": the survivor of a merge; "replaces": the merged). */
export function linked(p: Patient, type: "replaced-by" | "replaces"): string[] {
  return (p.link ?? []).filter((l) => l.type === type)
    .map((l) => (l.other?.reference ?? "").replace(/^Patient\//, "")).filter(Boolean);
}

/** RNIV rank of a status: a merge keeps the identity with the highest one (RECUP and VALI rank alike). */
export const STATUS_RANK: Record<IdentityStatus, number> = { PROV: 0, RECUP: 1, VALI: 1, QUAL: 2 };
