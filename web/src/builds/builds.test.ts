import { describe, expect, it } from "vitest";
import { anyRunning, buildField, lastSource, onLogEvent, startBody, type Build } from "./builds";

const build = (status: string, source: string, created_at: string) => ({ status, source, created_at }) as Build;

describe("the builds tab's helpers", () => {
  it("keeps refreshing while a build is queued or running", () => {
    expect(anyRunning([build("succeeded", "a", "1"), build("building", "a", "2")])).toBe(true);
    expect(anyRunning([build("succeeded", "a", "1"), build("cancelled", "a", "2"), build("failed", "a", "3")])).toBe(false);
    expect(anyRunning([])).toBe(false);
  });

  it("offers the newest build's source again", () => {
    expect(lastSource([build("failed", "file:///old", "2026-12-01T00:00:00"), build("succeeded", "file:///new", "2026-12-02T00:00:00")])).toBe("file:///new");
    expect(lastSource([])).toBe("");
  });

  it.each([
    [{ source: "file:///s/web", refKind: "branch", ref: " main " }, "", { branch: "main", source: "file:///s/web" }],
    [{ source: "file:///s/web", refKind: "commit", ref: "3f2a9c1" }, "file:///s/web", { commit: "3f2a9c1" }], // remembered: not sent
    [{ source: "https://git/x.git", refKind: "tag", ref: "v1", dockerfile: "build/Dockerfile" }, "file:///s/web", { tag: "v1", source: "https://git/x.git", dockerfile: "build/Dockerfile" }],
  ] as const)("%j → the body", (form, remembered, body) => {
    expect(startBody(form, remembered)).toEqual(body);
  });

  it("puts an API error under the field it names", () => {
    expect(buildField("commit")).toBe("ref");
    expect(buildField("source")).toBe("source");
    expect(buildField("timeout_seconds")).toBeUndefined();
  });

  it("follows the log stream to its end", () => {
    let s = onLogEvent({ lines: [] }, { event: "message", data: "STEP 1/2: FROM base" });
    s = onLogEvent(s, { event: "message", data: "STEP 2/2: RUN true" });
    s = onLogEvent(s, { event: "end", data: '{"status": "succeeded", "reason": ""}' });
    expect(s).toEqual({ lines: ["STEP 1/2: FROM base", "STEP 2/2: RUN true"], end: { status: "succeeded", reason: "" } });
  });
});
