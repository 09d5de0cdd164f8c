// A gray release's steps, as the server reads them (domain/release.py): `gray N`, `P%`, `weight P%`,
// `pause`, `pause 30s|5m|2h`. Pure: the step editor checks them as the server will and shows, before
// the release starts, how many instances of each version every step runs.

export type StepKind = "gray" | "percent" | "weight" | "pause" | "pauseFor";
export interface StepRow {
  kind: StepKind;
  value?: number; // gray: instances; percent/weight: %; pauseFor: minutes
}
export interface StepProblem {
  index: number | null; // the row it is about; null: the steps as a whole
  key: "steps.empty" | "steps.grayMin" | "steps.percentRange" | "steps.weightRange" | "steps.pauseRange" | "steps.lower" | "steps.last100" | "steps.weightFirst" | "steps.weightAfter" | "steps.endPause" | "steps.tooMany";
}
export interface StepPlan {
  text: string;
  newInstances: number; // of the new version once the step is done
  stableInstances: number;
  weight: number | null; // the new version's share of requests there (null: by instance counts)
}

export const MAX_STEPS = 20;
export const MAX_PAUSE_MINUTES = 7 * 24 * 60;

/** The text the API takes for a row. */
export function stepText(s: StepRow): string {
  switch (s.kind) {
    case "gray":
      return `gray ${s.value ?? 0}`;
    case "percent":
      return `${s.value ?? 0}%`;
    case "weight":
      return `weight ${s.value ?? 0}%`;
    case "pause":
      return "pause";
    case "pauseFor":
      return `pause ${s.value ?? 0}m`;
  }
}

/** The rows of step texts (as a release's `steps`); unknown texts are left out. */
export function parseSteps(texts: string[]): StepRow[] {
  const rows: StepRow[] = [];
  for (const raw of texts) {
    const t = raw.trim().toLowerCase().replace(/\s+/g, " ");
    let m: RegExpMatchArray | null;
    if ((m = t.match(/^gray (\d{1,4})$/))) rows.push({ kind: "gray", value: Number(m[1]) });
    else if ((m = t.match(/^(\d{1,3})%$/))) rows.push({ kind: "percent", value: Number(m[1]) });
    else if ((m = t.match(/^weight (\d{1,3})%$/))) rows.push({ kind: "weight", value: Number(m[1]) });
    else if (t === "pause") rows.push({ kind: "pause" });
    else if ((m = t.match(/^pause (\d{1,6})([smh])$/))) {
      const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"];
      rows.push({ kind: "pauseFor", value: Math.max(1, Math.round(seconds / 60)) });
    }
  }
  return rows;
}

const setsInstances = (s: StepRow) => s.kind === "gray" || s.kind === "percent";

/** How many instances of the new version a step asks for in a group of `total` (server: new_instances). */
export function newInstances(s: StepRow, total: number): number {
  if (s.kind === "gray") return Math.min(s.value ?? 0, total);
  if (s.kind === "percent") return Math.min(total, Math.ceil((total * (s.value ?? 0)) / 100));
  throw new Error(`a ${s.kind} step sets no instances`);
}

/** Every step with the instances of each version once it is done (a pause or a weight keeps the split
 * of the instance step before it) and the share of requests a weight step gives the new version. */
export function plan(steps: StepRow[], total: number): StepPlan[] {
  let fresh = 0;
  let weight: number | null = null;
  return steps.map((s) => {
    if (setsInstances(s)) {
      fresh = newInstances(s, total);
      if (s.kind === "percent" && s.value === 100) weight = null;
    }
    if (s.kind === "weight") weight = s.value ?? 0;
    return { text: stepText(s), newInstances: fresh, stableInstances: total - fresh, weight };
  });
}

/** The first problems the server would refuse the steps for (the same rules as parse_steps). */
export function problems(steps: StepRow[]): StepProblem[] {
  const found: StepProblem[] = [];
  if (!steps.length) return [{ index: null, key: "steps.empty" }];
  if (steps.length > MAX_STEPS) found.push({ index: null, key: "steps.tooMany" });
  let share = 0;
  steps.forEach((s, i) => {
    const v = s.value ?? NaN;
    if (s.kind === "gray" && !(Number.isInteger(v) && v >= 1)) found.push({ index: i, key: "steps.grayMin" });
    if (s.kind === "percent") {
      if (!(Number.isInteger(v) && v >= 1 && v <= 100)) found.push({ index: i, key: "steps.percentRange" });
      else if (v / 100 < share) found.push({ index: i, key: "steps.lower" });
      else share = v / 100;
    }
    if (s.kind === "weight" && !(Number.isInteger(v) && v >= 0 && v <= 100)) found.push({ index: i, key: "steps.weightRange" });
    if (s.kind === "pauseFor" && !(Number.isInteger(v) && v >= 1 && v <= MAX_PAUSE_MINUTES)) found.push({ index: i, key: "steps.pauseRange" });
  });
  const counted = steps.map((s, i) => [s, i] as const).filter(([s]) => setsInstances(s));
  const last = counted.length ? counted[counted.length - 1] : undefined;
  if (!last || last[0].kind !== "percent" || last[0].value !== 100) found.push({ index: null, key: "steps.last100" });
  steps.forEach((s, i) => {
    if (s.kind !== "weight") return;
    if (!steps.slice(0, i).some(setsInstances)) found.push({ index: i, key: "steps.weightFirst" });
    else if (last && i > last[1]) found.push({ index: i, key: "steps.weightAfter" });
  });
  if (steps[steps.length - 1].kind === "pause" || steps[steps.length - 1].kind === "pauseFor") found.push({ index: steps.length - 1, key: "steps.endPause" });
  return found;
}

/** The row an API error's field names: "steps[2]" → 2; "steps" → null; anything else → undefined. */
export function stepIndex(field: string | undefined): number | null | undefined {
  if (!field) return undefined;
  if (field === "steps") return null;
  const m = field.match(/^steps\[(\d+)\]$/);
  return m ? Number(m[1]) : undefined;
}
