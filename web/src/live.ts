// Live worklists: one server-sent event stream per open workbench (GET /fhir/$worklist-events), whose events
// carry the worklists' counts. Each change tells every list on screen to read itself again (worklistChanged),
// so a result an analyzer just sent shows without a reload; the counts feed the menu's badges. The browser's
// EventSource reconnects by itself (the server asks for 3 s) after a restart or a network cut.
import { useEffect, useState } from "react";
import { worklistChanged } from "./pages/Worklist";

export interface WorklistCounts {
  unmatched: number;
  received: number;
  biological: number;
  deliveryFailed: number;
}

let held: Promise<unknown> | null = null;
/** The stream opens once ``first`` (the landing screen's first data, asked for at login) has arrived: the
 * server's first counting of every worklist then does not compete with that search (bench/web.py). */
export function holdStreamUntil(first: Promise<unknown>): void {
  held = first;
}

export function useWorklistEvents(enabled: boolean): WorklistCounts | null {
  const [counts, setCounts] = useState<WorklistCounts | null>(null);
  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return undefined;
    let source: EventSource | null = null;
    let closed = false;
    const wait = held ?? Promise.resolve();
    held = null;
    void wait.catch(() => undefined).then(() => {
      if (!closed) source = listen();
    });
    return () => {
      closed = true;
      source?.close();
    };
  }, [enabled]);

  function listen(): EventSource {
    const source = new EventSource("/fhir/$worklist-events");
    let first = true;
    source.addEventListener("worklists", (event) => {
      const data = JSON.parse((event as MessageEvent<string>).data) as { counts: WorklistCounts };
      setCounts(data.counts);
      if (!first) worklistChanged(); // the lists were just read when the screen opened
      first = false;
    });
    return source;
  }
  return counts;
}
