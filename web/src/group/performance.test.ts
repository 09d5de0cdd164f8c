import { describe, expect, it } from "vitest";
import { ms, percent, rowName } from "./performance";

describe("performance", () => {
  it("reads seconds as milliseconds and ratios as percentages", () => {
    expect(ms(0.16667)).toBe("166.7 ms");
    expect(ms(null)).toBe("-");
    expect(percent(0.0123)).toBe("1.23%");
    expect(percent(undefined)).toBe("-");
  });
  it("names a row by its version or its method and route", () => {
    expect(rowName({ key: { version: "2" }, rps: 1 })).toBe("v2");
    expect(rowName({ key: { method: "GET", route: "/api/orders" }, rps: 1 })).toBe("GET /api/orders");
  });
});
