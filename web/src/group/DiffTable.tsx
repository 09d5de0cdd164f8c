import { Table, Typography } from "antd";
import type { Change } from "../format";
import { useT } from "../i18n";

function show(v: unknown) {
  if (v === null || v === undefined) return <Typography.Text type="secondary">—</Typography.Text>;
  const text = typeof v === "string" ? v : JSON.stringify(v, null, 1);
  return <pre style={{ margin: 0, whiteSpace: "pre-wrap", maxWidth: 360 }}>{text}</pre>;
}

/** Field, before, after: what a change does (the API's diff or one computed before sending). */
export default function DiffTable({ changes }: { changes: Change[] }) {
  const { t } = useT();
  if (!changes.length) return <Typography.Text data-testid="diff-empty">{t("action.noChange")}</Typography.Text>;
  return (
    <Table
      data-testid="diff"
      rowKey="field"
      size="small"
      pagination={false}
      dataSource={changes}
      columns={[
        { title: t("diff.field"), dataIndex: "field", render: (f: string) => <code>{f}</code> },
        { title: t("diff.old"), dataIndex: "old", render: show, onCell: () => ({ style: { background: "#fff1f0" } }) },
        { title: t("diff.new"), dataIndex: "new", render: show, onCell: () => ({ style: { background: "#f6ffed" } }) },
      ]}
    />
  );
}

export function fromApi(diff: { changes: { field: string; expected: unknown; live: unknown }[] }): Change[] {
  return diff.changes.map((c) => ({ field: c.field, old: c.expected, new: c.live }));
}
