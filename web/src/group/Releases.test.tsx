import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import Releases from "./Releases";

const release = {
  id: "r1", system: "shop", app: "web", group: "prod", strategy: "gray", stable_version: 1, new_version: 2, total: 10,
  steps: ["gray 2", "pause", "100%"], step: 1, status: "paused", paused: true, new_instances: 2, stable_instances: 8,
  edge_share: null as number | null, pause_until: null, error: "", created_by: "olga", created_at: null, updated_at: null,
  ledger: [{ at: "2026-11-23T07:00:00Z", event: "step", step: "gray 2", new: 2, stable: 8 }],
};
const path = { system: "shop", app: "web", group: "prod" };

describe("Releases", () => {
  it("shows the steps, the instances per version and the commands to who may deploy", () => {
    render(<Releases path={path} release={release} deploy={{ allowed: true }} />);
    expect(screen.getByTestId("release").textContent).toContain("v1: 8 · v2: 2 / 10");
    expect(screen.getByText("gray 2", { selector: ".ant-steps-item-title, .ant-steps-item-title *" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Promote" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Resume" })).toBeTruthy();
  });
  it("shows the new version's share of requests: by instance counts until a weight step, then the weight", () => {
    const { rerender } = render(<Releases path={path} release={release} deploy={{ allowed: true }} />);
    expect(screen.getByTestId("edge-share").textContent).toBe("by instance counts");
    rerender(<Releases path={path} release={{ ...release, steps: ["gray 1", "weight 50%", "pause", "100%"], step: 2, edge_share: 50 }} deploy={{ allowed: true }} />);
    expect(screen.getByTestId("edge-share").textContent).toBe("v2: 50%");
    rerender(<Releases path={path} release={{ ...release, status: "aborted", edge_share: 0 }} deploy={{ allowed: true }} />);
    expect(screen.getByTestId("edge-share").textContent).toBe("v2: 0%");
  });
  it("hides the commands from a viewer and once the release ended", () => {
    const { rerender } = render(<Releases path={path} release={release} deploy={{ allowed: false }} />);
    expect(screen.queryByRole("button", { name: "Promote" })).toBeNull();
    rerender(<Releases path={path} release={{ ...release, status: "succeeded" }} deploy={{ allowed: true }} />);
    expect(screen.queryByRole("button", { name: "Promote" })).toBeNull();
  });
});
