// The placement preview (POST …/preview) as the placement tab shows it: per cluster, how many
// instances fit, how many would stay pending, and the scheduler's reasons. Pure.
import type { Schemas } from "../api/client";

export type Preview = Schemas["PreviewOut"];
export type ClusterFit = Schemas["ClusterFitOut"];
export type Verdict = "fits" | "partial" | "none" | "unknown";

/** Whether a cluster takes all its instances, some, none; unknown while its caches are not synced. */
export function verdict(c: ClusterFit): Verdict {
  if (!c.connected) return "unknown";
  if (c.pending === 0) return "fits";
  return c.fits > 0 ? "partial" : "none";
}

export interface ReasonRow {
  reason: string;
  nodes: number;
}

/** The scheduler's reasons, the most common first (nodes refused for it), then by name. */
export function reasonRows(reasons: Record<string, number>): ReasonRow[] {
  return Object.entries(reasons)
    .map(([reason, nodes]) => ({ reason, nodes }))
    .sort((a, b) => b.nodes - a.nodes || a.reason.localeCompare(b.reason));
}

/** Where the instances that fit land, the busiest nodes first, at most `limit` of them and how many
 * more nodes there are. */
export function topNodes(nodes: Record<string, number>, limit = 5): { shown: [string, number][]; more: number } {
  const all = Object.entries(nodes).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { shown: all.slice(0, limit), more: Math.max(0, all.length - limit) };
}

/** The body of a preview: the latest version with other instances or flavor when either is given,
 * else the version chosen (by default the one running). */
export function previewBody(form: { version?: number; instances?: number; flavor?: string }, current?: number | null): Schemas["PreviewIn"] {
  const changes: Record<string, unknown> = {};
  if (form.instances !== undefined && form.instances !== null) changes.instances = form.instances;
  if (form.flavor) changes.flavor = form.flavor;
  if (Object.keys(changes).length) return { changes };
  return { version: form.version ?? current ?? undefined };
}
