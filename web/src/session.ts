// The logged-in user, as the server describes them (GET /auth/session): role, the permission table's
// rows for that role, and the site settings the screens follow.
import { ApiError, call } from "./api";

export interface Session {
  username: string;
  role: string;
  name: string | null;
  practitioner: string | null;
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

export async function login(username: string, password: string): Promise<Session> {
  await call("/auth/login", { method: "POST", body: { username, password }, json: true });
  const session = await currentSession();
  if (!session) throw new ApiError(401, "La session n'a pas pu être ouverte.");
  return session;
}

export async function logout(): Promise<void> {
  await call("/auth/logout", { method: "POST" });
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
