import { useState } from "react";
import { Button, Checkbox, Drawer, Empty, InputNumber, Space, Table, Tabs, Tag, Typography } from "antd";
import { api, must, type Schemas } from "../api/client";
import { when } from "../format";
import { useLoad } from "../hooks";
import { useT } from "../i18n";
import ErrorAlert from "../components/ErrorAlert";
import type { GroupPath } from "./types";

const BASE = "/api/v1/systems/{system}/apps/{app}/groups/{group}/instances/{instance}" as const;

/** One instance's log tail and events (read when opened and on refresh, from its cluster). */
export default function InstanceDrawer(props: { path: GroupPath; instance?: string; tab: "logs" | "events"; close: () => void; setTab: (t: "logs" | "events") => void }) {
  const { t } = useT();
  return (
    <Drawer open={!!props.instance} onClose={props.close} size="large" title={props.instance} destroyOnHidden data-testid="instance-drawer">
      {props.instance && (
        <Tabs
          activeKey={props.tab}
          onChange={(k) => props.setTab(k as "logs" | "events")}
          items={[
            { key: "logs", label: <span data-testid="instance-logs-tab">{t("inst.logs")}</span>, children: <Logs path={props.path} instance={props.instance} /> },
            { key: "events", label: <span data-testid="instance-events-tab">{t("inst.events")}</span>, children: <Events path={props.path} instance={props.instance} /> },
          ]}
        />
      )}
    </Drawer>
  );
}

function Logs({ path, instance }: { path: GroupPath; instance: string }) {
  const { t } = useT();
  const [tail, setTail] = useState(200);
  const [previous, setPrevious] = useState(false);
  const log = useLoad(
    () => must(api.GET(`${BASE}/logs`, { params: { path: { ...path, instance }, query: { tail, previous } } })),
    [path, instance, tail, previous],
  );
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Space>
        <span>{t("inst.tail")}</span>
        <InputNumber min={1} max={5000} value={tail} onChange={(v) => v && setTail(v)} aria-label={t("inst.tail")} />
        <Checkbox checked={previous} onChange={(e) => setPrevious(e.target.checked)}>{t("inst.previous")}</Checkbox>
        <Button onClick={log.reload} loading={log.loading}>{t("inst.refresh")}</Button>
      </Space>
      <ErrorAlert error={log.error} />
      {log.data && (log.data.lines.length ? (
        <Typography.Paragraph>
          <pre data-testid="instance-log" style={{ maxHeight: 520, overflow: "auto", fontSize: 12 }}>{log.data.lines.join("\n")}</pre>
        </Typography.Paragraph>
      ) : <Empty description={t("inst.noLog")} />)}
    </Space>
  );
}

function Events({ path, instance }: { path: GroupPath; instance: string }) {
  const { t } = useT();
  const events = useLoad(() => must(api.GET(`${BASE}/events`, { params: { path: { ...path, instance } } })), [path, instance]);
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Button onClick={events.reload} loading={events.loading}>{t("inst.refresh")}</Button>
      <ErrorAlert error={events.error} />
      <Table<Schemas["InstanceEventOut"]>
        data-testid="instance-events"
        size="small"
        rowKey={(e) => `${e.last_at} ${e.reason} ${e.message}`}
        pagination={false}
        locale={{ emptyText: t("inst.noEvents") }}
        dataSource={events.data?.items ?? []}
        columns={[
          { title: t("event.last"), dataIndex: "last_at", width: 170, render: (v: string | null) => when(v) },
          { title: t("event.type"), dataIndex: "type", width: 90, render: (v: string) => <Tag color={v === "Warning" ? "orange" : "default"}>{v}</Tag> },
          { title: t("event.reason"), dataIndex: "reason", width: 140 },
          { title: t("event.count"), dataIndex: "count", width: 70 },
          { title: t("event.message"), dataIndex: "message" },
          { title: t("event.source"), dataIndex: "source", width: 140 },
        ]}
      />
    </Space>
  );
}
