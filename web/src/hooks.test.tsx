import { afterEach, describe, expect, it, vi } from "vitest";
import { act, renderHook } from "@testing-library/react";
import { useReducedMotion } from "./hooks";

function fakeMedia(matches: boolean) {
  const listeners: ((e: MediaQueryListEvent) => void)[] = [];
  const query = {
    matches,
    addEventListener: (_: string, f: (e: MediaQueryListEvent) => void) => listeners.push(f),
    removeEventListener: vi.fn(),
  };
  vi.spyOn(window, "matchMedia").mockReturnValue(query as unknown as MediaQueryList);
  return { query, change: (m: boolean) => listeners.forEach((f) => f({ matches: m } as MediaQueryListEvent)) };
}

describe("useReducedMotion", () => {
  afterEach(() => vi.restoreAllMocks());

  it("reads the system's setting", () => {
    fakeMedia(true);
    expect(renderHook(() => useReducedMotion()).result.current).toBe(true);
  });

  it("follows a change while the page is open, and stops listening when unmounted", () => {
    const media = fakeMedia(false);
    const hook = renderHook(() => useReducedMotion());
    expect(hook.result.current).toBe(false);
    act(() => media.change(true));
    expect(hook.result.current).toBe(true);
    hook.unmount();
    expect(media.query.removeEventListener).toHaveBeenCalled();
  });
});
