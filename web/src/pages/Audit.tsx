import { useState } from "react";
import { Button, Card, Form, Input, Select, Table, Tag } from "antd";
import { api, must, type Schemas } from "../api/client";
import { asApiError, useMe } from "../hooks";
import type { ApiError } from "../api/errors";
import { useT } from "../i18n";
import { when } from "../format";
import ErrorAlert from "../components/ErrorAlert";

type Entry = Schemas["AuditEntryOut"];
interface Filters {
  system?: string;
  user?: string;
  action?: string;
  outcome?: string;
}

/** The audit trail, filtered and paged on the server (admins; system owners filter by their system). */
export default function Audit() {
  const { t } = useT();
  const me = useMe();
  const owned = Object.entries(me?.roles ?? {}).filter(([, r]) => r === "owner").map(([s]) => s);
  const [items, setItems] = useState<Entry[]>([]);
  const [cursor, setCursor] = useState<number | null>(null);
  const [error, setError] = useState<ApiError>();
  const [filters, setFilters] = useState<Filters>({});
  async function load(f: Filters, from: number | null) {
    setError(undefined);
    try {
      const query = { ...Object.fromEntries(Object.entries(f).filter(([, v]) => v)), limit: 100, ...(from ? { cursor: from } : {}) };
      const page = await must(api.GET("/api/v1/audit", { params: { query } }));
      setItems((old) => (from ? [...old, ...page.items] : page.items));
      setCursor(page.next_cursor ?? null);
    } catch (e) {
      setError(asApiError(e));
    }
  }
  return (
    <Card title={t("audit.title")}>
      <Form layout="inline" initialValues={{ system: me?.admin ? undefined : owned[0] }} onFinish={(f: Filters) => (setFilters(f), load(f, null))} style={{ marginBottom: 12 }}>
        <Form.Item name="system" label={t("audit.system")}>
          {me?.admin ? <Input allowClear /> : <Select style={{ width: 160 }} options={owned.map((s) => ({ value: s, label: s }))} />}
        </Form.Item>
        <Form.Item name="user" label={t("audit.actor")}>
          <Input allowClear />
        </Form.Item>
        <Form.Item name="action" label={t("audit.action")}>
          <Input allowClear />
        </Form.Item>
        <Form.Item name="outcome" label={t("audit.outcome")}>
          <Select allowClear style={{ width: 120 }} options={["allowed", "denied", "error"].map((o) => ({ value: o, label: o }))} />
        </Form.Item>
        <Button type="primary" htmlType="submit" data-testid="audit-search">{t("common.search")}</Button>
      </Form>
      <ErrorAlert error={error} />
      <Table
        rowKey="seq"
        size="small"
        pagination={false}
        dataSource={items}
        columns={[
          { title: "#", dataIndex: "seq" },
          { title: t("audit.at"), dataIndex: "at", render: (v: string) => when(v) },
          { title: t("audit.actor"), dataIndex: "actor" },
          { title: t("audit.action"), dataIndex: "action" },
          { title: t("audit.target"), dataIndex: "target", render: (v: Record<string, string>) => Object.values(v).join("/") },
          { title: t("audit.outcome"), dataIndex: "outcome", render: (o: string, e) => <Tag color={o === "allowed" ? "green" : o === "denied" ? "red" : "orange"}>{`${o} ${e.status}`}</Tag> },
        ]}
      />
      {cursor && <Button style={{ marginTop: 12 }} onClick={() => load(filters, cursor)}>{t("audit.more")}</Button>}
    </Card>
  );
}
