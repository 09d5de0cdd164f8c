import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import PageBoundary from "./PageBoundary";

function Broken(): never {
  throw new Error("destroy is not a function");
}

describe("a page that breaks", () => {
  it("shows what broke in its place, and the next route draws again", () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined); // React reports the caught error
    const { rerender } = render(<PageBoundary title="This page failed to draw" retry="Try again" route="/a"><Broken /></PageBoundary>);
    expect(screen.getByTestId("page-error").textContent).toContain("destroy is not a function");
    rerender(<PageBoundary title="This page failed to draw" retry="Try again" route="/b"><p>fine</p></PageBoundary>);
    expect(screen.getByText("fine")).toBeTruthy();
    expect(screen.queryByTestId("page-error")).toBeNull();
  });
});
