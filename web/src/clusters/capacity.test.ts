import { describe, expect, it } from "vitest";
import { cores, gib, poolRows, usageStatus, usedPercent, type ClusterStatus } from "./capacity";

const amount = (cpu_millis: number, memory_mib: number) => ({ cpu_millis, memory_mib });

describe("capacity", () => {
  it.each([
    [0, 0, 0],
    [5, 0, 100],
    [500, 1000, 50],
    [1, 3, 33],
    [1500, 1000, 150],
  ])("%i of %i is %i%%", (requested, allocatable, percent) => {
    expect(usedPercent(requested, allocatable)).toBe(percent);
  });

  it("writes cores and GiB", () => {
    expect(cores(amount(12500, 0), amount(40000, 0))).toBe("12.5 / 40");
    expect(gib(amount(0, 3277), amount(0, 16384))).toBe("3.2 / 16");
    expect(cores(amount(250, 0), amount(400000, 0))).toBe("0.3 / 400");
  });

  it("colors usage", () => {
    expect([10, 70, 95].map(usageStatus)).toEqual(["normal", "active", "exception"]);
  });

  it("lists pools by pool then CPU model with their usage", () => {
    const status = {
      pools: [
        { pool: "idc-b", cpu_model: "", nodes: 2, ready: 1, allocatable: amount(8000, 16384), requested: amount(2000, 4096) },
        { pool: "idc-a", cpu_model: "xeon-6", nodes: 4, ready: 4, allocatable: amount(16000, 32768), requested: amount(16000, 8192) },
        { pool: "idc-a", cpu_model: "epyc-9", nodes: 1, ready: 1, allocatable: amount(4000, 8192), requested: amount(0, 0) },
      ],
    } as unknown as ClusterStatus;
    expect(poolRows(status).map((r) => [r.key, r.cpuModel, r.cpu, r.memory, r.ready])).toEqual([
      ["idc-a/epyc-9", "epyc-9", 0, 0, 1],
      ["idc-a/xeon-6", "xeon-6", 100, 25, 4],
      ["idc-b/", "-", 25, 25, 1],
    ]);
  });
});
