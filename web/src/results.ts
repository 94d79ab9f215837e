// Results as the screens read them: the Observation shape, its catalogue code and name, its value in
// French, and the validation steps it went through (tags written by server/validation).
import { fhir, matches, type Bundle, type CodeableConcept, type Coding, type FhirResource, type Reference } from "./api";
import { quantity, type Quantity } from "./format";

export interface Observation extends FhirResource {
  resourceType: "Observation";
  status: string;
  code: CodeableConcept;
  subject?: Reference;
  effectiveDateTime?: string;
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  valueString?: string;
  interpretation?: CodeableConcept[];
  referenceRange?: { low?: Quantity; high?: Quantity; text?: string }[];
  note?: { text?: string; extension?: { url?: string; valueCode?: string }[] }[];
}

export const CATALOGUE = "https://opensgl.org/fhir/CodeSystem/catalogue";
const STEP = "https://opensgl.org/fhir/CodeSystem/validation-step";

let analysisNames: Promise<Map<string, string>> | null = null;
/** Catalogue code -> analysis name, read once from the catalogue's ObservationDefinitions. */
export function analysisName(): Promise<Map<string, string>> {
  analysisNames ??= fhir<Bundle>("ObservationDefinition?_count=500").then((b) => {
    const out = new Map<string, string>();
    for (const def of matches(b)) {
      for (const c of ((def.code as CodeableConcept | undefined)?.coding ?? [])) {
        if (c.system === CATALOGUE && c.code && c.display) out.set(c.code, c.display);
      }
    }
    return out;
  }).catch(() => {
    analysisNames = null;
    return new Map<string, string>();
  });
  return analysisNames;
}

export const catalogueCode = (o: Observation): Coding | undefined =>
  o.code.coding?.find((c) => c.system === CATALOGUE) ?? o.code.coding?.[0];

export function valueText(o: Observation): string {
  if (o.valueQuantity) return quantity(o.valueQuantity);
  if (o.valueCodeableConcept) return o.valueCodeableConcept.text ?? o.valueCodeableConcept.coding?.[0]?.display
    ?? o.valueCodeableConcept.coding?.[0]?.code ?? "—";
  return o.valueString ?? "—";
}

export const steps = (o: FhirResource): (string | undefined)[] =>
  (o.meta?.tag ?? []).filter((t) => t.system === STEP).map((t) => t.code);

const V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
const INSTRUMENT_RESULT = "https://opensgl.org/fhir/StructureDefinition/instrument-result";

/** Why a result may not be validated in bulk (none: it is "clear"): a flag other than normal (critical,
 * outside the range, delta check), an analyzer flag, a comment, a value changed after it was received, or no
 * technical validation. The same conditions the server's autoverification applies (server/validation). */
export function notClear(o: Observation): string[] {
  const why: string[] = [];
  const flags = (o.interpretation ?? []).flatMap((i) => i.coding ?? [])
    .filter((c) => c.system === V3_INTERPRETATION).map((c) => c.code ?? "");
  if (flags.some((f) => ["HH", "LL", "AA"].includes(f))) why.push("valeur critique");
  else if (flags.some((f) => ["H", "L", "A"].includes(f))) why.push("hors valeurs de référence");
  if (flags.some((f) => ["U", "D"].includes(f))) why.push("delta check");
  const instrument = ((o.extension ?? []) as { url: string; extension?: { url: string; valueString?: string }[] }[])
    .filter((e) => e.url === INSTRUMENT_RESULT).flatMap((e) => e.extension ?? []);
  if (instrument.some((p) => p.url === "flag" && !["", "N"].includes(p.valueString ?? ""))) why.push("alarme de l'automate");
  if (instrument.some((p) => p.url === "correction")) why.push("modifié après réception");
  if ((o.note ?? []).length) why.push("commentaire");
  if (!steps(o).includes("technical") && !steps(o).includes("autoverified")) why.push("pas validé techniquement");
  if (!o.valueQuantity && !o.valueCodeableConcept && !o.valueString) why.push("sans valeur");
  return why;
}

/** A note for health professionals only: left out of the patient version of the CR-Bio (SGL.DOC.02). */
export function professionalOnly(note: { extension?: { url?: string; valueCode?: string }[] }): boolean {
  return (note.extension ?? []).some((e) => e.url === "https://opensgl.org/fhir/StructureDefinition/note-audience"
    && e.valueCode === "professional");
}
