// A DiagnosticReport as the workbench's report screens read it, its status in French, and the name a lab
// gives it (the request number) — shared by the lists (worklist, reports, autoverified) and the report screens.
import type { FhirResource, Reference } from "./api";

export interface DiagnosticReport extends FhirResource {
  resourceType: "DiagnosticReport";
  status: string;
  subject?: Reference;
  result?: Reference[];
  identifier?: { system?: string; value?: string }[];
  issued?: string;
  effectiveDateTime?: string;
  conclusion?: string;
}

export const REPORT_STATUS: Record<string, string> = {
  registered: "Enregistré",
  partial: "En attente de validation biologique",
  preliminary: "Partiellement validé",
  final: "Validé",
  amended: "Complété",
  corrected: "Corrigé",
  cancelled: "Annulé",
  "entered-in-error": "Erreur de saisie",
};

/** The request number the lab knows the report by (its id when it has none). */
export function requestNumber(report: DiagnosticReport): string {
  return report.identifier?.[0]?.value ?? report.id ?? "";
}
