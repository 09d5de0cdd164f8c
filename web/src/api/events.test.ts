import { describe, expect, it } from "vitest";
import { parseSse } from "./events";

describe("parseSse", () => {
  it("splits events, joins data lines, skips comments and keeps the unfinished rest", () => {
    const { events, rest } = parseSse('event: snapshot\ndata: {"a":1}\n\n: keep-alive\n\ndata: x\ndata: y\n\nevent: snap');
    expect(events).toEqual([
      { event: "snapshot", data: '{"a":1}' },
      { event: "message", data: "x\ny" },
    ]);
    expect(rest).toBe("event: snap");
  });
  it("reads CRLF streams and an event split over chunks", () => {
    const first = parseSse("event: error\r\ndata: {\"code\"");
    expect(first.events).toEqual([]);
    const second = parseSse(first.rest + ':"not_found"}\r\n\r\n');
    expect(second.events).toEqual([{ event: "error", data: '{"code":"not_found"}' }]);
  });
});

describe("expiresIn", () => {
  it("reads a JWT's exp, and calls anything else never expiring", async () => {
    const { expiresIn } = await import("./client");
    const body = btoa(JSON.stringify({ exp: 1_000 })).replace(/=+$/, "");
    expect(expiresIn(`h.${body}.s`, 900_000)).toBe(100);
    expect(expiresIn("dy_personal_token")).toBe(Infinity);
  });
});
