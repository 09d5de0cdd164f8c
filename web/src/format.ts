// Small pure formatting helpers used across the console.
const FLAVORS: Record<string, [number, number]> = {
  tiny: [250, 256],
  small: [1000, 1024],
  medium: [2000, 4096],
  large: [4000, 8192],
  xlarge: [8000, 16384],
};

/** The size a version recorded, or a catalog flavor's (see docs/flavors.md). */
export interface Size {
  cpu_millis: number;
  memory_mib: number;
  extended?: Record<string, number>;
}

/** "small · 1C1024M": with ``size`` (what a version recorded, or the catalog's entry) that size;
 * without, the built-in flavors' (an unknown one shows its name only). */
export function flavorLabel(name: string, size?: Size): string {
  const f = size ? [size.cpu_millis, size.memory_mib] : FLAVORS[name];
  if (!f) return name;
  const extra = Object.entries(size?.extended ?? {}).map(([r, n]) => ` +${n} ${r}`).join("");
  return `${name} · ${f[0] / 1000}C${f[1]}M${extra}`;
}

export const FLAVOR_NAMES = Object.keys(FLAVORS);

/** 42 → "42s", 125 → "2m5s", 7300 → "2h1m", 200000 → "2d7h". */
export function age(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ""}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ""}`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600) ? `${Math.floor((s % 86400) / 3600)}h` : ""}`;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso.endsWith("Z") || iso.includes("+") ? iso : `${iso}Z`);
  return d.toLocaleString();
}

export interface Change {
  field: string;
  old: unknown;
  new: unknown;
}

/** What differs between two specs, per field, config files and env per key (like the server's diff). */
export function specDiff(before: Record<string, unknown>, after: Record<string, unknown>): Change[] {
  const out: Change[] = [];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const k of keys) {
    const a = before[k];
    const b = after[k];
    if ((k === "env" || k === "config_files") && isObject(a ?? {}) && isObject(b ?? {})) {
      out.push(...specDiff((a ?? {}) as Record<string, unknown>, (b ?? {}) as Record<string, unknown>).map((c) => ({ ...c, field: `${k}.${c.field}` })));
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      out.push({ field: k, old: a ?? null, new: b ?? null });
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export interface Row {
  name: string;
  phase: string;
  ready: boolean;
  node: string;
  pod_ip: string;
  host_ip: string;
  version: string;
}

/** Instances whose name, node, IPs, phase or version contain the text (case-insensitive). */
export function filterInstances<T extends Row>(rows: T[], text: string): T[] {
  const q = text.trim().toLowerCase();
  if (!q) return rows;
  return rows.filter((r) =>
    [r.name, r.node, r.pod_ip, r.host_ip, r.phase, r.version].some((v) => v.toLowerCase().includes(q)),
  );
}

/** "containerd://3f2a9c1e5b7d…" → "3f2a9c1e5b7d4" (13 characters, as `crictl ps` shows it); "" → "". */
export function shortContainerId(id: string | null | undefined): string {
  if (!id) return "";
  return id.replace(/^[a-z]+:\/\//, "").slice(0, 13);
}
