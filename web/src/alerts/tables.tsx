import { Button, Table, Tag } from "antd";
import type { Schemas } from "../api/client";
import { useT } from "../i18n";
import { when } from "../format";

type Alert = Schemas["AlertOut"];
type Silence = Schemas["SilenceOut"];

/** Alert episodes with who was told what; ``firingOnly`` keeps those firing now. */
export function AlertsTable({ alerts, loading, firingOnly, testid }: { alerts: Alert[]; loading?: boolean; firingOnly?: boolean; testid: string }) {
  const { t } = useT();
  return (
    <Table
      data-testid={testid}
      rowKey="id"
      size="small"
      loading={loading}
      dataSource={firingOnly ? alerts.filter((a) => a.status === "firing") : alerts}
      columns={[
        { title: t("alerts.alert"), dataIndex: "name" },
        { title: t("alerts.status"), dataIndex: "status", render: (s: string) => <Tag color={s === "firing" ? "red" : "green"}>{s}</Tag> },
        { title: "app / group", render: (_: unknown, a: Alert) => `${a.app} / ${a.group}` },
        { title: "", render: (_: unknown, a: Alert) => a.annotations.summary ?? "" },
        { title: t("alerts.started"), dataIndex: "starts_at", render: (v: string) => when(v) },
        { title: t("alerts.ended"), dataIndex: "ends_at", render: (v: string | null) => (v ? when(v) : "") },
        { title: t("alerts.told"), dataIndex: "told", render: (told: Alert["told"]) => told.map((d) => <Tag key={d.id}>{`${d.channel} ${d.kind} ${d.state}`}</Tag>) },
      ]}
    />
  );
}

/** Silences; who may silence (``expire`` given) can end one not yet expired. */
export function SilencesTable({ silences, loading, expire }: { silences: Silence[]; loading?: boolean; expire?: (id: string) => void }) {
  const { t } = useT();
  return (
    <Table
      data-testid="alert-silences"
      rowKey="id"
      size="small"
      loading={loading}
      dataSource={silences}
      columns={[
        { title: t("alerts.matchers"), dataIndex: "matchers", render: (m: Silence["matchers"]) => m.map((x) => `${String(x.name)}${x.equal ? "=" : "!="}${String(x.value)}`).join(", ") },
        { title: t("alerts.ends"), dataIndex: "ends_at", render: (v: string) => when(v) },
        { title: t("alerts.owner"), dataIndex: "owner" },
        { title: t("alerts.reason"), dataIndex: "reason" },
        { title: t("alerts.state"), dataIndex: "state" },
        { title: "", render: (_: unknown, s: Silence) => expire && s.state !== "expired" && <Button size="small" onClick={() => expire(s.id)}>{t("alerts.expire")}</Button> },
      ]}
    />
  );
}
