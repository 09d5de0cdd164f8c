import { useState } from "react";
import { Card, Input, Space, Table } from "antd";
import { Link, useParams } from "react-router-dom";
import { api, must } from "../api/client";
import { useLoad, useMe } from "../hooks";
import { useT } from "../i18n";
import { can } from "../permissions";
import ErrorAlert from "../components/ErrorAlert";
import CreateDialog from "../components/CreateDialog";
import TemplateDialog from "../templates/TemplateDialog";
import { templateTarget, type Template } from "../templates/templates";

export default function AppPage() {
  const { t } = useT();
  const { system, app } = useParams() as { system: string; app: string };
  const me = useMe();
  const [q, setQ] = useState("");
  const path = { system, app };
  const groups = useLoad(() => must(api.GET("/api/v1/systems/{system}/apps/{app}/groups", { params: { path } })), [system, app]);
  const clusters = useLoad(() => must(api.GET("/api/v1/clusters")), []);
  const manage = can(me, "manage", system, app).allowed;
  const templates = useLoad(
    async () => (manage ? [...(await must(api.GET("/api/v1/templates"))), ...(await must(api.GET("/api/v1/systems/{system}/templates", { params: { path: { system } } })))] : []),
    [system, manage],
  );
  const flavors = useLoad(() => (manage ? must(api.GET("/api/v1/flavors")) : Promise.resolve([])), [manage]);
  const render = (tpl: Template, parameters: Record<string, unknown>) =>
    tpl.system
      ? must(api.POST("/api/v1/systems/{system}/templates/{template}/render", { params: { path: { system: tpl.system, template: tpl.name } }, body: { version: tpl.version, parameters } }))
      : must(api.POST("/api/v1/templates/{template}/render", { params: { path: { template: tpl.name } }, body: { version: tpl.version, parameters } }));
  const shown = (groups.data ?? []).filter((g) => (g.name + g.environment + g.cluster).includes(q.trim()));
  const base = `/systems/${encodeURIComponent(system)}/apps/${encodeURIComponent(app)}/groups/`;
  return (
    <Card
      title={`${system}/${app} · ${t("app.groups")}`}
      extra={
        <Space>
          <Input.Search placeholder={t("common.search")} allowClear onChange={(e) => setQ(e.target.value)} />
          {manage && (
            <TemplateDialog
              templates={templates.data ?? []}
              clusters={(clusters.data ?? []).map((c) => c.name)}
              flavors={(flavors.data ?? []).map((f) => f.name)}
              check={render}
              createGroup={(g) => must(api.POST("/api/v1/systems/{system}/apps/{app}/groups", { params: { path }, body: g }))}
              deploy={(group, tpl, parameters) =>
                must(api.POST("/api/v1/systems/{system}/apps/{app}/groups/{group}/deploy", { params: { path: { ...path, group } }, body: { template: templateTarget(tpl, parameters) } }))
              }
              done={groups.reload}
            />
          )}
          {manage && (
            <CreateDialog
              testid="create-group"
              title={t("group.create")}
              fields={[
                { name: "name", label: t("common.name"), required: true },
                { name: "environment", label: t("group.environment"), required: true, options: ["dev", "test", "staging", "prod"] },
                { name: "cluster", label: t("group.cluster"), required: true, options: (clusters.data ?? []).map((c) => c.name), initial: clusters.data?.[0]?.name },
              ]}
              submit={(v) => must(api.POST("/api/v1/systems/{system}/apps/{app}/groups", { params: { path }, body: { name: v.name, environment: v.environment, cluster: v.cluster } }))}
              done={groups.reload}
            />
          )}
        </Space>
      }
    >
      <ErrorAlert error={groups.error} />
      <Table
        data-testid="groups"
        rowKey="name"
        size="small"
        loading={groups.loading}
        dataSource={shown}
        columns={[
          { title: t("common.name"), dataIndex: "name", render: (n: string) => <Link to={base + encodeURIComponent(n)}>{n}</Link> },
          { title: t("group.environment"), dataIndex: "environment" },
          { title: t("group.cluster"), dataIndex: "cluster" },
          { title: t("group.current"), dataIndex: "current_version", render: (v: number | null) => (v ? `v${v}` : t("common.none")) },
        ]}
      />
    </Card>
  );
}
