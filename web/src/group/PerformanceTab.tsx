// The group's application performance: requests/s, error ratio and p50/p90/p99 per version (with each
// version's p99 over the last hour), and per method the top 10 by p99 and by traffic. From the
// request-duration histogram the instances export (docs/apm.md).
import { Card, Col, Row, Space, Table, Typography } from "antd";
import { api, must } from "../api/client";
import { useLoad } from "../hooks";
import { useT } from "../i18n";
import ErrorAlert from "../components/ErrorAlert";
import { bounds, linePath, type Point } from "./chart";
import { ms, percent, rowName, type ApmRow } from "./performance";
import type { GroupPath } from "./types";

const COLORS = ["#1677ff", "#52c41a", "#fa8c16", "#eb2f96", "#722ed1", "#13c2c2"];
const W = 320;
const H = 90;

async function load(path: GroupPath, by: string) {
  return must(
    api.GET("/api/v1/systems/{system}/apps/{app}/groups/{group}/apm", {
      params: { path, query: { by, since: "5m", top: 10, ...(by === "version" ? { range: "1h" } : {}) } },
    }),
  );
}

function RowsTable({ rows, testid }: { rows: ApmRow[]; testid: string }) {
  const { t } = useT();
  return (
    <Table<ApmRow>
      size="small"
      pagination={false}
      data-testid={testid}
      rowKey={(r) => rowName(r)}
      dataSource={rows}
      columns={[
        { title: t("apm.name"), render: (_, r) => rowName(r) },
        { title: t("apm.rps"), render: (_, r) => r.rps.toFixed(2) },
        { title: t("apm.errors"), render: (_, r) => percent(r.error_ratio) },
        { title: "p50", render: (_, r) => ms(r.p50) },
        { title: "p90", render: (_, r) => ms(r.p90) },
        { title: "p99", render: (_, r) => ms(r.p99) },
      ]}
    />
  );
}

export default function PerformanceTab({ path }: { path: GroupPath }) {
  const { t } = useT();
  const answers = useLoad(async () => Promise.all([load(path, "version"), load(path, "method")]), [
    path.system,
    path.app,
    path.group,
  ]);
  if (answers.error) return <ErrorAlert error={answers.error} />;
  if (!answers.data) return <Card size="small" loading />;
  const [versions, methods] = answers.data;
  const lines = versions.p99_series.map((s) => s.points as Point[]);
  const b = bounds(lines);
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} xl={12}>
        <Card size="small" title={t("apm.byVersion")}>
          <Space direction="vertical" style={{ width: "100%" }}>
            <RowsTable rows={versions.rows} testid="apm-versions" />
            <svg viewBox={`0 0 ${W} ${H}`} width="100%" height={H} role="img" aria-label="p99">
              {lines.map((points, i) => (
                <path key={i} d={linePath(points, b, W, H)} fill="none" stroke={COLORS[i % COLORS.length]} strokeWidth={1.5} />
              ))}
            </svg>
            <Typography.Text type="secondary">
              {`p99, 1h: ${versions.p99_series.map((s) => `v${s.labels.version ?? ""}`).join(", ")}`}
            </Typography.Text>
          </Space>
        </Card>
      </Col>
      <Col xs={24} xl={12}>
        <Card size="small" title={t("apm.topP99")}>
          <RowsTable rows={methods.top_p99} testid="apm-top-p99" />
        </Card>
        <Card size="small" title={t("apm.topRps")} style={{ marginTop: 16 }}>
          <RowsTable rows={methods.top_rps} testid="apm-top-rps" />
        </Card>
      </Col>
    </Row>
  );
}
