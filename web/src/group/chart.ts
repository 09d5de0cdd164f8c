// Pure helpers of the metrics charts: SVG paths of series and value labels.

export type Point = [number, number];

export interface Bounds {
  t0: number;
  t1: number;
  max: number;
}

/** The time span and the highest value of all series (max at least a tiny positive number). */
export function bounds(series: Point[][]): Bounds {
  const all = series.flat();
  if (!all.length) return { t0: 0, t1: 1, max: 1 };
  const times = all.map((p) => p[0]);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const max = Math.max(...all.map((p) => p[1]), 1e-12);
  return { t0, t1: t1 > t0 ? t1 : t0 + 1, max };
}

/** An SVG path "M x,y L x,y …" of ``points`` in a ``width`` × ``height`` box (y grows downwards). */
export function linePath(points: Point[], b: Bounds, width: number, height: number): string {
  return points
    .map(([t, v], i) => {
      const x = ((t - b.t0) / (b.t1 - b.t0)) * width;
      const y = height - (v / b.max) * height;
      return `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}

/** A value in its unit: cores with 3 decimals, bytes in binary units, others per second. */
export function formatValue(value: number, unit: string): string {
  if (unit === "cores") return value.toFixed(3);
  if (unit.startsWith("bytes")) {
    const suffix = unit.endsWith("/s") ? "/s" : "";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let size = value;
    let i = 0;
    while (Math.abs(size) >= 1024 && i < units.length - 1) {
      size /= 1024;
      i++;
    }
    return `${i ? size.toFixed(1) : size.toFixed(0)}${units[i]}${suffix}`;
  }
  return `${value.toFixed(2)}/s`;
}
