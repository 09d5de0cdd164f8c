import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { ChangesTable, FindingsTable, RunsTable } from "./tables";

const finding = (cluster: string, check: string, result: string) => ({
  cluster, check, result, summary: `${check} is ${result}`, evidence: { nodes: 3 }, since: result === "failed" ? "2026-12-02T17:30:00Z" : null,
});
const run = {
  id: 7, trigger: "schedule", requested_by: "schedule", clusters: [], status: "done", result: "failed",
  counts: { ok: 1, warning: 1, failed: 1 }, started_at: "2026-12-02T17:30:00Z", finished_at: "2026-12-02T17:30:02Z",
  previous_id: 6, error: "", findings: [], changes: [],
};

describe("inspection tables", () => {
  it("put failed findings first", () => {
    render(<FindingsTable findings={[finding("local", "etcd", "ok"), finding("local", "kernel", "failed"), finding("(dockyard)", "database", "warning")]} />);
    const rows = screen.getByTestId("inspection-findings").querySelectorAll("tbody tr");
    expect(rows[0].textContent).toContain("kernel is failed");
    expect(rows[1].textContent).toContain("database is warning");
    expect(rows[2].textContent).toContain("etcd is ok");
  });
  it("show what changed, or that nothing did", () => {
    const { rerender } = render(<ChangesTable changes={[{ cluster: "local", check: "kernel", before: "ok", after: "failed", summary: "n3" }]} />);
    expect(screen.getByTestId("inspection-changes").textContent).toContain("okfailed");
    rerender(<ChangesTable changes={[]} />);
    expect(screen.getByTestId("inspection-changes").textContent).toContain("No check changed");
  });
  it("open a run's report from the list", () => {
    const open = vi.fn();
    render(<RunsTable runs={[run]} open={open} />);
    expect(screen.getByTestId("inspection-runs").textContent).toContain("1 / 1 / 1");
    fireEvent.click(screen.getAllByText("schedule", { selector: "td" })[0]);
    expect(open).toHaveBeenCalledWith(7);
  });
});
