// A refused tube's notice to its requester (server/orders/rejection_notice.py writes the Communication with the
// refusal; server/delivery/notices.py mails it over MSSanté through the outbox): where it stands, read with
// Communication?about=Specimen/<id> and Communication/<id>/$deliveries, shown where the refused tube is shown.
// While a sending is under way the state is read again every 2 s (at most a minute); the words say what happened
// to whom — sent, being sent, failed with the operator's reason, or not sent for want of an MSSanté address.
import { useEffect, useState } from "react";
import { Badge, Group, Text } from "@mantine/core";
import { fhir, matches, type Bundle } from "./api";
import { deliveries, deliveryReason, type Delivery } from "./documents";
import { frenchDateTime } from "./format";

export interface NoticeState { tone: "ok" | "wait" | "bad" | "none"; label: string; detail: string }

const TONES = { ok: "teal.9", wait: "blue.9", bad: "red.9", none: "gray.8" } as const;

function one(d: Delivery): NoticeState {
  const who = d.recipient_extra?.name || d.recipient;
  const to = d.recipient_extra?.address ? `${who} (${d.recipient_extra.address})` : who;
  if (d.state === "delivered") {
    const when = d.history.filter((h) => h.outcome === "delivered").pop()?.ended;
    return { tone: "ok", label: "Avis envoyé (MSSanté)", detail: `à ${to}${when ? ` le ${frenchDateTime(when)}` : ""}` };
  }
  if (d.unsent === "no-address") {
    return { tone: "bad", label: "Avis non envoyé : pas d'adresse MSSanté",
      detail: `${who} : à prévenir par téléphone, ou renseigner son adresse puis relancer` };
  }
  if (d.state === "pending") {
    return { tone: "wait", label: d.attempts > 0 ? "Avis : nouvel essai d'envoi prévu" : "Avis en cours d'envoi (MSSanté)",
      detail: d.attempts > 0 ? `à ${to} — ${d.last_answer ?? deliveryReason(d)}` : `à ${to}` };
  }
  return { tone: "bad", label: d.state === "cancelled" ? "Envoi de l'avis annulé" : "Échec de l'envoi de l'avis",
    detail: `à ${to} — ${d.last_answer ?? deliveryReason(d)}` };
}

/** The notice of this tube and its sending, in words; null when the role may not read it. */
export async function noticeState(specimenId: string): Promise<NoticeState[] | null> {
  try {
    const [notice] = matches(await fhir<Bundle>(
      `Communication?about=${encodeURIComponent(`Specimen/${specimenId}`)}&_count=10`));
    if (!notice?.id) return [{ tone: "none", label: "Aucun prescripteur à informer", detail: "pas de prescripteur sur la demande" }];
    const sent = await deliveries(notice.id, "Communication");
    if (sent.length === 0) {
      return [{ tone: "none", label: "Avis enregistré", detail: "aucun envoi MSSanté configuré : prévenir le prescripteur" }];
    }
    return sent.map(one);
  } catch {
    return null; // a role that may not read the notice: the refusal itself is recorded
  }
}

/** The notice's state for a refused tube, read again while a sending is under way. */
export function NoticeBadges({ specimenId }: { specimenId: string }) {
  const [states, setStates] = useState<NoticeState[] | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer = 0;
    const started = Date.now();
    const read = async () => {
      const found = await noticeState(specimenId);
      if (stopped) return;
      setStates(found);
      if (found?.some((s) => s.tone === "wait") && Date.now() - started < 60_000) timer = window.setTimeout(read, 2000);
    };
    void read();
    return () => { stopped = true; window.clearTimeout(timer); };
  }, [specimenId]);
  if (states === null) return <Text size="sm">—</Text>;
  return (
    <div data-testid={`avis-${specimenId}`}>
      {states.map((s, i) => (
        <Group key={i} gap={6} wrap="nowrap">
          <Badge variant="outline" color={TONES[s.tone]} style={{ flexShrink: 0 }}>{s.label}</Badge>
          <Text size="sm">{s.detail}</Text>
        </Group>
      ))}
    </div>
  );
}
