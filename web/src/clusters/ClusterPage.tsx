import { Card, Descriptions, Space, Table, Tag } from "antd";
import { useParams } from "react-router-dom";
import { api, must } from "../api/client";
import { useLoad } from "../hooks";
import { useT } from "../i18n";
import ErrorAlert from "../components/ErrorAlert";
import CapacityTable from "./CapacityTable";

/** One cluster: its labels and connection, capacity by pool and CPU model, its exclusive pools. */
export default function ClusterPage() {
  const { t } = useT();
  const name = useParams().name!;
  const p = { params: { path: { name } } };
  const cluster = useLoad(() => must(api.GET("/api/v1/clusters/{name}", p)), [name]);
  const status = useLoad(() => must(api.GET("/api/v1/clusters/{name}/status", p)), [name]);
  const pools = useLoad(() => must(api.GET("/api/v1/clusters/{name}/dedicated-pools", p)), [name]);
  return (
    <Space orientation="vertical" size="middle" style={{ width: "100%" }}>
      <Card title={<span data-testid="cluster-title">{name}</span>} extra={<a onClick={status.reload}>{t("inst.refresh")}</a>}>
        <ErrorAlert error={cluster.error ?? status.error} />
        {cluster.data && (
          <Descriptions size="small" column={3}>
            <Descriptions.Item label={t("overview.state")}>
              <Tag color={cluster.data.connected ? "green" : "red"} title={cluster.data.detail}>{cluster.data.connected ? t("common.connected") : t("common.disconnected")}</Tag>
            </Descriptions.Item>
            <Descriptions.Item label={t("overview.labels")}>{Object.entries(cluster.data.labels).map(([k, v]) => <Tag key={k}>{`${k}=${v}`}</Tag>)}</Descriptions.Item>
          </Descriptions>
        )}
        {status.data && <CapacityTable items={[status.data]} linked={false} />}
      </Card>
      <Card title={t("capacity.dedicated")}>
        <ErrorAlert error={pools.error} />
        <Table
          size="small"
          rowKey="pool"
          pagination={false}
          dataSource={pools.data ?? []}
          columns={[
            { title: t("capacity.pool"), dataIndex: "pool" },
            { title: "system/app", key: "owner", render: (_: unknown, d: { system: string; app: string }) => `${d.system}/${d.app}` },
            { title: "taint", dataIndex: "taint" },
            { title: t("build.by"), dataIndex: "by" },
          ]}
        />
      </Card>
    </Space>
  );
}
