// The logged-in user, as the server describes them (GET /auth/session): role, the permission table's
// rows for that role, and the site settings the screens follow.
import { ApiError, call, csrfToken } from "./api";

export interface Session {
  username: string;
  role: string;
  name: string | null;
  practitioner: string | null;
  login: "password" | "psc" | null;
  permissions: string[];
  site: { insDisplay: string[]; psc: boolean };
}

export async function currentSession(): Promise<Session | null> {
  try {
    return (await (await call("/auth/session")).json()) as Session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/** Opens the session: the server's answer already describes it (as GET /auth/session does). */
export async function login(username: string, password: string): Promise<Session> {
  const answer = await call("/auth/login", { method: "POST", body: { username, password }, json: true });
  const session = (await answer.json()) as Session;
  if (!Array.isArray(session.permissions)) throw new ApiError(401, "La session n'a pas pu être ouverte.");
  return session;
}

/** Ends the session. A Pro Santé Connect session ends at PSC too: a real form post (top-level navigation),
 * which the server answers with a redirection to PSC's end-session endpoint. */
export async function logout(session: Session): Promise<void> {
  if (session.login === "psc") {
    const form = document.createElement("form");
    form.method = "post";
    form.action = "/auth/psc/logout";
    const csrf = document.createElement("input");
    csrf.type = "hidden";
    csrf.name = "csrf";
    csrf.value = csrfToken();
    form.append(csrf);
    document.body.append(form);
    form.submit();
    return new Promise(() => undefined); // the page is leaving
  }
  await call("/auth/logout", { method: "POST" });
}

/** Whether this server offers Pro Santé Connect login (public answer). */
export async function pscAvailable(): Promise<boolean> {
  try {
    return Boolean((await (await call("/auth/psc/available")).json()).available);
  } catch {
    return false;
  }
}

/** Whether the role holds that row of the permission table ("DiagnosticReport:$validate-biological"). */
export function can(session: Session, resourceType: string, interaction: string): boolean {
  return session.permissions.includes(`${resourceType}:${interaction}`);
}

export const ROLE_LABELS: Record<string, string> = {
  secretaire: "Secrétaire",
  preleveur: "Préleveur",
  technicien: "Technicien",
  biologiste: "Biologiste",
  "biologiste-responsable": "Biologiste responsable",
  administrateur: "Administrateur",
};
