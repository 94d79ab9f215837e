// Dates, numbers and units as French labs write them.

/** "1975-04-12" -> "12/04/1975"; an RNIPP date with 00 day or month is shown as stored ("00/04/1975"). */
export function frenchDate(value: string | undefined | null): string {
  if (!value) return "—";
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(value);
  if (!m) return value;
  const [, y, mo, d] = m;
  return [d, mo, y].filter(Boolean).join("/");
}

// Made once: toLocaleDateString with options builds a formatter at each call (~0.3 ms: 30 ms for a list of 50 rows)
const PARIS_DATE = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris" });
const PARIS_TIME = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" });

/** An instant in Paris time: "20/11/2026 à 08:00". */
export function frenchDateTime(value: string | undefined | null): string {
  if (!value) return "—";
  const when = new Date(value);
  if (Number.isNaN(when.getTime())) return value;
  return `${PARIS_DATE.format(when)} à ${PARIS_TIME.format(when)}`;
}

const NUMBER = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 6 });

/** 7.25 -> "7,25". */
export function frenchNumber(value: number | undefined | null): string {
  return value === undefined || value === null ? "—" : NUMBER.format(value);
}

export interface Quantity {
  value?: number;
  unit?: string;
  code?: string;
  comparator?: string;
}

export function quantity(q: Quantity | undefined | null): string {
  if (!q) return "—";
  return `${q.comparator ?? ""}${frenchNumber(q.value)} ${q.unit ?? q.code ?? ""}`.trim();
}
