import { afterEach, describe, expect, it, vi } from "vitest";
import { act, render, screen } from "@testing-library/react";
import type { SseEvent } from "../api/events";

const stream: { emit?: (e: SseEvent) => void; state?: (up: boolean) => void; closed: number } = { closed: 0 };
vi.mock("../api/events", () => ({
  subscribe: (_url: string, onEvent: (e: SseEvent) => void, onState: (up: boolean) => void) => {
    stream.emit = onEvent;
    stream.state = onState;
    return { close: () => (stream.closed += 1) };
  },
}));
const { default: BuildLog } = await import("./BuildLog");

afterEach(() => vi.restoreAllMocks());

describe("a build's live log", () => {
  it("follows the lines to the end while the browser's scrollIntoView returns a promise (Chromium's does)", () => {
    // An effect returning that promise made React call it as a cleanup: the console went blank at the
    // second line, and the browser test waited for the log's end that was never drawn.
    const scroll = vi.fn(() => Promise.resolve());
    Element.prototype.scrollIntoView = scroll as unknown as Element["scrollIntoView"];
    const ended = vi.fn();
    const { unmount } = render(<BuildLog system="momo" app="web" id="b1" close={() => undefined} ended={ended} />);
    act(() => stream.state!(true));
    for (const line of ["STEP 1/2: FROM base", "STEP 2/2: COPY index.html /www/index.html"]) act(() => stream.emit!({ event: "message", data: line }));
    act(() => stream.emit!({ event: "end", data: JSON.stringify({ status: "succeeded", reason: "" }) }));
    expect(screen.getByTestId("build-log").textContent).toBe("STEP 1/2: FROM base\nSTEP 2/2: COPY index.html /www/index.html");
    expect(screen.getByTestId("build-log-end").textContent).toBe("succeeded");
    expect(ended).toHaveBeenCalledTimes(1);
    expect(scroll).toHaveBeenCalled();
    unmount();
    expect(stream.closed).toBeGreaterThanOrEqual(1);
  });
});
