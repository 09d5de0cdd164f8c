import { Progress, Space, Table, Tag, Typography } from "antd";
import { Link } from "react-router-dom";
import { useT } from "../i18n";
import { cores, gib, poolRows, usageStatus, usedPercent, type ClusterStatus } from "./capacity";

function Usage({ percent, text, label }: { percent: number; text: string; label: string }) {
  return (
    <Space orientation="vertical" size={0} style={{ width: 160 }}>
      <Progress percent={Math.min(percent, 100)} size="small" status={usageStatus(percent)} format={() => `${percent}%`} aria-label={`${label} ${percent}%`} />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>{text}</Typography.Text>
    </Space>
  );
}

/** Capacity per cluster (nodes ready / not ready, pods, pending, CPU and memory requested of
 * allocatable), each expandable into its pools and CPU models. */
export default function CapacityTable({ items, linked = true }: { items: ClusterStatus[]; linked?: boolean }) {
  const { t } = useT();
  return (
    <Table<ClusterStatus>
      data-testid="capacity"
      rowKey="cluster"
      size="small"
      pagination={false}
      dataSource={items}
      expandable={{
        defaultExpandAllRows: !linked,
        expandedRowRender: (c) => (
          <Table
            size="small"
            pagination={false}
            rowKey="key"
            dataSource={poolRows(c)}
            columns={[
              { title: t("capacity.pool"), dataIndex: "pool" },
              { title: t("capacity.cpuModel"), dataIndex: "cpuModel" },
              { title: t("capacity.nodes"), key: "nodes", render: (_: unknown, r) => `${r.ready} / ${r.nodes}` },
              { title: t("capacity.cpu"), dataIndex: "cpu", render: (p: number, r) => <Usage percent={p} label={t("capacity.cpu")} text={`${cores(r.status.requested, r.status.allocatable)} ${t("capacity.cores")}`} /> },
              { title: t("capacity.memory"), dataIndex: "memory", render: (p: number, r) => <Usage percent={p} label={t("capacity.memory")} text={`${gib(r.status.requested, r.status.allocatable)} GiB`} /> },
            ]}
          />
        ),
      }}
      columns={[
        { title: t("common.name"), dataIndex: "cluster", render: (n: string) => (linked ? <Link to={`/clusters/${encodeURIComponent(n)}`}>{n}</Link> : n) },
        { title: t("overview.state"), dataIndex: "connected", render: (c: boolean) => <Tag color={c ? "green" : "red"}>{c ? t("common.connected") : t("common.disconnected")}</Tag> },
        {
          title: t("capacity.nodes"),
          key: "nodes",
          render: (_: unknown, c) => (
            <span data-testid={`nodes-${c.cluster}`}>
              {t("capacity.ready", { n: c.nodes.ready })}
              {c.nodes.not_ready ? <Tag color="red" style={{ marginLeft: 8 }}>{t("capacity.notReady", { n: c.nodes.not_ready })}</Tag> : null}
            </span>
          ),
        },
        { title: t("capacity.pods"), key: "pods", render: (_: unknown, c) => `${c.pods}${c.pending ? ` (${t("capacity.pending", { n: c.pending })})` : ""}` },
        { title: t("capacity.cpu"), key: "cpu", render: (_: unknown, c) => <Usage percent={usedPercent(c.requested.cpu_millis, c.allocatable.cpu_millis)} label={t("capacity.cpu")} text={`${cores(c.requested, c.allocatable)} ${t("capacity.cores")}`} /> },
        { title: t("capacity.memory"), key: "mem", render: (_: unknown, c) => <Usage percent={usedPercent(c.requested.memory_mib, c.allocatable.memory_mib)} label={t("capacity.memory")} text={`${gib(c.requested, c.allocatable)} GiB`} /> },
      ]}
    />
  );
}
