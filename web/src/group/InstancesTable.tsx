import { useEffect, useMemo, useState } from "react";
import { Button, Input, Space, Table, Tag, Tooltip, Typography } from "antd";
import { api, must, type Schemas } from "../api/client";
import { age, filterInstances, shortContainerId } from "../format";
import { useT } from "../i18n";
import type { Verdict } from "../permissions";
import Confirm from "./Confirm";
import InstanceDrawer from "./InstanceDrawer";
import type { GroupPath } from "./types";

type Instance = Schemas["InstanceOut"];
const PHASE: Record<string, string> = { Running: "green", Pending: "gold", Failed: "red", Succeeded: "default" };
const by = <K extends keyof Instance>(k: K) => (a: Instance, b: Instance) => String(a[k]).localeCompare(String(b[k]), undefined, { numeric: true });

/** The group's instances from the live snapshot: sortable, filterable, virtualized (a thousand rows
 * render only what is on screen); with `path`, each has its actions: restart (confirmed; needs the
 * deploy right, the reason shown otherwise), its log and its events. */
export default function InstancesTable({ items, path, deploy }: { items: Instance[]; path?: GroupPath; deploy?: Verdict }) {
  const { t } = useT();
  const [q, setQ] = useState("");
  const [restarting, setRestarting] = useState<string>();
  const [open, setOpen] = useState<{ name: string; tab: "logs" | "events" }>();
  const now = useNow(5000);
  const rows = useMemo(() => filterInstances(items, q), [items, q]);
  // Snapshots come only on a change: ages count on here, from when each instance was created.
  const ageOf = (r: Instance) => (r.created_at ? (now - Date.parse(r.created_at)) / 1000 : r.age_seconds);
  const versions = [...new Set(items.map((i) => i.version))].sort();
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Space>
        <Input.Search placeholder={t("inst.filter")} allowClear onChange={(e) => setQ(e.target.value)} style={{ width: 320 }} data-testid="instances-filter" />
        <Typography.Text type="secondary" data-testid="instances-count">{t("inst.count", { shown: rows.length, total: items.length })}</Typography.Text>
      </Space>
      <Table
        data-testid="instances"
        rowKey="name"
        size="small"
        virtual
        scroll={{ x: path ? 1660 : 1440, y: 480 }}
        pagination={false}
        dataSource={rows}
        columns={[
          { title: t("inst.name"), dataIndex: "name", width: 260, sorter: by("name"), fixed: "left" },
          {
            title: t("inst.status"),
            dataIndex: "phase",
            width: 120,
            sorter: by("phase"),
            filters: ["Running", "Pending", "Failed", "Succeeded", "Unknown"].map((p) => ({ text: p, value: p })),
            onFilter: (v, r) => r.phase === v,
            render: (p: string, r) => <Tag color={r.deleting ? "default" : PHASE[p]} title={r.reason}>{r.deleting ? `${p} ↓` : p}</Tag>,
          },
          {
            title: t("inst.container"),
            dataIndex: "container_id",
            width: 140,
            render: (v: string | undefined) => (v ? <Typography.Text copyable={{ text: v }} code>{shortContainerId(v)}</Typography.Text> : "-"),
          },
          { title: t("inst.ready"), dataIndex: "ready", width: 80, sorter: (a, b) => Number(a.ready) - Number(b.ready), render: (v: boolean) => (v ? "✓" : "✗") },
          { title: t("inst.hostIp"), dataIndex: "host_ip", width: 130, sorter: by("host_ip") },
          { title: t("inst.podIp"), dataIndex: "pod_ip", width: 130, sorter: by("pod_ip") },
          { title: t("inst.node"), dataIndex: "node", width: 200, sorter: by("node") },
          {
            title: t("inst.version"),
            dataIndex: "version",
            width: 90,
            sorter: by("version"),
            filters: versions.map((v) => ({ text: `v${v}`, value: v })),
            onFilter: (v, r) => r.version === v,
            render: (v: string) => `v${v}`,
          },
          { title: t("inst.restarts"), dataIndex: "restarts", width: 90, sorter: (a, b) => a.restarts - b.restarts },
          { title: t("inst.age"), dataIndex: "age_seconds", width: 90, sorter: (a, b) => ageOf(a) - ageOf(b), render: (_: number, r) => age(ageOf(r)) },
          ...(path
            ? [
                {
                  title: t("inst.actions"),
                  key: "actions",
                  width: 220,
                  fixed: "right" as const,
                  render: (_: unknown, r: Instance) => (
                    <Space size={4}>
                      <Tooltip title={deploy?.allowed === false && deploy.reason ? t(deploy.reason.key, deploy.reason.vars) : undefined}>
                        <Button size="small" danger disabled={!deploy?.allowed || r.deleting} onClick={() => setRestarting(r.name)} data-testid={`restart-${r.name}`}>{t("inst.restart")}</Button>
                      </Tooltip>
                      <Button size="small" onClick={() => setOpen({ name: r.name, tab: "logs" })} data-testid={`logs-${r.name}`}>{t("inst.logs")}</Button>
                      <Button size="small" onClick={() => setOpen({ name: r.name, tab: "events" })} data-testid={`events-${r.name}`}>{t("inst.events")}</Button>
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      {path && (
        <>
          <Confirm
            open={!!restarting}
            action={`${t("inst.restart")} ${restarting ?? ""}`}
            text={t("inst.restartText", { name: restarting ?? "" })}
            changes={[{ field: t("inst.name"), old: restarting, new: t("inst.newInstance") }]}
            run={() => must(api.POST("/api/v1/systems/{system}/apps/{app}/groups/{group}/instances/{instance}/restart", { params: { path: { ...path, instance: restarting ?? "" } } }))}
            close={() => setRestarting(undefined)}
          />
          <InstanceDrawer path={path} instance={open?.name} tab={open?.tab ?? "logs"} setTab={(tab) => open && setOpen({ ...open, tab })} close={() => setOpen(undefined)} />
        </>
      )}
    </Space>
  );
}

function useNow(every: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(timer);
  }, [every]);
  return now;
}
