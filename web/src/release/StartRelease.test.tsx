import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { api } from "../api/client";
import { ApiFailure } from "../api/errors";
import StartRelease from "./StartRelease";

const path = { system: "shop", app: "web", group: "prod" };
const build = { id: "b0000001-aaaa", status: "succeeded", ref_kind: "branch", ref: "main", commit: "3f2a9c1e5b7d4aa0", image: "r/web@sha256:1" };

afterEach(() => vi.restoreAllMocks());

function open() {
  vi.spyOn(api, "GET").mockResolvedValue({ data: [build], error: undefined, response: new Response("[]") } as never);
  const close = vi.fn();
  render(<StartRelease open path={path} latest={{ image: "r/web:1", instances: 4 }} versions={[]} build={build.id} close={close} />);
  return close;
}
const previewRows = () => within(screen.getByTestId("step-preview")).getAllByRole("row").slice(1).map((r) => Array.from(r.querySelectorAll("td")).map((c) => c.textContent));

describe("starting a release", () => {
  it("shows the instances of each version every step runs before it starts", async () => {
    open();
    expect(await screen.findByText("Instances per step")).toBeTruthy();
    expect(previewRows()).toEqual([
      ["1", "gray 1", "1", "3", "by instance counts"],
      ["2", "pause", "1", "3", "by instance counts"],
      ["3", "100%", "4", "0", "by instance counts"],
    ]);
  });

  it("labels each of its fields (a screen reader names what it asks for)", async () => {
    open();
    await screen.findByText("Instances per step");
    expect(screen.getAllByLabelText("A build").map((e) => e.getAttribute("role"))).toContain("combobox"); // and the radio
    expect(screen.getByLabelText("Strategy").getAttribute("role")).toBe("combobox");
  });

  it("says what is wrong with the steps under them, and refuses to start", async () => {
    open();
    fireEvent.click((await screen.findAllByRole("button", { name: "remove 3" }))[0]);
    expect(await screen.findByText("The last step that sets instances must be 100%")).toBeTruthy();
    expect(screen.getByText("A release cannot end with a pause")).toBeTruthy();
    expect((document.getElementById("release-start-ok") as HTMLButtonElement).disabled).toBe(true);
  });

  it("sends the build and the steps, and puts the server's refusal under the step it names", async () => {
    const post = vi.spyOn(api, "POST").mockRejectedValueOnce(new ApiFailure({ status: 422, code: "invalid_input", message: "a share is from 1% to 100%", field: "steps[2]" }));
    open();
    await screen.findByText("Instances per step");
    await waitFor(() => expect((document.getElementById("release-start-ok") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(document.getElementById("release-start-ok")!);
    await waitFor(() => expect(post).toHaveBeenCalledTimes(1));
    expect(post.mock.calls[0][1]).toEqual({ params: { path }, body: { changes: { build: build.id }, strategy: "gray", steps: ["gray 1", "pause", "100%"] } });
    expect(await screen.findByText("a share is from 1% to 100%", {}, { timeout: 10_000 })).toBeTruthy(); // slow under load
  });

  it("recomputes the instances per step as the steps are edited", { timeout: 180_000 }, async () => {
    open();
    await screen.findByText("Instances per step");
    fireEvent.change(screen.getByTestId("step-value-0").querySelector("input") ?? screen.getByTestId("step-value-0"), { target: { value: "3" } });
    await waitFor(() => expect(previewRows()[0]).toEqual(["1", "gray 3", "3", "1", "by instance counts"]));
    fireEvent.click(screen.getByTestId("step-add")); // a 4th step: 100% again after 100% is refused, but the preview follows
    await waitFor(() => expect(previewRows()).toHaveLength(4));
    expect(previewRows()[3]).toEqual(["4", "100%", "4", "0", "by instance counts"]);
    fireEvent.click(screen.getAllByRole("button", { name: "remove 4" })[0]);
    fireEvent.click(screen.getAllByRole("button", { name: "remove 1" })[0]); // [pause, 100%]: nothing moves before 100%
    await waitFor(() => expect(previewRows()).toEqual([
      ["1", "pause", "0", "4", "by instance counts"],
      ["2", "100%", "4", "0", "by instance counts"],
    ]));
  });
});
