import { describe, expect, it } from "vitest";
import { bounds, formatValue, linePath } from "./chart";

describe("metrics charts", () => {
  it("spans every series and draws y downwards", () => {
    const b = bounds([
      [
        [10, 0],
        [20, 2],
      ],
      [[15, 4]],
    ]);
    expect(b).toEqual({ t0: 10, t1: 20, max: 4 });
    expect(
      linePath(
        [
          [10, 0],
          [20, 4],
        ],
        b,
        100,
        50,
      ),
    ).toBe("M0.0,50.0 L100.0,0.0");
  });

  it("has bounds without points", () => {
    expect(bounds([])).toEqual({ t0: 0, t1: 1, max: 1 });
  });

  it.each([
    [0.25, "cores", "0.250"],
    [512, "bytes", "512B"],
    [3 * 1024 * 1024, "bytes", "3.0MiB"],
    [2048, "bytes/s", "2.0KiB/s"],
    [12.5, "packets/s", "12.50/s"],
  ])("formats %s %s", (value, unit, text) => {
    expect(formatValue(value, unit)).toBe(text);
  });
});
