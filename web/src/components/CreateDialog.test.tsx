import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import CreateDialog from "./CreateDialog";
import { ApiFailure } from "../api/errors";

describe("CreateDialog", () => {
  it("shows an API error under the field it names, and one naming no field above the form", async () => {
    const answers = [
      new ApiFailure({ status: 422, code: "invalid_input", message: "name must be lower-case", field: "name" }),
      new ApiFailure({ status: 409, code: "conflict", message: "system shop exists" }),
    ];
    render(
      <CreateDialog testid="make" title="New system" fields={[{ name: "name", label: "Name", required: true }]} submit={() => Promise.reject(answers.shift())} done={() => undefined} />,
    );
    fireEvent.click(screen.getByTestId("make"));
    fireEvent.change(await screen.findByTestId("field-name"), { target: { value: "Shop" } });
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    const fieldError = await screen.findByText("name must be lower-case");
    expect(fieldError.closest(".ant-form-item")?.querySelector("input")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    await waitFor(() => expect(screen.getByTestId("error").textContent).toContain("conflict: system shop exists"));
  });
});
