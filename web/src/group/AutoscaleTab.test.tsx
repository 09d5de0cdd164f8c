import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import type { Schemas } from "../api/client";
import { AutoscaleView, amount, percent } from "./AutoscaleTab";

const STATUS: Schemas["AutoscaleOut"] = {
  version: 4,
  policy: { min: 2, max: 20, target: 1, tolerance: 0.1, signals: [] },
  instances: 2,
  decision: {
    current: 2,
    desired: 12,
    action: "up",
    reason: "requests 600 requests/s vs 50 per instance (wants 12) → 12 (was 2, bounds 2..20)",
    signals: [{ key: "requests", unit: "requests/s", load: 600, per_instance: 50, utilisation: 6, wanted: 12, problem: "" }],
  },
  split: { "idc-a": 8, "idc-b": 4 },
  note: "",
  last: [],
};

describe("autoscale tab", () => {
  it("formats amounts and utilisation", () => {
    expect(amount(600, "requests/s")).toBe("600 requests/s");
    expect(amount(0.123456, "cores")).toBe("0.1235 cores");
    expect(amount(null, "cores")).toBe("-");
    expect(percent(6)).toBe("600%");
    expect(percent(null)).toBe("-");
  });
  it("shows each signal against its target and the decision with its split", () => {
    render(<AutoscaleView status={STATUS} />);
    expect(screen.getByTestId("autoscale-instances").textContent).toBe("2");
    expect(screen.getByText("600 requests/s")).toBeTruthy();
    expect(screen.getByText("600%")).toBeTruthy();
    expect(screen.getByTestId("autoscale-decision").textContent).toContain("2 → 12 (idc-a 8, idc-b 4)");
  });
  it("says when there is no policy", () => {
    render(<AutoscaleView status={{ ...STATUS, policy: null, decision: null }} />);
    expect(screen.getByTestId("autoscale-none")).toBeTruthy();
  });
});
