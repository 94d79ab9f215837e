// The one door to the server: the public FHIR API (/fhir) and the session routes (/auth), with the
// session cookie, its CSRF token on every state-changing call, and one place where an ended session
// (401) sends the user back to the login form.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly expression: string | null = null,
    readonly outcome: unknown = null, // the whole OperationOutcome, for the screens that list every issue
  ) {
    super(message);
  }
}

let onSessionEnded: (() => void) | null = null;

/** Called on any 401: the session expired, was revoked or the account disabled. */
export function whenSessionEnds(handler: () => void): void {
  onSessionEnded = handler;
}

export function csrfToken(): string {
  const found = document.cookie.split("; ").find((c) => c.startsWith("sgl_csrf="));
  return found ? decodeURIComponent(found.slice("sgl_csrf=".length)) : "";
}

const SAFE = new Set(["GET", "HEAD"]);

/** The first issue of an OperationOutcome, as one sentence for the user. */
async function errorOf(answer: Response): Promise<ApiError> {
  let text = `${answer.status} ${answer.statusText}`;
  let expression: string | null = null;
  let outcome: unknown = null;
  try {
    const body = await answer.json();
    outcome = body;
    const issue = body?.issue?.[0];
    if (issue) {
      text = issue.diagnostics ?? issue.details?.text ?? text;
      expression = issue.expression?.[0] ?? null;
    }
  } catch {
    /* not JSON: keep the status line */
  }
  return new ApiError(answer.status, text, expression, outcome);
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  json?: boolean; // send application/json (the /auth routes) rather than application/fhir+json
  headers?: Record<string, string>; // e.g. If-Match: W/"3" (a write on the version the user saw)
  raw?: string | Blob; // a body sent as is (a CSV file), with headers["Content-Type"]
}

export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/fhir+json, application/json", ...options.headers };
  if (!SAFE.has(method)) headers["X-CSRF-Token"] = csrfToken();
  let body: string | Blob | undefined = options.raw;
  if (options.body !== undefined) {
    headers["Content-Type"] = options.json ? "application/json" : "application/fhir+json";
    body = JSON.stringify(options.body);
  }
  // no-store: health data never goes to the browser's disk cache, and a read after a change is never stale
  // (the API sends Last-Modified without Cache-Control, which browsers would otherwise cache heuristically)
  const answer = await fetch(path, { method, headers, body, credentials: "same-origin", cache: "no-store" });
  if (answer.status === 401 && !path.startsWith("/auth/login")) {
    onSessionEnded?.();
  }
  if (!answer.ok) throw await errorOf(answer);
  return answer;
}

export async function fhir<T = FhirResource>(path: string, options: CallOptions = {}): Promise<T> {
  const answer = await call(`/fhir/${path}`, options);
  return (await answer.json()) as T;
}

// Minimal FHIR shapes: only what the screens read.
export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
export interface CodeableConcept {
  coding?: Coding[];
  text?: string;
}
export interface Reference {
  reference?: string;
  display?: string;
}
export interface Extension {
  url: string;
  valueString?: string;
  valueCode?: string;
  valueDateTime?: string;
  valueCoding?: Coding;
  valueAddress?: { city?: string; extension?: Extension[] };
  valueReference?: Reference;
  extension?: Extension[];
}
export interface FhirResource {
  resourceType: string;
  id?: string;
  meta?: { versionId?: string; lastUpdated?: string; tag?: Coding[]; security?: Coding[] };
  [key: string]: unknown;
}
export interface Bundle<T extends FhirResource = FhirResource> {
  resourceType: "Bundle";
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: { resource: T; search?: { mode?: string } }[];
}

/** The matched resources of a search Bundle (not the included ones). */
export function matches<T extends FhirResource>(bundle: Bundle<T>): T[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode !== "include").map((e) => e.resource);
}

/** The included resources of a search Bundle, by "Type/id". */
export function included(bundle: Bundle): Map<string, FhirResource> {
  const out = new Map<string, FhirResource>();
  for (const e of bundle.entry ?? []) {
    if (e.search?.mode === "include") out.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
  }
  return out;
}
