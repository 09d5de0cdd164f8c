import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { api } from "../api/client";
import InstancesTable from "./InstancesTable";

const path = { system: "shop", app: "web", group: "prod" };
const row = (name: string, extra: object = {}) => ({
  name, phase: "Running", ready: true, restarts: 2, pod_ip: "10.128.0.5", host_ip: "192.168.0.7", node: "n1", version: "3",
  created_at: null, age_seconds: 60, reason: "", deleting: false, cluster: "local",
  container_id: "containerd://3f2a9c1e5b7d4aa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4", ...extra,
});

afterEach(() => vi.restoreAllMocks());

describe("the instance table's actions", () => {
  it("shows the container id as the runtime does, and offers logs and events to every reader", () => {
    render(<InstancesTable items={[row("web-a")]} path={path} deploy={{ allowed: false, reason: { key: "deny.role", vars: { role: "viewer" } } }} />);
    expect(screen.getByText("3f2a9c1e5b7d4")).toBeTruthy();
    expect((screen.getByTestId("restart-web-a") as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByTestId("logs-web-a") as HTMLButtonElement).disabled).toBe(false);
    expect((screen.getByTestId("events-web-a") as HTMLButtonElement).disabled).toBe(false);
  });

  it("restarts an instance only after confirming what will happen", async () => {
    const post = vi.spyOn(api, "POST").mockResolvedValue({ data: { message: "ok" }, error: undefined, response: new Response("{}") } as never);
    render(<InstancesTable items={[row("web-a"), row("web-b", { deleting: true })]} path={path} deploy={{ allowed: true }} />);
    expect((screen.getByTestId("restart-web-b") as HTMLButtonElement).disabled).toBe(true); // already going
    fireEvent.click(screen.getByTestId("restart-web-a"));
    expect(await screen.findByText("Instance web-a will be deleted; the group starts a new one in its place.")).toBeTruthy();
    expect(post).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "Confirm" }));
    await waitFor(() => expect(post).toHaveBeenCalledTimes(1));
    expect(post.mock.calls[0][0]).toBe("/api/v1/systems/{system}/apps/{app}/groups/{group}/instances/{instance}/restart");
    expect(post.mock.calls[0][1]).toEqual({ params: { path: { ...path, instance: "web-a" } } });
  });
});
