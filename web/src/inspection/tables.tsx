import { Table, Tag } from "antd";
import type { Schemas } from "../api/client";
import { useT } from "../i18n";
import { when } from "../format";

type Finding = Schemas["FindingOut"];
type Change = Schemas["ChangeOut"];
type Run = Schemas["RunOut"];

const COLOR: Record<string, string> = { ok: "green", warning: "orange", failed: "red" };

export function ResultTag({ result }: { result: string | null | undefined }) {
  return result ? <Tag color={COLOR[result] ?? "default"}>{result}</Tag> : <Tag>-</Tag>;
}

/** Inspection runs, newest first; ``open`` shows one's report. */
export function RunsTable({ runs, loading, open }: { runs: Run[]; loading?: boolean; open: (id: number) => void }) {
  const { t } = useT();
  return (
    <Table
      data-testid="inspection-runs"
      rowKey="id"
      size="small"
      loading={loading}
      dataSource={runs}
      onRow={(r) => ({ onClick: () => open(r.id), style: { cursor: "pointer" } })}
      columns={[
        { title: "#", dataIndex: "id" },
        { title: t("inspection.result"), dataIndex: "result", render: (v: string) => <ResultTag result={v} /> },
        { title: t("inspection.counts"), dataIndex: "counts", render: (c: Record<string, number>) => `${c.ok ?? 0} / ${c.warning ?? 0} / ${c.failed ?? 0}` },
        { title: t("inspection.trigger"), dataIndex: "trigger" },
        { title: t("inspection.by"), dataIndex: "requested_by" },
        { title: t("inspection.started"), dataIndex: "started_at", render: (v: string) => when(v) },
      ]}
    />
  );
}

/** A run's findings: failed first, then warnings, then ok; each with its summary and evidence. */
export function FindingsTable({ findings }: { findings: Finding[] }) {
  const { t } = useT();
  const order = ["failed", "warning", "ok"];
  const sorted = [...findings].sort((a, b) => order.indexOf(a.result) - order.indexOf(b.result) || a.cluster.localeCompare(b.cluster) || a.check.localeCompare(b.check));
  return (
    <Table
      data-testid="inspection-findings"
      rowKey={(f) => `${f.cluster}/${f.check}`}
      size="small"
      pagination={false}
      dataSource={sorted}
      expandable={{ expandedRowRender: (f) => <pre style={{ margin: 0 }}>{JSON.stringify(f.evidence, null, 2)}</pre> }}
      columns={[
        { title: t("inspection.cluster"), dataIndex: "cluster" },
        { title: t("inspection.check"), dataIndex: "check" },
        { title: t("inspection.result"), dataIndex: "result", render: (v: string) => <ResultTag result={v} /> },
        { title: t("inspection.summary"), dataIndex: "summary" },
        { title: t("inspection.since"), dataIndex: "since", render: (v: string | null) => (v ? when(v) : "") },
      ]}
    />
  );
}

/** What changed since the previous run. */
export function ChangesTable({ changes }: { changes: Change[] }) {
  const { t } = useT();
  return (
    <Table
      data-testid="inspection-changes"
      rowKey={(c) => `${c.cluster}/${c.check}`}
      size="small"
      pagination={false}
      dataSource={changes}
      locale={{ emptyText: t("inspection.nochange") }}
      columns={[
        { title: t("inspection.cluster"), dataIndex: "cluster" },
        { title: t("inspection.check"), dataIndex: "check" },
        { title: t("inspection.before"), dataIndex: "before", render: (v: string | null) => <ResultTag result={v} /> },
        { title: t("inspection.after"), dataIndex: "after", render: (v: string | null) => <ResultTag result={v} /> },
        { title: t("inspection.summary"), dataIndex: "summary" },
      ]}
    />
  );
}
