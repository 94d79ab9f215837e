// The identity form's values and the FHIR Patient they become (the FR Core shape resources/patient_traits.py
// reads), and the checks made before anything is sent: an impossible date, a name longer than any civil register holds are said next to their field and nothing is written.
// The INS is not typed here: only the INSi gives it (the identity file's INSi panel).
import type { Extension } from "./api";
import {
  birthFirstNames, birthName, birthplaceCode, firstBirthFirstName, usedFirstName, usedName, type Patient,
} from "./identity";
import { frenchDate } from "./format";
import { isoDate } from "./pages/PatientSearch";

export interface IdentityForm {
  birthName: string;
  firstName: string;
  otherFirstNames: string;
  birthDate: string; // JJ/MM/AAAA
  sex: string; // female | male | other | ""
  birthplace: string; // INSEE COG, 99999 when unknown
  usedName: string;
  usedFirstName: string;
}

export type FormErrors = Partial<Record<keyof IdentityForm, string>>;

export const EMPTY_FORM: IdentityForm = {
  birthName: "", firstName: "", otherFirstNames: "", birthDate: "", sex: "", birthplace: "", usedName: "",
  usedFirstName: "",
};

/** The longest name the INSi and the civil register hold (and what a label can print). */
export const MAX_NAME = 100;
const BIRTH_LIST = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name";
const BIRTHPLACE = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace";
const INSEE_CODE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code";
const COMMUNE = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM";
const NAME_CHARS = /^[A-Za-zÀ-ÖØ-öø-ÿŒœ' -]+$/;

/** The form as the stored identity fills it (edit). */
export function formOf(p: Patient): IdentityForm {
  const list = birthFirstNames(p);
  const first = firstBirthFirstName(p) ?? "";
  return {
    birthName: birthName(p) ?? "",
    firstName: first,
    otherFirstNames: (list[0] === first ? list.slice(1) : list).join(" "),
    birthDate: p.birthDate ? frenchDate(p.birthDate) : "",
    sex: p.gender ?? "",
    birthplace: birthplaceCode(p) ?? "",
    usedName: usedName(p) ?? "",
    usedFirstName: usedFirstName(p) ?? "",
  };
}

function nameError(value: string, required: boolean): string | undefined {
  const text = value.trim();
  if (!text) return required ? "Champ obligatoire." : undefined;
  if (text.length > MAX_NAME) return `${text.length} caractères : ${MAX_NAME} au plus.`;
  if (!NAME_CHARS.test(text)) return "Lettres, espaces, tirets et apostrophes seulement.";
  return undefined;
}

/** Every problem of the form, by field; empty when it may be sent. */
export function check(form: IdentityForm): FormErrors {
  const errors: FormErrors = {};
  const put = (field: keyof IdentityForm, message: string | undefined) => {
    if (message) errors[field] = message;
  };
  put("birthName", nameError(form.birthName, true));
  put("firstName", nameError(form.firstName, true));
  put("otherFirstNames", nameError(form.otherFirstNames, false));
  put("usedName", nameError(form.usedName, false));
  put("usedFirstName", nameError(form.usedFirstName, false));
  if (!form.birthDate.trim()) put("birthDate", "Champ obligatoire.");
  else {
    const iso = /^\d{2}\/\d{2}\/\d{4}$/.test(form.birthDate.trim()) ? isoDate(form.birthDate.trim()) : null;
    if (!iso) put("birthDate", "Date impossible : attendue au format JJ/MM/AAAA.");
    else if (iso > new Date().toISOString().slice(0, 10)) put("birthDate", "La date de naissance est dans le futur.");
  }
  if (!["female", "male", "other"].includes(form.sex)) put("sex", "Choisissez le sexe.");
  if (!form.birthplace.trim()) put("birthplace", "Champ obligatoire (99999 si inconnu).");
  else if (!/^(\d{5}|2[AB]\d{3})$/.test(form.birthplace.trim().toUpperCase())) {
    put("birthplace", "Code INSEE de 5 caractères (99999 si inconnu).");
  }
  return errors;
}

const upper = (text: string) => text.trim().replace(/\s+/g, " ").toUpperCase();
const words = (text: string) => text.trim().split(/\s+/).filter(Boolean);

/** The Patient the form describes, on top of the stored one (what the form does not show is kept). */
export function patientOf(form: IdentityForm, stored: Patient | null): Patient {
  const base: Patient = stored ? { ...stored } : { resourceType: "Patient" };
  const firsts = [upper(form.firstName), ...words(form.otherFirstNames).map(upper)];
  const names = (base.name ?? []).filter((n) => n.use !== "official" && n.use !== "usual");
  names.unshift({ use: "official", family: upper(form.birthName), given: firsts });
  if (form.usedName.trim() || form.usedFirstName.trim()) {
    names.push({ use: "usual", ...(form.usedName.trim() ? { family: upper(form.usedName) } : {}),
      ...(form.usedFirstName.trim() ? { given: [form.usedFirstName.trim()] } : {}) });
  }
  const extension: Extension[] = (base.extension ?? []).filter((e) => e.url !== BIRTH_LIST && e.url !== BIRTHPLACE);
  extension.push({ url: BIRTH_LIST, valueString: firsts.join(" ") });
  extension.push({ url: BIRTHPLACE, valueAddress: { extension: [
    { url: INSEE_CODE, valueCoding: { system: COMMUNE, code: form.birthplace.trim().toUpperCase() } }] } });
  return { ...base, name: names, gender: form.sex, birthDate: isoDate(form.birthDate.trim()) ?? "", extension };
}

/** The form field a server error's FHIRPath expression points at, when it names one. */
export function fieldOfExpression(expression: string | null): keyof IdentityForm | null {
  if (!expression) return null;
  if (expression.includes("birthDate")) return "birthDate";
  if (expression.includes("gender")) return "sex";
  if (expression.includes("birthPlace")) return "birthplace";
  if (expression.includes("given")) return "firstName";
  if (expression.includes("name")) return "birthName";
  return null;
}
