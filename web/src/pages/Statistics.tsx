// Resource statistics and chargeback (docs/statistics.md): requested, used and billed CPU and memory
// of the caller's systems over a period, per level, with bars per row, the days' requested vs used
// line, and the applications that grew most. Only the rows the caller may read come back.
import { useState } from "react";
import { Button, Card, Col, Form, Input, Row, Select, Space, Table, Tag, Typography } from "antd";
import { api, must, type Schemas } from "../api/client";
import { useLoad } from "../hooks";
import { useT } from "../i18n";
import ErrorAlert from "../components/ErrorAlert";
import { bounds, linePath } from "../group/chart";
import { barWidths, perDay, percent, rowLabel } from "../statistics/bars";

type StatRow = Schemas["StatRowOut"];
interface Filters {
  from?: string;
  to?: string;
  level: string;
}
const LEVELS = ["system", "app", "group", "cluster", "idc"];
const W = 420;
const BAR = 8;

function Bars({ rows, resource }: { rows: StatRow[]; resource: "cpu" | "memory" }) {
  const { t } = useT();
  const value = (r: StatRow, what: "requested" | "used" | "billed") =>
    Number(resource === "cpu" ? r[`cpu_${what}_core_hours`] : r[`memory_${what}_gib_hours`]);
  const shown = rows.slice(0, 20);
  const widths = barWidths(
    shown.map((r) => ({ label: rowLabel(r), requested: value(r, "requested"), used: value(r, "used"), billed: value(r, "billed") })),
    W - 160,
  );
  const height = shown.length * (3 * BAR + 8) + 4;
  return (
    <Card size="small" title={t(resource === "cpu" ? "stats.cpuChart" : "stats.memoryChart")} data-testid={`stats-bars-${resource}`}>
      <svg viewBox={`0 0 ${W} ${height}`} width="100%" height={height} role="img" aria-label={resource}>
        {shown.map((r, i) => {
          const y = i * (3 * BAR + 8) + 4;
          return (
            <g key={rowLabel(r)}>
              <text x={0} y={y + 2 * BAR} fontSize={10}>{rowLabel(r).slice(0, 26)}</text>
              <rect x={160} y={y} width={widths[i].requested} height={BAR} fill="#91caff" />
              <rect x={160} y={y + BAR} width={widths[i].used} height={BAR} fill="#52c41a" />
              <rect x={160} y={y + 2 * BAR} width={widths[i].billed} height={BAR} fill="#fa8c16" />
            </g>
          );
        })}
      </svg>
      <Space>
        <Tag color="#91caff">{t("stats.requested")}</Tag>
        <Tag color="#52c41a">{t("stats.used")}</Tag>
        <Tag color="#fa8c16">{t("stats.billed")}</Tag>
      </Space>
    </Card>
  );
}

function Days({ rows }: { rows: StatRow[] }) {
  const { t } = useT();
  const requested = perDay(rows, (r: StatRow) => Number(r.cpu_requested_core_hours));
  const used = perDay(rows, (r: StatRow) => Number(r.cpu_used_core_hours));
  const b = bounds([requested, used]);
  return (
    <Card size="small" title={t("stats.daily")} data-testid="stats-days">
      <svg viewBox={`0 0 ${W} 100`} width="100%" height={100} role="img" aria-label="days">
        <path d={linePath(requested, b, W, 100)} fill="none" stroke="#1677ff" strokeWidth={2} />
        <path d={linePath(used, b, W, 100)} fill="none" stroke="#52c41a" strokeWidth={2} />
      </svg>
      <Space>
        <Tag color="#1677ff">{t("stats.requested")}</Tag>
        <Tag color="#52c41a">{t("stats.used")}</Tag>
      </Space>
    </Card>
  );
}

export default function Statistics() {
  const { t } = useT();
  const [filters, setFilters] = useState<Filters>({ level: "system" });
  const query = { level: filters.level, ...(filters.from ? { from: filters.from } : {}), ...(filters.to ? { to: filters.to } : {}) };
  const report = useLoad(() => must(api.GET("/api/v1/statistics", { params: { query } })), [filters]);
  const days = useLoad(() => must(api.GET("/api/v1/statistics", { params: { query: { ...query, level: "system", daily: true } } })), [filters]);
  const growth = useLoad(
    () => must(api.GET("/api/v1/statistics/growth", { params: { query: { ...(filters.from ? { from: filters.from } : {}), ...(filters.to ? { to: filters.to } : {}) } } })),
    [filters],
  );
  const rows = report.data?.rows ?? [];
  return (
    <Card title={t("stats.title")}>
      <Form layout="inline" initialValues={filters} onFinish={(f: Filters) => setFilters(f)} style={{ marginBottom: 12 }}>
        <Form.Item name="from" label={t("stats.from")}>
          <Input placeholder="YYYY-MM-DD" allowClear style={{ width: 130 }} />
        </Form.Item>
        <Form.Item name="to" label={t("stats.to")}>
          <Input placeholder="YYYY-MM-DD" allowClear style={{ width: 130 }} />
        </Form.Item>
        <Form.Item name="level" label={t("stats.level")}>
          <Select style={{ width: 120 }} options={LEVELS.map((l) => ({ value: l, label: l }))} />
        </Form.Item>
        <Button type="primary" htmlType="submit" data-testid="stats-search">{t("common.search")}</Button>
      </Form>
      <ErrorAlert error={report.error ?? days.error ?? growth.error} />
      {report.data && (
        <Typography.Paragraph type="secondary">
          {t("stats.period", { first: report.data.first, last: report.data.last, hours: (report.data.sampled_seconds / 3600).toFixed(1) })}
        </Typography.Paragraph>
      )}
      <Row gutter={12} style={{ marginBottom: 12 }}>
        <Col span={8}><Bars rows={rows} resource="cpu" /></Col>
        <Col span={8}><Bars rows={rows} resource="memory" /></Col>
        <Col span={8}><Days rows={days.data?.rows ?? []} /></Col>
      </Row>
      <Table
        rowKey={(r) => rowLabel(r)}
        size="small"
        loading={report.loading}
        pagination={false}
        dataSource={rows}
        data-testid="stats-table"
        columns={[
          { title: t("stats.what"), render: (_, r: StatRow) => rowLabel(r) },
          { title: t("stats.cpuRequested"), dataIndex: "cpu_requested_core_hours" },
          { title: t("stats.cpuUsed"), dataIndex: "cpu_used_core_hours" },
          { title: t("stats.cpuEfficiency"), render: (_, r: StatRow) => <>{percent(r.cpu_efficiency)} {r.low_efficiency && <Tag color="red">{t("stats.low")}</Tag>}</> },
          { title: t("stats.memoryRequested"), dataIndex: "memory_requested_gib_hours" },
          { title: t("stats.memoryUsed"), dataIndex: "memory_used_gib_hours" },
          { title: t("stats.memoryEfficiency"), render: (_, r: StatRow) => percent(r.memory_efficiency) },
          { title: t("stats.cost"), render: (_, r: StatRow) => r.cost ?? "-" },
        ]}
      />
      <Card size="small" title={t("stats.growth")} style={{ marginTop: 12 }}>
        <Table
          rowKey={(r) => `${r.system}/${r.app}`}
          size="small"
          pagination={false}
          dataSource={growth.data?.rows ?? []}
          columns={[
            { title: t("stats.what"), render: (_, r: Schemas["GrowthRowOut"]) => `${r.system}/${r.app}` },
            { title: t("stats.cpuGrowth"), dataIndex: "cpu_growth_core_hours" },
            { title: t("stats.memoryGrowth"), dataIndex: "memory_growth_gib_hours" },
          ]}
        />
      </Card>
    </Card>
  );
}
