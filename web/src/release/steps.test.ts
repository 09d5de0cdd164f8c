import { describe, expect, it } from "vitest";
import { newInstances, parseSteps, plan, problems, stepIndex, stepText, type StepRow } from "./steps";

const rows = (...texts: string[]) => parseSteps(texts);

describe("the step editor's arithmetic", () => {
  it.each([
    // [steps, total, [new per step], [stable per step]]
    [["gray 1", "pause", "100%"], 4, [1, 1, 4], [3, 3, 0]],
    [["gray 2", "pause", "50%", "pause 5m", "100%"], 5, [2, 2, 3, 3, 5], [3, 3, 2, 2, 0]], // 50% of 5 rounds up
    [["10%", "100%"], 3, [1, 3], [2, 0]], // ceil: at least one
    [["gray 9", "100%"], 3, [3, 3], [0, 0]], // never more than the group has
    [["pause", "100%"], 2, [0, 2], [2, 0]], // a pause before any instance step keeps all stable
    [["33%", "100%"], 0, [0, 0], [0, 0]],
  ] as const)("%j of %i instances", (steps, total, fresh, stable) => {
    const p = plan(rows(...steps), total);
    expect(p.map((s) => s.newInstances)).toEqual(fresh);
    expect(p.map((s) => s.stableInstances)).toEqual(stable);
    expect(p.map((s) => s.text)).toEqual([...steps]);
  });

  it("carries a weight step's share of requests until 100%", () => {
    const p = plan(rows("gray 1", "pause", "weight 50%", "pause", "100%"), 4);
    expect(p.map((s) => s.weight)).toEqual([null, null, 50, 50, null]);
    expect(p.map((s) => s.newInstances)).toEqual([1, 1, 1, 1, 4]);
  });

  it("reads and writes the server's step texts", () => {
    const texts = ["gray 2", "pause", "weight 30%", "pause 5m", "50%", "100%"];
    expect(parseSteps(texts).map(stepText)).toEqual(texts);
    expect(parseSteps(["pause 2h", "pause 30s", "Gray  3"]).map(stepText)).toEqual(["pause 120m", "pause 1m", "gray 3"]);
    expect(parseSteps(["bogus"])).toEqual([]);
  });

  it("says how many a step asks for only for instance steps", () => {
    expect(newInstances({ kind: "percent", value: 1 }, 1000)).toBe(10);
    expect(() => newInstances({ kind: "pause" }, 4)).toThrow();
  });
});

describe("the step editor refuses what the server refuses", () => {
  it.each([
    [["gray 1", "pause", "100%"], []],
    [[], [[null, "steps.empty"]]],
    [["gray 1", "pause"], [[null, "steps.last100"], [1, "steps.endPause"]]],
    [["50%", "20%", "100%"], [[1, "steps.lower"]]],
    [["weight 50%", "100%"], [[0, "steps.weightFirst"]]],
    [["gray 1", "100%", "weight 50%"], [[2, "steps.weightAfter"]]],
    [["gray 0", "100%"], [[0, "steps.grayMin"]]],
    [["gray 1", "150%"], [[1, "steps.percentRange"], [null, "steps.last100"]]],
  ] as const)("%j", (steps, want) => {
    expect(problems(rows(...steps)).map((p) => [p.index, p.key])).toEqual(want);
  });

  it("checks values a row was given directly", () => {
    const bad: StepRow[] = [{ kind: "gray", value: 1 }, { kind: "pauseFor", value: 0 }, { kind: "weight", value: 101 }, { kind: "percent", value: 100 }];
    expect(problems(bad).map((p) => [p.index, p.key])).toEqual([[1, "steps.pauseRange"], [2, "steps.weightRange"]]);
  });

  it("finds the row an API error names", () => {
    expect(stepIndex("steps[3]")).toBe(3);
    expect(stepIndex("steps")).toBeNull();
    expect(stepIndex("changes.image")).toBeUndefined();
    expect(stepIndex(undefined)).toBeUndefined();
  });
});
