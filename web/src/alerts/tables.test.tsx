import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { AlertsTable, SilencesTable } from "./tables";

const told = [
  { id: 1, channel: "robot", kind: "firing", state: "sent", attempts: 1, error: "", created_at: "2026-12-02T10:00:00Z", sent_at: "2026-12-02T10:00:01Z" },
];
const alert = (id: number, status: string) => ({
  id, fingerprint: "f", name: "DockyardInstanceRSSHigh", status, app: "web", group: "prod", labels: {},
  annotations: { summary: `rss of ${id}` }, starts_at: "2026-12-02T10:00:00Z", ends_at: null,
  received_at: "2026-12-02T10:00:00Z", updated_at: "2026-12-02T10:00:00Z", told,
});
const silence = (id: string, state: string) => ({
  id, matchers: [{ name: "system", value: "shop", equal: true }, { name: "app", value: "web", equal: true }],
  starts_at: "2026-12-02T10:00:00Z", ends_at: "2026-12-02T12:00:00Z", owner: "olga", reason: "migration", state,
});

describe("alerts tables", () => {
  it("show what fires now, and who was told", () => {
    render(<AlertsTable testid="t" firingOnly alerts={[alert(1, "firing"), alert(2, "resolved")]} />);
    const table = screen.getByTestId("t");
    expect(table.textContent).toContain("rss of 1");
    expect(table.textContent).not.toContain("rss of 2");
    expect(table.textContent).toContain("robot firing sent");
  });
  it("let who may silence end a silence not yet expired", () => {
    const expire = vi.fn();
    const { rerender } = render(<SilencesTable silences={[silence("s1", "active"), silence("s2", "expired")]} expire={expire} />);
    expect(screen.getByTestId("alert-silences").textContent).toContain("system=shop, app=web");
    const buttons = screen.getAllByRole("button", { name: "Expire" });
    expect(buttons).toHaveLength(1);
    fireEvent.click(buttons[0]);
    expect(expire).toHaveBeenCalledWith("s1");
    rerender(<SilencesTable silences={[silence("s1", "active")]} />);
    expect(screen.queryByRole("button", { name: "Expire" })).toBeNull();
  });
});
