import { describe, expect, it } from "vitest";
import { render, screen, within } from "@testing-library/react";
import { I18nContext, translate } from "../i18n";
import { previewBody, reasonRows, topNodes, verdict, type ClusterFit } from "./preview";
import PreviewResult from "./PreviewResult";

const fit = (over: Partial<ClusterFit>): ClusterFit => ({
  cluster: "local", connected: true, wanted: 10, fits: 10, pending: 0, nodes: {}, message: "", reasons: {}, preempted: 0, ...over,
});

describe("the placement preview", () => {
  it.each([
    [fit({}), "fits"],
    [fit({ fits: 4, pending: 6 }), "partial"],
    [fit({ fits: 0, pending: 10 }), "none"],
    [fit({ connected: false, fits: 0, pending: 10 }), "unknown"],
  ] as const)("%j is %s", (c, want) => {
    expect(verdict(c)).toBe(want);
  });

  it("orders the scheduler's reasons by the nodes refused for them", () => {
    expect(reasonRows({ "Insufficient memory": 3, "Insufficient cpu": 12, "node(s) had untolerated taint": 3 })).toEqual([
      { reason: "Insufficient cpu", nodes: 12 },
      { reason: "Insufficient memory", nodes: 3 },
      { reason: "node(s) had untolerated taint", nodes: 3 },
    ]);
  });

  it("shows the busiest nodes and how many more", () => {
    expect(topNodes({ a: 1, b: 3, c: 2 }, 2)).toEqual({ shown: [["b", 3], ["c", 2]], more: 1 });
  });

  it("asks for the latest with changes, else the version chosen, else the running one", () => {
    expect(previewBody({ version: 3 }, 2)).toEqual({ version: 3 });
    expect(previewBody({}, 2)).toEqual({ version: 2 });
    expect(previewBody({ version: 3, instances: 50, flavor: "large" }, 2)).toEqual({ changes: { instances: 50, flavor: "large" } });
  });

  it("renders each cluster's verdict with the scheduler's reasons and message", () => {
    render(
      <PreviewResult
        preview={{
          wanted: 12, fits: 6, pending: 6,
          clusters: [
            fit({ cluster: "idc-a", wanted: 6, fits: 6, nodes: { "n-1": 4, "n-2": 2 } }),
            fit({ cluster: "idc-b", wanted: 6, fits: 0, pending: 6, message: "0/3 nodes are available: 3 Insufficient cpu.", reasons: { "Insufficient cpu": 3 } }),
          ],
        }}
      />,
    );
    const b = screen.getByTestId("preview-idc-b");
    expect(within(b).getByText("none fit")).toBeTruthy();
    expect(within(b).getByText("Insufficient cpu × 3")).toBeTruthy();
    expect(within(b).getByText("0/3 nodes are available: 3 Insufficient cpu.")).toBeTruthy();
    const a = screen.getByTestId("preview-idc-a");
    expect(within(a).getByText("all fit")).toBeTruthy();
    expect(within(a).getByText("n-1 × 4")).toBeTruthy();
    expect(screen.getByTestId("preview-total").textContent).toBe("6 / 12 fit, 6 pending");
  });

  it("renders the reasons in Chinese, and a cluster it could not ask as not synced", () => {
    const zh = { lang: "zh" as const, setLang: () => undefined, t: (k: Parameters<typeof translate>[1], v?: Record<string, string | number>) => translate("zh", k, v) };
    render(
      <I18nContext.Provider value={zh}>
        <PreviewResult
          preview={{
            wanted: 8, fits: 2, pending: 6,
            clusters: [
              fit({ cluster: "idc-c", wanted: 4, fits: 2, pending: 2, nodes: { a: 1, b: 1, c: 0, d: 0, e: 0, f: 0, g: 0 }, reasons: { "node(s) didn't match Pod's node affinity/selector": 5, "Insufficient memory": 2 }, preempted: 1 }),
              fit({ cluster: "idc-d", connected: false, wanted: 4, fits: 0, pending: 4 }),
            ],
          }}
        />
      </I18nContext.Provider>,
    );
    const c = screen.getByTestId("preview-idc-c");
    expect(within(c).getByText("部分可调度")).toBeTruthy();
    const tags = Array.from(c.querySelectorAll(".ant-tag-orange")).map((e) => e.textContent).slice(1); // the first is the verdict
    expect(tags).toEqual(["node(s) didn't match Pod's node affinity/selector × 5", "Insufficient memory × 2"]);
    expect(within(c).getByText(translate("zh", "placement.preempts", { n: 1 }))).toBeTruthy();
    expect(within(screen.getByTestId("preview-idc-d")).getByText(translate("zh", "placement.unknown"))).toBeTruthy();
    expect(screen.getByTestId("preview-total").textContent).toBe(translate("zh", "placement.total", { fits: 2, wanted: 8, pending: 6 }));
  });
});
