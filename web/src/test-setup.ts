// jsdom lacks what Ant Design measures with.
window.matchMedia ??= ((q: string) => ({
  matches: false, media: q, onchange: null, dispatchEvent: () => false,
  addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {},
})) as unknown as typeof window.matchMedia;
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;

// Unmount what each test rendered (Testing Library does it by itself only with vitest's globals).
import { afterEach } from "vitest";
import { cleanup } from "@testing-library/react";
afterEach(cleanup);
