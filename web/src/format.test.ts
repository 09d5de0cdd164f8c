import { describe, expect, it } from "vitest";
import { age, filterInstances, flavorLabel, shortContainerId, specDiff } from "./format";
import { formField, toApiError } from "./api/errors";

describe("format", () => {
  it.each([
    ["small", "small · 1C1024M"],
    ["large", "large · 4C8192M"],
    ["custom", "custom"],
  ])("flavor %s", (name, label) => expect(flavorLabel(name)).toBe(label));

  it("labels a flavor by the size a version recorded, not the built-in one", () => {
    expect(flavorLabel("small", { cpu_millis: 2000, memory_mib: 2048 })).toBe("small · 2C2048M");
    expect(flavorLabel("gpu", { cpu_millis: 4000, memory_mib: 16384, extended: { "nvidia.com/gpu": 1 } })).toBe(
      "gpu · 4C16384M +1 nvidia.com/gpu",
    );
  });

  it.each([
    [0, "0s"],
    [59, "59s"],
    [60, "1m"],
    [125, "2m5s"],
    [7300, "2h1m"],
    [200000, "2d7h"],
  ])("age %i", (s, text) => expect(age(s)).toBe(text));

  it("diffs specs per field, env and config files per key", () => {
    const before = { image: "r/web:1", instances: 3, config_files: { "app.yaml": "a: 1", "old.txt": "x" }, env: { A: "1" } };
    const after = { image: "r/web:2", instances: 3, config_files: { "app.yaml": "a: 2" }, env: { A: "1", B: "2" } };
    expect(specDiff(before, after)).toEqual([
      { field: "config_files.app.yaml", old: "a: 1", new: "a: 2" },
      { field: "config_files.old.txt", old: "x", new: null },
      { field: "env.B", old: null, new: "2" },
      { field: "image", old: "r/web:1", new: "r/web:2" },
    ]);
    expect(specDiff(before, before)).toEqual([]);
  });

  it("filters instances by name, node, IPs, phase or version", () => {
    const rows = [
      { name: "web-a", phase: "Running", ready: true, node: "n1", pod_ip: "10.0.0.1", host_ip: "192.168.0.1", version: "1" },
      { name: "web-b", phase: "Pending", ready: false, node: "n2", pod_ip: "", host_ip: "", version: "2" },
    ];
    expect(filterInstances(rows, "").length).toBe(2);
    expect(filterInstances(rows, "N2").map((r) => r.name)).toEqual(["web-b"]);
    expect(filterInstances(rows, "10.0.0").map((r) => r.name)).toEqual(["web-a"]);
    expect(filterInstances(rows, "pending").map((r) => r.name)).toEqual(["web-b"]);
  });
});

describe("API errors", () => {
  it("read {code, message, details.field}", () => {
    expect(toApiError(422, { code: "invalid_input", message: "bad", details: { field: "spec.image" } })).toEqual({
      status: 422, code: "invalid_input", message: "bad", field: "spec.image",
    });
    expect(toApiError(500, undefined)).toEqual({ status: 500, code: "error", message: "HTTP 500", field: undefined });
  });
  it.each([
    ["spec.image", "image"],
    ["changes.instances", "instances"],
    ["changes.config_files.app.yaml", undefined],
    ["ports[1].port", undefined],
    [undefined, undefined],
  ])("maps field %s to the form's %s", (field, name) => expect(formField(field, ["image", "flavor", "instances"])).toBe(name));
});

describe("shortContainerId", () => {
  it.each([
    ["containerd://3f2a9c1e5b7d4aa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4", "3f2a9c1e5b7d4"],
    ["docker://abc", "abc"],
    ["", ""],
    [null, ""],
  ])("%s → %s", (id, short) => {
    expect(shortContainerId(id)).toBe(short);
  });
});
