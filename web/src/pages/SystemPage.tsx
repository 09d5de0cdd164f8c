import { useEffect, useState } from "react";
import { Card, Input, Space, Table, Tag } from "antd";
import { Link, useParams } from "react-router-dom";
import { api, must } from "../api/client";
import { useLoad, useMe } from "../hooks";
import { useT, type Key } from "../i18n";
import { can } from "../permissions";
import ErrorAlert from "../components/ErrorAlert";
import CreateDialog from "../components/CreateDialog";

const GROUPS_EVERY_MS = 5000;
const STATE_COLOR: Record<string, string> = { healthy: "green", progressing: "blue", degraded: "red", drifted: "orange" };

export default function SystemPage() {
  const { t } = useT();
  const system = useParams().system!;
  const me = useMe();
  const [q, setQ] = useState("");
  const apps = useLoad(() => must(api.GET("/api/v1/systems/{system}/apps", { params: { path: { system } } })), [system]);
  const groups = useLoad(() => must(api.GET("/api/v1/systems/{system}/groups", { params: { path: { system } } })), [system]);
  const { reload } = groups;
  useEffect(() => {
    const timer = setInterval(reload, GROUPS_EVERY_MS);
    return () => clearInterval(timer);
  }, [reload]);
  const shown = (apps.data ?? []).filter((a) => a.name.includes(q.trim()));
  const link = (app: string, group: string) => `/systems/${encodeURIComponent(system)}/apps/${encodeURIComponent(app)}/groups/${encodeURIComponent(group)}`;
  return (
    <Space orientation="vertical" size="middle" style={{ width: "100%" }}>
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
    <Card title={`${system} · ${t("system.groups")}`}>
      <ErrorAlert error={groups.error} />
      <Table
        data-testid="system-groups"
        rowKey={(g) => `${g.app}/${g.name}`}
        size="small"
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        dataSource={(groups.data ?? []).filter((g) => `${g.app}/${g.name}`.includes(q.trim()))}
        columns={[
          { title: t("group.app"), dataIndex: "app" },
          { title: t("common.name"), dataIndex: "name", render: (n: string, g) => <Link to={link(g.app, n)}>{n}</Link> },
          { title: t("group.environment"), dataIndex: "environment" },
          { title: t("group.cluster"), key: "clusters", render: (_: unknown, g) => (g.clusters?.length ? g.clusters.map((c) => c.cluster).join(", ") : g.cluster) },
          { title: t("overview.state"), key: "state", render: (_: unknown, g) => g.status && <Tag color={STATE_COLOR[g.status.state]} data-testid={`state-${g.app}-${g.name}`}>{t(`state.${g.status.state}` as Key)}</Tag> },
          { title: t("group.version"), key: "version", render: (_: unknown, g) => (g.current_version ? `v${g.current_version}${g.latest_version !== g.current_version ? ` (v${g.latest_version})` : ""}` : "-") },
          { title: t("group.instances"), key: "instances", render: (_: unknown, g) => g.status && `${g.status.ready} / ${g.status.wanted}` },
        ]}
      />
    </Card>
    </Space>
  );
}
