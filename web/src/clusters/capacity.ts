// Capacity from GET /clusters/{c}/status: pure helpers for the overview and the cluster page.
import type { Schemas } from "../api/client";

export type ClusterStatus = Schemas["ClusterStatusOut"];
export type Amount = Schemas["AmountOut"];

/** Requested as a percent of allocatable, 0–100+ (a cluster can be over-requested); 0 of 0 is 0. */
export function usedPercent(requested: number, allocatable: number): number {
  if (allocatable <= 0) return requested > 0 ? 100 : 0;
  return Math.round((100 * requested) / allocatable);
}

/** "12.5 / 40 cores" and "3.2 / 16 GiB". */
export function cores(a: Amount, of: Amount): string {
  return `${trim(a.cpu_millis / 1000)} / ${trim(of.cpu_millis / 1000)}`;
}
export function gib(a: Amount, of: Amount): string {
  return `${trim(a.memory_mib / 1024)} / ${trim(of.memory_mib / 1024)}`;
}
function trim(n: number): string {
  return n >= 100 ? String(Math.round(n)) : String(Math.round(n * 10) / 10);
}

/** A color for a usage bar: fine, getting full, full. */
export function usageStatus(percent: number): "normal" | "active" | "exception" {
  if (percent >= 90) return "exception";
  if (percent >= 70) return "active";
  return "normal";
}

export interface PoolRow {
  key: string;
  pool: string;
  cpuModel: string;
  nodes: number;
  ready: number;
  cpu: number;
  memory: number;
  status: Schemas["PoolStatusOut"];
}

/** The pools of a cluster as rows, by pool then CPU model, with their usage percents. */
export function poolRows(status: ClusterStatus): PoolRow[] {
  return [...status.pools]
    .sort((a, b) => a.pool.localeCompare(b.pool) || a.cpu_model.localeCompare(b.cpu_model))
    .map((p) => ({
      key: `${p.pool}/${p.cpu_model}`,
      pool: p.pool,
      cpuModel: p.cpu_model || "-",
      nodes: p.nodes,
      ready: p.ready,
      cpu: usedPercent(p.requested.cpu_millis, p.allocatable.cpu_millis),
      memory: usedPercent(p.requested.memory_mib, p.allocatable.memory_mib),
      status: p,
    }));
}
