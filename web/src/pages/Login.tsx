// The local account form. A wrong password, a locked account (429) or a server error is said in French,
// next to the form; nothing is stored in the browser but the server's session cookies.
import { useEffect, useState, type FormEvent } from "react";
import { Alert, Button, Center, Divider, Paper, PasswordInput, Stack, TextInput, Title } from "@mantine/core";
import { ApiError } from "../api";
import { login, pscAvailable, type Session } from "../session";

export function LoginPage({ onLogin, expired }: { onLogin: (s: Session) => void; expired: boolean }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [psc, setPsc] = useState(false);
  useEffect(() => {
    pscAvailable().then(setPsc);
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await login(username.trim(), password));
    } catch (e) {
      setPassword("");
      if (e instanceof ApiError && e.status === 429) {
        setError("Trop d'essais : ce compte est verrouillé pour 15 minutes.");
      } else if (e instanceof ApiError && e.status === 401) {
        setError("Identifiant ou mot de passe incorrect.");
      } else {
        setError(`Connexion impossible : ${e instanceof Error ? e.message : String(e)}`);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" component="main">
      <Paper withBorder shadow="sm" p="xl" w={380}>
        <form onSubmit={submit} aria-label="Connexion">
          <Stack>
            <Title order={1} size="h2">OpenSGL — connexion</Title>
            {expired && (
              <Alert color="orange" role="alert" title="Session terminée">
                Votre session a expiré ou a été fermée. Reconnectez-vous.
              </Alert>
            )}
            <TextInput
              label="Identifiant"
              autoComplete="username"
              required
              value={username}
              onChange={(e) => setUsername(e.currentTarget.value)}
              autoFocus
            />
            <PasswordInput
              label="Mot de passe"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
            {error && <Alert color="red" role="alert">{error}</Alert>}
            <Button type="submit" loading={busy}>Se connecter</Button>
            {psc && (
              <>
                <Divider label="ou" labelPosition="center" />
                {/* a plain link: the server sends the browser to PSC and back (authorization code + PKCE) */}
                <Button component="a" href="/auth/psc/login" variant="outline">
                  Se connecter avec Pro Santé Connect
                </Button>
              </>
            )}
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
