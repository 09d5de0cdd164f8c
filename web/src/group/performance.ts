// Pure helpers of the performance tab: how a row's numbers read.
export interface ApmRow {
  key: Record<string, string>;
  rps: number;
  error_ratio?: number | null;
  p50?: number | null;
  p90?: number | null;
  p99?: number | null;
}

/** Seconds as milliseconds with one decimal; "-" without a value. */
export function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? "-" : `${(value * 1000).toFixed(1)} ms`;
}

/** A ratio as a percentage with two decimals; "-" without requests. */
export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "-" : `${(value * 100).toFixed(2)}%`;
}

/** What a row is: the version ("v2"), or the method and route ("GET /api/orders"). */
export function rowName(row: ApmRow): string {
  if (row.key.version !== undefined) return `v${row.key.version}`;
  return `${row.key.method ?? ""} ${row.key.route ?? ""}`.trim();
}
