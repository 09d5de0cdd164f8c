// The group's autoscale policy (part of its version), each signal against its per-instance target,
// the count the autoscaler would choose now with its split over the clusters, and its last decisions.
import { Alert, Card, Descriptions, Empty, Space, Table, Tag, Typography } from "antd";
import { api, must, type Schemas } from "../api/client";
import { useLoad } from "../hooks";
import { useT } from "../i18n";
import ErrorAlert from "../components/ErrorAlert";
import { when } from "../format";
import type { GroupPath } from "./types";

type Status = Schemas["AutoscaleOut"];
const ACTION_COLOR: Record<string, string> = { up: "blue", down: "purple", hold: "green", freeze: "orange" };

/** "600 requests/s", "0.25 cores", or "-" when there is no value. */
export function amount(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined) return "-";
  return `${Number(value.toPrecision(4))} ${unit}`;
}

/** Utilisation as a percentage, "-" without one. */
export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "-" : `${Math.round(value * 100)}%`;
}

export function AutoscaleView({ status }: { status: Status }) {
  const { t } = useT();
  const policy = status.policy as Record<string, unknown> | null;
  if (!policy) return <Empty description={t("autoscale.none")} data-testid="autoscale-none" />;
  const decision = status.decision;
  return (
    <Space orientation="vertical" style={{ width: "100%" }} data-testid="autoscale">
      <Descriptions size="small" column={4}>
        <Descriptions.Item label={t("autoscale.instances")}>
          <span data-testid="autoscale-instances">{status.instances}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t("autoscale.bounds")}>{`${policy.min} – ${policy.max}`}</Descriptions.Item>
        <Descriptions.Item label={t("autoscale.target")}>{percent(policy.target as number)}</Descriptions.Item>
        <Descriptions.Item label={t("autoscale.tolerance")}>{`±${percent(policy.tolerance as number)}`}</Descriptions.Item>
      </Descriptions>
      {decision && (
        <Card size="small" title={t("autoscale.now")}>
          <Table
            rowKey="key"
            size="small"
            pagination={false}
            dataSource={decision.signals}
            columns={[
              { title: t("autoscale.signal"), dataIndex: "key" },
              { title: t("autoscale.load"), key: "load", render: (_: unknown, s: Schemas["SignalOut"]) => amount(s.load, s.unit) },
              { title: t("autoscale.perInstance"), key: "per", render: (_: unknown, s: Schemas["SignalOut"]) => amount(s.per_instance, s.unit) },
              { title: t("autoscale.utilisation"), dataIndex: "utilisation", render: (v: number | null) => percent(v) },
              { title: t("autoscale.wants"), dataIndex: "wanted", render: (v: number | null) => v ?? "-" },
              { title: t("autoscale.state"), dataIndex: "problem", render: (p: string) => (p ? <Tag color="orange">{p}</Tag> : <Tag color="green">ok</Tag>) },
            ]}
          />
          <Typography.Paragraph style={{ marginTop: 8 }} data-testid="autoscale-decision">
            <Tag color={ACTION_COLOR[decision.action]}>{decision.action}</Tag>
            {`${decision.current} → ${decision.desired}`}
            {Object.keys(status.split).length > 0 && ` (${Object.entries(status.split).map(([c, n]) => `${c} ${n}`).join(", ")})`}
          </Typography.Paragraph>
          <Typography.Text type="secondary">{decision.reason}</Typography.Text>
        </Card>
      )}
      {status.note && <Alert type="info" showIcon title={status.note} />}
      <Card size="small" title={t("autoscale.last")}>
        <Table
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={status.last}
          locale={{ emptyText: t("common.none") }}
          columns={[
            { title: t("op.started"), dataIndex: "started_at", render: (v: string) => when(v) },
            { title: t("autoscale.change"), key: "change", render: (_: unknown, o: Schemas["OperationOut"]) => `${String(o.params.was)} → ${String(o.params.instances)}` },
            { title: t("op.status"), dataIndex: "status" },
            { title: t("autoscale.why"), key: "why", render: (_: unknown, o: Schemas["OperationOut"]) => String(o.params.why ?? "") },
          ]}
        />
      </Card>
    </Space>
  );
}

export default function AutoscaleTab({ path }: { path: GroupPath }) {
  const status = useLoad(
    () => must(api.GET("/api/v1/systems/{system}/apps/{app}/groups/{group}/autoscale", { params: { path } })),
    [path.system, path.app, path.group],
  );
  if (status.error) return <ErrorAlert error={status.error} />;
  if (!status.data) return <Card loading />;
  return <AutoscaleView status={status.data} />;
}
