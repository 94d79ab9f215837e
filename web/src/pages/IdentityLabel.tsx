// The identity label of a qualified identity (SGL.INS.53): the server's PDF with the INS Datamatrix and the
// traits it encodes (GET Patient/{id}/$identity-label), shown here to print. Offered only for a qualified
// identity and to a role holding that row of the permission table; the server checks both again.
import { useEffect, useState } from "react";
import { Alert, Button, Group, Paper } from "@mantine/core";
import { call } from "../api";
import { identityStatus, type Patient } from "../identity";
import { can, type Session } from "../session";

export function IdentityLabel({ session, patient }: { session: Session; patient: Patient }) {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => () => { if (url) URL.revokeObjectURL(url); }, [url]);
  if (!can(session, "Patient", "$identity-label") || identityStatus(patient) !== "QUAL") return null;

  async function print() {
    setBusy(true);
    setError(null);
    try {
      const answer = await call(`/fhir/Patient/${encodeURIComponent(patient.id ?? "")}/$identity-label`);
      setUrl(URL.createObjectURL(await answer.blob()));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" component="section" aria-label="Étiquette d'identité">
      <Group>
        <Button variant="outline" onClick={print} loading={busy}>Étiquette d'identité (Datamatrix INS, PDF)</Button>
        {url && <Button component="a" variant="subtle" href={url} download={`identite-${patient.id}.pdf`}>
          Télécharger l'étiquette</Button>}
      </Group>
      {error && <Alert mt="sm" color="red.9" role="alert">{error}</Alert>}
      {url && <iframe title="Étiquette d'identité (PDF)" src={url} style={{ width: "100%", height: 260, border: 0 }} />}
    </Paper>
  );
}
