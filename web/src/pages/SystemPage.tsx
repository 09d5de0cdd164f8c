import { useState } from "react";
import { Card, Input, Space, Table } from "antd";
import { Link, useParams } from "react-router-dom";
import { api, must } from "../api/client";
import { useLoad, useMe } from "../hooks";
import { useT } from "../i18n";
import { can } from "../permissions";
import ErrorAlert from "../components/ErrorAlert";
import CreateDialog from "../components/CreateDialog";

export default function SystemPage() {
  const { t } = useT();
  const system = useParams().system!;
  const me = useMe();
  const [q, setQ] = useState("");
  const apps = useLoad(() => must(api.GET("/api/v1/systems/{system}/apps", { params: { path: { system } } })), [system]);
  const shown = (apps.data ?? []).filter((a) => a.name.includes(q.trim()));
  return (
    <Card
      title={`${system} · ${t("system.apps")}`}
      extra={
        <Space>
          <Link data-testid="system-alerts" to={`/systems/${encodeURIComponent(system)}/alerts`}>{t("alerts.open")}</Link>
          <Input.Search placeholder={t("common.search")} allowClear onChange={(e) => setQ(e.target.value)} />
          {can(me, "manage", system).allowed && (
            <CreateDialog
              testid="create-app"
              title={t("app.create")}
              fields={[
                { name: "name", label: t("common.name"), required: true },
                { name: "repository", label: t("app.repository"), required: true },
              ]}
              submit={(v) => must(api.POST("/api/v1/systems/{system}/apps", { params: { path: { system } }, body: { name: v.name, repository: v.repository } }))}
              done={apps.reload}
            />
          )}
        </Space>
      }
    >
      <ErrorAlert error={apps.error} />
      <Table
        data-testid="apps"
        rowKey="name"
        size="small"
        loading={apps.loading}
        dataSource={shown}
        columns={[
          { title: t("common.name"), dataIndex: "name", render: (n: string) => <Link to={`/systems/${encodeURIComponent(system)}/apps/${encodeURIComponent(n)}`}>{n}</Link> },
          { title: t("app.repository"), dataIndex: "repository" },
          { title: t("app.owners"), dataIndex: "owners", render: (o: string[]) => o.join(", ") },
        ]}
      />
    </Card>
  );
}
