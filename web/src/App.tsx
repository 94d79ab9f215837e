// The shell: who is logged in, the screens their role may use, logout, and the return to the login form
// when the session ends (expiry, revocation) with a message saying so.
import { useCallback, useEffect, useState } from "react";
import { Alert, AppShell, Badge, Button, Group, Loader, NavLink, Text, Title } from "@mantine/core";
import { whenSessionEnds } from "./api";
import { ROLE_LABELS, can, currentSession, logout, type Session } from "./session";
import { linkProps, navigate, usePath } from "./router";
import { LoginPage } from "./pages/Login";
import { PatientSearchPage } from "./pages/PatientSearch";
import { PatientFilePage } from "./pages/PatientFile";
import { WorklistPage, usePendingCount } from "./pages/Worklist";
import { ReportPage } from "./pages/Report";
import { BenchPage, prefetchBench } from "./pages/Bench";
import { PatientEditPage } from "./pages/PatientEdit";
import { OrderNewPage } from "./pages/OrderNew";
import { ReceptionPage } from "./pages/Reception";
import { UnmatchedPage } from "./pages/Unmatched";
import { holdStreamUntil, useWorklistEvents, type WorklistCounts } from "./live";
import { ReportsPage } from "./pages/Reports";
import { ReportDocumentsPage } from "./pages/ReportDocuments";
import { CataloguePage } from "./pages/Catalogue";
import { DashboardPage } from "./pages/Dashboard";
import { AutoverifiedPage } from "./pages/Autoverified";
import { AdministrationPage } from "./pages/Administration";

interface Screen {
  path: string;
  label: string;
  allowed: (s: Session) => boolean;
}

const SCREENS: Screen[] = [
  { path: "/patients", label: "Patients", allowed: (s) => can(s, "Patient", "read") },
  { path: "/reception", label: "Réception des tubes", allowed: (s) => can(s, "Specimen", "update") },
  {
    path: "/non-rattaches",
    label: "Résultats non rattachés",
    allowed: (s) => can(s, "Observation", "update") && can(s, "Task", "update"),
  },
  {
    path: "/paillasse",
    label: "Validation technique",
    allowed: (s) => can(s, "Observation", "$validate-technical"),
  },
  {
    path: "/validation",
    label: "Validation biologique",
    allowed: (s) => can(s, "DiagnosticReport", "$validate-biological"),
  },
  { path: "/autovalides", label: "Résultats autovalidés", allowed: (s) => can(s, "DiagnosticReport", "$validate-biological") },
  {
    path: "/comptes-rendus",
    label: "Comptes rendus et diffusion",
    allowed: (s) => can(s, "DiagnosticReport", "$cr-bio") || can(s, "DiagnosticReport", "$deliveries"),
  },
  { path: "/catalogue", label: "Catalogue et LOINC", allowed: (s) => can(s, "ObservationDefinition", "read") },
  { path: "/tableau-de-bord", label: "Tableau de bord des envois", allowed: (s) => can(s, "*", "$delivery-dashboard") },
  { path: "/administration", label: "Administration", allowed: (s) => can(s, "Person", "read") },
];

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [ended, setEnded] = useState(false);
  const path = usePath();

  useEffect(() => {
    whenSessionEnds(() => {
      setSession((current) => {
        if (current) setEnded(true);
        return null;
      });
    });
    currentSession().then(setSession, () => setSession(null));
  }, []);

  const onLogin = useCallback((s: Session) => {
    const first = SCREENS.find((screen) => screen.allowed(s));
    const landing = path === "/" || path === "/connexion" ? first?.path ?? "/" : path;
    // the screen's data is asked for now, while the shell is being drawn (bench/web.py measures this path)
    if (landing === "/paillasse" && can(s, "Observation", "$validate-technical")) {
      holdStreamUntil(prefetchBench(streamed(s)));
    }
    setEnded(false);
    setSession(s);
    if (landing !== path) navigate(landing);
  }, [path]);

  const onLogout = useCallback(async () => {
    if (!session) return;
    try {
      await logout(session);
    } finally {
      setSession(null);
      setEnded(false);
      navigate("/");
    }
  }, [session]);

  if (session === undefined) return <Loader aria-label="Chargement" m="xl" />;
  if (session === null) return <LoginPage onLogin={onLogin} expired={ended} />;
  return <Shell session={session} path={path} onLogout={onLogout} />;
}

/** Whether this session receives the live worklist counts (server-sent events). */
const streamed = (s: Session) => can(s, "*", "$worklist-events") && typeof EventSource !== "undefined";

function Shell({ session, path, onLogout }: { session: Session; path: string; onLogout: () => void }) {
  const screens = SCREENS.filter((s) => s.allowed(session));
  const pending = usePendingCount(can(session, "DiagnosticReport", "$validate-biological"));
  const live = useWorklistEvents(streamed(session));
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 230, breakpoint: 0 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Title order={1} size="h3">OpenSGL</Title>
          <Group>
            <Text size="sm" data-testid="user">
              {session.name ?? session.username} — {ROLE_LABELS[session.role] ?? session.role}
            </Text>
            <Button variant="default" size="xs" onClick={onLogout}>Se déconnecter</Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Écrans">
        {screens.map((s) => (
          <NavLink
            key={s.path}
            component="a"
            variant="filled"
            {...linkProps(s.path)}
            label={s.label}
            active={path === s.path || path.startsWith(`${s.path}/`)}
            rightSection={s.path === "/validation" && pending !== null ? (
              <Badge size="sm" variant="filled" aria-label={`${pending} en attente`}>{pending}</Badge>
            ) : s.path === "/non-rattaches" && live ? (
              <Badge size="sm" variant="filled" data-testid="nav-unmatched"
                aria-label={`${live.unmatched} à rattacher`}>{live.unmatched}</Badge>
            ) : undefined}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        <main>{route(session, path, screens, live)}</main>
      </AppShell.Main>
    </AppShell>
  );
}

function unavailable(any = true) {
  return any ? (
    <Alert color="gray" title="Écran non disponible">
      Cet écran n'existe pas ou votre profil n'y a pas accès. Choisissez un écran dans le menu.
    </Alert>
  ) : (
    <Alert color="gray" title="Aucun écran">Votre profil n'a accès à aucun écran du poste de travail.</Alert>
  );
}

function route(session: Session, path: string, screens: Screen[], live: WorklistCounts | null) {
  const [, page, id] = path.split("/");
  if (page === "identite" && id) {
    const edit = id === "nouvelle" ? can(session, "Patient", "create") : can(session, "Patient", "update");
    return edit ? <PatientEditPage id={id === "nouvelle" ? null : id} /> : unavailable();
  }
  if (page === "demandes" && id === "nouvelle" && can(session, "ServiceRequest", "$order")) {
    const patient = new URLSearchParams(window.location.search).get("patient");
    return patient ? <OrderNewPage patientId={patient} /> : unavailable();
  }
  const allowed = screens.some((s) => s.path === `/${page}`);
  if (!allowed) return unavailable(screens.length > 0);
  if (page === "patients") return id ? <PatientFilePage session={session} id={id} /> : <PatientSearchPage session={session} />;
  if (page === "paillasse") return <BenchPage streamed={streamed(session)} live={live} />;
  if (page === "reception") return <ReceptionPage session={session} />;
  if (page === "non-rattaches") return <UnmatchedPage who={session.name ?? session.username} />;
  if (page === "validation") return id ? <ReportPage session={session} id={id} /> : <WorklistPage />;
  if (page === "autovalides") return <AutoverifiedPage />;
  if (page === "catalogue") return <CataloguePage session={session} />;
  if (page === "tableau-de-bord") return <DashboardPage />;
  if (page === "administration") return <AdministrationPage session={session} />;
  if (page === "comptes-rendus") return id ? <ReportDocumentsPage session={session} id={id} /> : <ReportsPage />;
  return null;
}
