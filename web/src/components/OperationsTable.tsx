import { Table, Tag } from "antd";
import type { Schemas } from "../api/client";
import { useT } from "../i18n";
import { when } from "../format";

const COLOR: Record<string, string> = { succeeded: "green", failed: "red", running: "blue", pending: "gold" };

export function opTarget(o: Schemas["OperationOut"]): string {
  return [o.system, o.app, o.group].filter(Boolean).join("/");
}

/** Who did what, when, with which result (newest first, as the API answers). */
export default function OperationsTable({ items, withTarget = false }: { items: Schemas["OperationOut"][]; withTarget?: boolean }) {
  const { t } = useT();
  return (
    <Table
      data-testid="operations"
      rowKey="id"
      size="small"
      dataSource={items}
      pagination={{ pageSize: 20, hideOnSinglePage: true }}
      columns={[
        { title: t("op.started"), dataIndex: "started_at", render: (v: string) => when(v) },
        { title: t("op.action"), dataIndex: "action" },
        ...(withTarget ? [{ title: t("audit.target"), key: "target", render: (_: unknown, o: Schemas["OperationOut"]) => opTarget(o) }] : []),
        { title: t("op.actor"), dataIndex: "actor" },
        { title: t("op.status"), dataIndex: "status", render: (s: string) => <Tag color={COLOR[s]}>{s}</Tag> },
        { title: t("op.params"), dataIndex: "params", render: (p: Record<string, unknown>) => <code style={{ overflowWrap: "anywhere" }}>{JSON.stringify(p)}</code> }, // JSON has no spaces to wrap at: it pushed the table past its card
        { title: t("op.error"), dataIndex: "error" },
      ]}
    />
  );
}
