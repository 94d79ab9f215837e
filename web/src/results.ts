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
  note?: { text?: string }[];
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
