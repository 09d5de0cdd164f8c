import { useState } from "react";
import { Button, Card, Space, Table, Tabs, message } from "antd";
import { Link, useParams } from "react-router-dom";
import { api, must, type Schemas } from "../api/client";
import { AlertsTable, SilencesTable } from "../alerts/tables";
import { asApiError, useLoad, useMe } from "../hooks";
import type { ApiError } from "../api/errors";
import { useT } from "../i18n";
import { can } from "../permissions";
import ErrorAlert from "../components/ErrorAlert";

/** A system's alerts: firing now, history (who was told), rules as they hold, channels, silences. */
export default function AlertsPage() {
  const { t } = useT();
  const system = useParams().system!;
  const me = useMe();
  const path = { params: { path: { system } } };
  const alerts = useLoad(() => must(api.GET("/api/v1/systems/{system}/alerts", path)), [system]);
  const rules = useLoad(() => must(api.GET("/api/v1/systems/{system}/alert-rules", path)), [system]);
  const channels = useLoad(() => must(api.GET("/api/v1/systems/{system}/channels", path)), [system]);
  // Silences live in Alertmanager: a 503 (none configured) shows as an error in its tab only.
  const silences = useLoad(() => must(api.GET("/api/v1/systems/{system}/silences", path)), [system]);
  const [error, setError] = useState<ApiError>();
  const owner = can(me, "manage", system).allowed;
  const developer = can(me, "deploy", system).allowed;

  async function test(name: string) {
    setError(undefined);
    try {
      const sent = await must(api.POST("/api/v1/systems/{system}/channels/{name}/test", { params: { path: { system, name } } }));
      message.info(t("alerts.testSent", { state: sent.state }));
    } catch (e) {
      setError(asApiError(e));
    }
  }
  async function expire(id: string) {
    setError(undefined);
    try {
      await must(api.DELETE("/api/v1/systems/{system}/silences/{silence_id}", { params: { path: { system, silence_id: id } } }));
      silences.reload();
    } catch (e) {
      setError(asApiError(e));
    }
  }
  return (
    <Card title={<Space><Link to={`/systems/${encodeURIComponent(system)}`}>{system}</Link>{`· ${t("alerts.title")}`}</Space>}>
      <ErrorAlert error={error ?? alerts.error ?? rules.error ?? channels.error} />
      <Tabs
        items={[
          {
            key: "firing",
            label: t("alerts.firing"),
            children: <AlertsTable testid="alerts-firing" firingOnly alerts={alerts.data ?? []} loading={alerts.loading} />,
          },
          {
            key: "history",
            label: t("alerts.history"),
            children: <AlertsTable testid="alerts-history" alerts={alerts.data ?? []} loading={alerts.loading} />,
          },
          {
            key: "rules",
            label: t("alerts.rules"),
            children: (
              <Table
                data-testid="alert-rules"
                rowKey={(r) => `${r.app}/${r.group}/${r.rule}`}
                size="small"
                loading={rules.loading}
                dataSource={rules.data?.effective ?? []}
                columns={[
                  { title: "app / group", render: (_: unknown, r: Schemas["EffectiveOut"]) => `${r.app} / ${r.group}` },
                  { title: t("alerts.rule"), dataIndex: "rule" },
                  { title: t("alerts.threshold"), dataIndex: "threshold" },
                  { title: t("alerts.enabled"), dataIndex: "enabled", render: (e: boolean) => (e ? "✓" : "–") },
                  { title: t("alerts.source"), dataIndex: "source" },
                ]}
              />
            ),
          },
          {
            key: "channels",
            label: t("alerts.channels"),
            children: (
              <Table
                data-testid="alert-channels"
                rowKey="name"
                size="small"
                loading={channels.loading}
                dataSource={channels.data ?? []}
                columns={[
                  { title: t("common.name"), dataIndex: "name" },
                  { title: t("alerts.kind"), dataIndex: "kind" },
                  { title: t("alerts.target"), dataIndex: "target" },
                  { title: "", render: (_: unknown, c: Schemas["ChannelOut"]) => owner && <Button size="small" onClick={() => test(c.name)}>{t("alerts.test")}</Button> },
                ]}
              />
            ),
          },
          {
            key: "silences",
            label: t("alerts.silences"),
            children: (
              <>
                <ErrorAlert error={silences.error} />
                <SilencesTable silences={silences.data ?? []} loading={silences.loading} expire={developer ? expire : undefined} />
              </>
            ),
          },
        ]}
      />
    </Card>
  );
}
