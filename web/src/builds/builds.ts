// Builds in the console: pure helpers for the builds tab (what a start asks for, what is still
// running, which source to offer again).
import type { Schemas } from "../api/client";

export type Build = Schemas["BuildOut"];
export type RefKind = "branch" | "commit" | "tag";
export const ENDED = ["succeeded", "failed", "cancelled"];

export const ended = (b: Build) => ENDED.includes(b.status);

/** Whether the list should keep refreshing: a build is queued or running. */
export function anyRunning(builds: Build[]): boolean {
  return builds.some((b) => !ended(b));
}

/** The source the application was last built from (the API uses it when none is given). */
export function lastSource(builds: Build[]): string {
  const newest = [...builds].sort((a, b) => String(b.created_at ?? "").localeCompare(String(a.created_at ?? "")))[0];
  return newest?.source ?? "";
}

export interface StartForm {
  source?: string;
  refKind: RefKind;
  ref: string;
  dockerfile?: string;
}

/** The body of POST …/builds: the source only when it changes (else the last one is used). */
export function startBody(form: StartForm, remembered: string): Schemas["BuildIn"] {
  const body: Schemas["BuildIn"] = { [form.refKind]: form.ref.trim() };
  const source = form.source?.trim();
  if (source && source !== remembered) body.source = source;
  const dockerfile = form.dockerfile?.trim();
  if (dockerfile && dockerfile !== "Dockerfile") body.dockerfile = dockerfile;
  return body;
}

/** The form field an API error names: "branch", "commit" and "tag" are the reference's field. */
export function buildField(field: string | undefined): keyof StartForm | undefined {
  if (!field) return undefined;
  if (["branch", "commit", "tag"].includes(field)) return "ref";
  if (field === "source" || field === "dockerfile") return field;
  return undefined;
}

/** A build's log line count and end, from its SSE stream's events (a reconnect replays the log). */
export interface LogState {
  lines: string[];
  end?: { status: string; reason: string };
}

export function onLogEvent(state: LogState, event: { event: string; data: string }): LogState {
  if (event.event === "end") {
    const body = JSON.parse(event.data) as { status: string; reason: string };
    return { ...state, end: body };
  }
  if (event.event === "message") return { ...state, lines: [...state.lines, event.data] };
  return state;
}
