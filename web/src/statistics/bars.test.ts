import { describe, expect, it } from "vitest";
import { barWidths, perDay, percent, rowLabel } from "./bars";

describe("statistics charts", () => {
  it("scale bars to the largest value", () => {
    const w = barWidths(
      [
        { label: "a", requested: 2, used: 1, billed: 2 },
        { label: "b", requested: 4, used: 5, billed: 5 },
      ],
      100,
    );
    expect(w[0]).toEqual({ requested: 40, used: 20, billed: 40 });
    expect(w[1].billed).toBe(100);
  });
  it("label rows by path and place", () => {
    expect(rowLabel({ system: "shop", app: "web", group: "", cluster: "", idc: "", instance: "" })).toBe("shop/web");
    expect(rowLabel({ system: "shop", app: "", group: "", cluster: "a", idc: "bj", instance: "" })).toBe("shop @a");
    expect(rowLabel({ system: "", app: "", group: "", cluster: "", idc: "bj", instance: "" })).toBe("idc bj");
  });
  it("sum rows per day in order", () => {
    const rows = [
      { day: "2026-12-02", v: 1 },
      { day: "2026-12-01", v: 2 },
      { day: "2026-12-02", v: 3 },
      { day: null, v: 9 },
    ];
    expect(perDay(rows, (r: { v: number }) => r.v)).toEqual([
      [Date.parse("2026-12-01T00:00:00Z") / 1000, 2],
      [Date.parse("2026-12-02T00:00:00Z") / 1000, 4],
    ]);
  });
  it("print ratios", () => {
    expect(percent(0.256)).toBe("25.6%");
    expect(percent(null)).toBe("-");
  });
});
