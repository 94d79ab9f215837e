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

export function useWorklistEvents(enabled: boolean): WorklistCounts | null {
  const [counts, setCounts] = useState<WorklistCounts | null>(null);
  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return undefined;
    const source = new EventSource("/fhir/$worklist-events");
    let first = true;
    source.addEventListener("worklists", (event) => {
      const data = JSON.parse((event as MessageEvent<string>).data) as { counts: WorklistCounts };
      setCounts(data.counts);
      if (!first) worklistChanged(); // the lists were just read when the screen opened
      first = false;
    });
    return () => source.close();
  }, [enabled]);
  return counts;
}
