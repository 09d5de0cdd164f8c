// The group's live state: server-sent events read with fetch (EventSource cannot send the
// Authorization header, and a token must never go into a URL). Reconnects after a drop.
import { loadSession } from "./session";
import { expiresIn, refreshSession } from "./client";

export interface SseEvent {
  event: string;
  data: string;
}

/** Split a text stream into events; returns the parsed events and the unfinished rest. */
export function parseSse(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const blocks = buffer.replace(/\r\n/g, "\n").split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const name = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (name === "event") event = value;
      else if (name === "data") data.push(value);
    }
    if (data.length) events.push({ event, data: data.join("\n") });
  }
  return { events, rest };
}

export interface Subscription {
  close(): void;
}

export function subscribe(
  url: string,
  onEvent: (e: SseEvent) => void,
  onState: (connected: boolean) => void,
): Subscription {
  const stop = new AbortController();
  (async () => {
    while (!stop.signal.aborted) {
      try {
        const current = loadSession()?.access;
        if (current && expiresIn(current) < 30) await refreshSession();
        const token = loadSession()?.access;
        const r = await fetch(url, {
          headers: token ? { Authorization: `Bearer ${token}` } : {},
          signal: stop.signal,
        });
        if (r.status === 401 && (await refreshSession())) continue;
        if (!r.ok || !r.body) {
          onEvent({ event: "error", data: await r.text() });
          onState(false);
          return;
        }
        onState(true);
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const parsed = parseSse(buffer + value);
          buffer = parsed.rest;
          // An expired access token ends the stream; the reconnect below refreshes it quietly.
          parsed.events.filter((e) => !(e.event === "error" && e.data.includes('"unauthenticated"'))).forEach(onEvent);
        }
      } catch {
        if (stop.signal.aborted) return;
      }
      onState(false);
      await new Promise((ok) => setTimeout(ok, 1000));
    }
  })();
  return { close: () => stop.abort() };
}
