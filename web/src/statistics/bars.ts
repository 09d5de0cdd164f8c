// Pure helpers of the statistics charts: bars of requested / used / billed per row, and the days'
// line of requested vs used. Values come from the API's decimal strings (core-hours, GiB-hours).
import type { Point } from "../group/chart";

export interface BarRow {
  label: string;
  requested: number;
  used: number;
  billed: number;
}

/** Each bar's width in a box ``width`` wide, scaled to the largest value of any row. */
export function barWidths(rows: BarRow[], width: number): { requested: number; used: number; billed: number }[] {
  const max = Math.max(1e-12, ...rows.flatMap((r) => [r.requested, r.used, r.billed]));
  return rows.map((r) => ({
    requested: (r.requested / max) * width,
    used: (r.used / max) * width,
    billed: (r.billed / max) * width,
  }));
}

/** A row's label: system/app/group, then the cluster or the IDC when the level has them. */
export function rowLabel(r: { system: string; app: string; group: string; cluster: string; idc: string; instance: string }): string {
  const path = [r.system, r.app, r.group].filter(Boolean).join("/");
  const where = r.cluster ? `@${r.cluster}` : r.idc ? `idc ${r.idc}` : "";
  return [path, r.instance, where].filter(Boolean).join(" ") || "-";
}

/** Days summed: (day as Unix seconds, value) in day order, from rows of several keys per day. */
export function perDay(rows: { day?: string | null }[], value: (r: never) => number): Point[] {
  const sums = new Map<string, number>();
  for (const r of rows) {
    if (!r.day) continue;
    sums.set(r.day, (sums.get(r.day) ?? 0) + value(r as never));
  }
  return [...sums.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([d, v]) => [Date.parse(`${d}T00:00:00Z`) / 1000, v]);
}

/** A ratio as a percentage with one decimal, "-" for none. */
export function percent(value: number | null | undefined): string {
  return value == null ? "-" : `${(value * 100).toFixed(1)}%`;
}
