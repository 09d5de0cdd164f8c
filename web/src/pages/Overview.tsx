import { useEffect, useState } from "react";
import { Card, Col, Input, Row, Space, Table, Tag } from "antd";
import { Link } from "react-router-dom";
import { api, must, type Schemas } from "../api/client";
import { useLoad, useMe } from "../hooks";
import { useT } from "../i18n";
import ErrorAlert from "../components/ErrorAlert";
import OperationsTable from "../components/OperationsTable";
import CreateDialog from "../components/CreateDialog";
import CapacityTable from "../clusters/CapacityTable";

const CAPACITY_EVERY_MS = 10_000;

async function recentOperations(systems: Schemas["SystemOut"][]): Promise<Schemas["OperationOut"][]> {
  const lists = await Promise.all(
    systems.slice(0, 20).map((s) =>
      must(api.GET("/api/v1/systems/{system}/operations", { params: { path: { system: s.name }, query: { limit: 10 } } })),
    ),
  );
  return lists.flat().sort((a, b) => String(b.started_at ?? "").localeCompare(String(a.started_at ?? ""))).slice(0, 15);
}

export default function Overview() {
  const { t } = useT();
  const me = useMe();
  const [q, setQ] = useState("");
  const clusters = useLoad(() => must(api.GET("/api/v1/clusters")), []);
  const systems = useLoad(() => must(api.GET("/api/v1/systems")), []);
  const ops = useLoad(() => (systems.data ? recentOperations(systems.data) : Promise.resolve([])), [systems.data]);
  const capacity = useLoad(
    () => Promise.all((clusters.data ?? []).map((c) => must(api.GET("/api/v1/clusters/{name}/status", { params: { path: { name: c.name } } })))),
    [clusters.data],
  );
  const { reload } = capacity;
  useEffect(() => {
    const timer = setInterval(reload, CAPACITY_EVERY_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const shown = (systems.data ?? []).filter((s) => s.name.includes(q.trim()));
  return (
    <Row gutter={[16, 16]}>
      <Col span={24}>
        <Card title={t("overview.clusters")} data-testid="clusters">
          <ErrorAlert error={clusters.error} />
          <Table
            rowKey="name"
            size="small"
            pagination={false}
            loading={clusters.loading}
            dataSource={clusters.data ?? []}
            columns={[
              { title: t("common.name"), dataIndex: "name", render: (n: string) => <Link to={`/clusters/${encodeURIComponent(n)}`}>{n}</Link> },
              {
                title: t("overview.state"),
                dataIndex: "connected",
                render: (c: boolean, r) => <Tag color={c ? "green" : "red"} title={r.detail}>{c ? t("common.connected") : t("common.disconnected")}</Tag>,
              },
              { title: t("overview.labels"), dataIndex: "labels", render: (l: Record<string, string>) => Object.entries(l).map(([k, v]) => <Tag key={k}>{`${k}=${v}`}</Tag>) },
            ]}
          />
        </Card>
      </Col>
      <Col span={24}>
        <Card title={t("capacity.title")}>
          <ErrorAlert error={capacity.error} />
          <CapacityTable items={capacity.data ?? []} />
        </Card>
      </Col>
      <Col span={24}>
        <Card
          title={t("overview.systems")}
          extra={
            <Space>
              <Input.Search placeholder={t("common.search")} allowClear onChange={(e) => setQ(e.target.value)} data-testid="search" />
              {me?.admin && (
                <CreateDialog
                  testid="create-system"
                  title={t("system.create")}
                  fields={[{ name: "name", label: t("common.name"), required: true }]}
                  submit={(v) => must(api.POST("/api/v1/systems", { body: { name: v.name } }))}
                  done={systems.reload}
                />
              )}
            </Space>
          }
        >
          <ErrorAlert error={systems.error} />
          <Table
            data-testid="systems"
            rowKey="name"
            size="small"
            loading={systems.loading}
            dataSource={shown}
            columns={[{ title: t("common.name"), dataIndex: "name", render: (n: string) => <Link to={`/systems/${encodeURIComponent(n)}`}>{n}</Link> }]}
          />
        </Card>
      </Col>
      <Col span={24}>
        <Card title={t("overview.operations")}>
          <ErrorAlert error={ops.error} />
          <OperationsTable items={ops.data ?? []} withTarget />
        </Card>
      </Col>
    </Row>
  );
}
