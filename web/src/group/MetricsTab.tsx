// The group's metrics: per instance (thin lines) and the group's total (thick), over the last hour;
// memory as rss, cache and working set side by side. An empty chart shows the server's reason.
import { Alert, Card, Col, Row, Space, Typography } from "antd";
import { api, must } from "../api/client";
import { useLoad } from "../hooks";
import { useT } from "../i18n";
import ErrorAlert from "../components/ErrorAlert";
import { bounds, formatValue, linePath, type Point } from "./chart";
import type { GroupPath } from "./types";

const METRICS = [
  "cpu",
  "memory_rss",
  "memory_cache",
  "memory_working_set",
  "network_receive_bytes",
  "network_transmit_bytes",
] as const;
const COLORS = ["#1677ff", "#52c41a", "#fa8c16", "#eb2f96", "#722ed1", "#13c2c2"];
const W = 320;
const H = 90;

async function load(path: GroupPath, metric: string, level: string) {
  return must(
    api.GET("/api/v1/systems/{system}/apps/{app}/groups/{group}/metrics", {
      params: { path, query: { metric, level, range: "1h" } },
    }),
  );
}

function MetricChart({ path, metric }: { path: GroupPath; metric: string }) {
  const { t } = useT();
  const charts = useLoad(
    async () => Promise.all([load(path, metric, "instance"), load(path, metric, "group")]),
    [path.system, path.app, path.group, metric],
  );
  if (charts.error) return <ErrorAlert error={charts.error} />;
  if (!charts.data) return <Card size="small" loading title={metric} />;
  const [instances, total] = charts.data;
  const lines = instances.series.map((s) => s.points as Point[]);
  const sum = (total.series[0]?.points ?? []) as Point[];
  const b = bounds([...lines, sum]);
  const latest = sum.length ? formatValue(sum[sum.length - 1][1], total.unit) : "-";
  return (
    <Card size="small" title={`${metric} (${instances.unit})`} extra={`${t("metrics.total")}: ${latest}`} data-testid={`chart-${metric}`}>
      {instances.empty ? (
        <Alert type="info" showIcon title={t("metrics.noData")} description={instances.empty.message} />
      ) : (
        <Space direction="vertical" style={{ width: "100%" }}>
          <svg viewBox={`0 0 ${W} ${H}`} width="100%" height={H} role="img" aria-label={metric}>
            {lines.map((points, i) => (
              <path key={i} d={linePath(points, b, W, H)} fill="none" stroke={COLORS[i % COLORS.length]} strokeWidth={1} />
            ))}
            <path d={linePath(sum, b, W, H)} fill="none" stroke="#000" strokeWidth={2} />
          </svg>
          <Typography.Text type="secondary">
            {instances.series.map((s) => s.labels.pod ?? "").join(", ")}
          </Typography.Text>
        </Space>
      )}
    </Card>
  );
}

export default function MetricsTab({ path }: { path: GroupPath }) {
  return (
    <Row gutter={[16, 16]}>
      {METRICS.map((m) => (
        <Col key={m} xs={24} md={12} xl={8}>
          <MetricChart path={path} metric={m} />
        </Col>
      ))}
    </Row>
  );
}
