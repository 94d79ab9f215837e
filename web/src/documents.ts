// The CR-Bio of a report as the server keeps it: its three formats through $cr-bio (PDF, self-presenting N3,
// N1 carrying the PDF), and where each version went through $deliveries (one entry per channel and recipient).
import { ApiError, call, fhir } from "./api";

export type CrFormat = "pdf" | "n3" | "n1";

/** $cr-bio in one format. The documents are made just after the validating commit: while the server answers
 * 409 ask again every second, up to a minute; ``waiting`` says when the page should show it is waiting. */
export async function crBio(id: string, format: CrFormat, waiting?: (on: boolean) => void,
  audience?: "patient"): Promise<Blob> {
  const which = audience ? `&audience=${audience}` : "";
  for (let attempt = 0; ; attempt += 1) {
    try {
      const answer = await call(`/fhir/DiagnosticReport/${encodeURIComponent(id)}/$cr-bio?format=${format}${which}`);
      waiting?.(false);
      return await answer.blob();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 409) || attempt >= 60) {
        waiting?.(false);
        throw e;
      }
      waiting?.(true);
      await new Promise((resolve) => window.setTimeout(resolve, 1000));
    }
  }
}

/** The PDF an N1 CDA carries (nonXMLBody, base64), as a Blob; null when it has none. */
export function pdfOfN1(xml: string): Blob | null {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  const text = doc.getElementsByTagNameNS("urn:hl7-org:v3", "nonXMLBody")[0]
    ?.getElementsByTagNameNS("urn:hl7-org:v3", "text")[0];
  if (!text || text.getAttribute("mediaType") !== "application/pdf") return null;
  const raw = atob((text.textContent ?? "").replace(/\s+/g, ""));
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
  return new Blob([bytes], { type: "application/pdf" });
}

/** The N1's document id (root^extension) and its title, for the header of the view. */
export function n1Header(xml: string): { id: string; title: string } {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  const top = doc.documentElement;
  const child = (name: string) => Array.from(top.children).find((c) => c.localName === name);
  const id = child("id");
  return { id: id ? `${id.getAttribute("root") ?? ""}^${id.getAttribute("extension") ?? ""}` : "—",
    title: child("title")?.textContent ?? "—" };
}

export interface Attempt {
  started?: string;
  ended?: string;
  at?: string;
  outcome?: string;
  text?: string;
  manual?: string;
  by?: string;
  reason?: string;
}

export interface Delivery {
  id: string;
  channel: string;
  recipient: string;
  action: string;
  version: number;
  state: string;
  attempts: number;
  created?: string;
  history: Attempt[];
  receipt?: { status?: string; code?: string; label?: string };
  cancel_reason?: string;
  settings?: { blocked_reason?: string | null };
  unsent?: string; // "no-address": nobody could be mailed (a refused tube's notice, server/delivery/notices.py)
  last_answer?: string;
  recipient_extra?: { name?: string; address?: string };
}

/** $deliveries of a report (or of another owner: a refused tube's notice is a "Communication"). */
export async function deliveries(id: string, type = "DiagnosticReport"): Promise<Delivery[]> {
  const answer = await fhir<{ parameter?: { name: string; valueString?: string }[] }>(
    `${type}/${encodeURIComponent(id)}/$deliveries`);
  return (answer.parameter ?? []).filter((p) => p.name === "delivery" && p.valueString)
    .map((p) => JSON.parse(p.valueString as string) as Delivery);
}

export async function retryDeliveries(id: string, ids: string[]): Promise<string[]> {
  const answer = await fhir<{ parameter?: { name: string; valueString?: string }[] }>(
    `DiagnosticReport/${encodeURIComponent(id)}/$delivery-retry`, {
      method: "POST",
      body: { resourceType: "Parameters", parameter: ids.map((d) => ({ name: "delivery", valueString: d })) },
    });
  return (answer.parameter ?? []).map((p) => p.valueString ?? "");
}

export const CHANNEL_LABELS: Record<string, string> = {
  dmp: "DMP",
  mssante: "MSSanté",
  hl7v2: "DPI (HL7 v2)",
};

export const ACTION_LABELS: Record<string, string> = {
  publish: "Envoi",
  replace: "Remplacement",
  withdraw: "Retrait",
};

/** What the lab reads for a delivery: its state, with the receipt's stronger news (read) when there is one. */
export function deliveryState(d: Delivery): { label: string; tone: "ok" | "wait" | "bad" | "off" } {
  if (d.state === "delivered") {
    if (d.receipt?.status === "read") return { label: "Lu", tone: "ok" };
    return { label: "Délivré", tone: "ok" };
  }
  if (d.state === "pending") return { label: d.attempts > 0 ? "Envoi en cours (nouvel essai prévu)" : "À envoyer", tone: "wait" };
  if (d.state === "failed") return { label: "Échec", tone: "bad" };
  if (d.state === "cancelled") return { label: "Annulé", tone: "off" };
  if (d.state === "blocked") return { label: "Bloqué (DMP non alimenté)", tone: "off" };
  return { label: d.state, tone: "wait" };
}

/** Why a delivery is where it is: the partner's last answer, the cancellation reason or the blocking reason. */
export function deliveryReason(d: Delivery): string {
  if (d.state === "cancelled" && d.cancel_reason) return d.cancel_reason;
  if (d.state === "blocked") return d.settings?.blocked_reason ?? "alimentation du DMP bloquée pour ce dossier";
  if (d.receipt?.status && d.receipt.status !== "delivered") {
    return `Accusé : ${d.receipt.status}${d.receipt.code ? ` (${d.receipt.code} ${d.receipt.label ?? ""})` : ""}`.trim();
  }
  const last = [...d.history].reverse().find((h) => h.outcome);
  return last?.text?.trim() ? last.text.trim() : "—";
}

/** When it last happened: the end of the last attempt, else its creation. */
export function lastEvent(d: Delivery): string | undefined {
  const last = d.history[d.history.length - 1];
  return last?.ended ?? last?.at ?? last?.started ?? d.created;
}

export const RETRYABLE = new Set(["failed", "cancelled", "blocked"]);
