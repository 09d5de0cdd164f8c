import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import InstancesTable from "./InstancesTable";


const rows = Array.from({ length: 1000 }, (_, i) => ({
  name: `web-${String(i).padStart(4, "0")}`, phase: "Running", ready: true, restarts: 0, pod_ip: `10.0.${i >> 8}.${i & 255}`,
  host_ip: "192.168.0.1", node: `node-${i % 50}`, version: "1", created_at: null, age_seconds: 60, reason: "", deleting: false,
}));

describe("InstancesTable", () => {
  it("renders a thousand instances virtualized: far fewer rows in the page than instances", () => {
    const { container } = render(<InstancesTable items={rows} />);
    expect(screen.getByTestId("instances-count").textContent).toBe("1000 of 1000");
    const rendered = container.querySelectorAll(".ant-table-row").length;
    expect(rendered).toBeLessThan(200);
  });
});
