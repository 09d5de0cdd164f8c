import { useState } from "react";
import { Button, Card, Form, Input, InputNumber, Select, Space, Table, Tag } from "antd";
import { api, must, type Schemas } from "../api/client";
import type { ApiError } from "../api/errors";
import { FLAVOR_NAMES, flavorLabel } from "../format";
import { asApiError, useLoad, useMe } from "../hooks";
import { useT } from "../i18n";
import { can } from "../permissions";
import ErrorAlert from "../components/ErrorAlert";
import type { GroupPath, Snapshot, Version } from "../group/types";
import PreviewResult from "./PreviewResult";
import { previewBody, type Preview } from "./preview";

/** Where the group runs and where it would: its clusters and split, the placement preview for the
 * current or a proposed version, and the system's location grants (owners request, admins decide). */
export default function PlacementTab(props: { path: GroupPath; snap: Snapshot; versions: Version[] }) {
  const { t } = useT();
  const me = useMe();
  const { system } = props.path;
  const [form] = Form.useForm<{ version?: number; instances?: number; flavor?: string }>();
  const [preview, setPreview] = useState<Preview>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const g = props.snap.group;

  async function run(values: { version?: number; instances?: number; flavor?: string }) {
    setError(undefined);
    setBusy(true);
    try {
      setPreview(await must(api.POST("/api/v1/systems/{system}/apps/{app}/groups/{group}/preview", { params: { path: props.path }, body: previewBody(values, g.current_version) })));
    } catch (e) {
      const err = asApiError(e);
      const field = err.field?.replace(/^changes\./, "");
      if (field === "instances" || field === "flavor" || field === "version") form.setFields([{ name: field, errors: [err.message] }]);
      else setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Space orientation="vertical" style={{ width: "100%" }} data-testid="placement">
      <Card size="small" title={t("placement.where")}>
        <Table
          size="small"
          rowKey="cluster"
          pagination={false}
          dataSource={g.clusters?.length ? g.clusters : [{ cluster: g.cluster, instances: props.snap.group.status?.wanted ?? 0, version: g.current_version ?? null }]}
          columns={[
            { title: t("group.cluster"), dataIndex: "cluster" },
            { title: t("group.instances"), dataIndex: "instances" },
            { title: t("group.version"), dataIndex: "version", render: (v: number | null) => (v ? `v${v}` : "-") },
            {
              title: t("overview.state"),
              key: "state",
              render: (_: unknown, c: { cluster: string }) => {
                const s = props.snap.group.status?.clusters?.find((x) => x.cluster === c.cluster);
                return s ? <Tag>{`${s.state} · ${s.ready}/${s.wanted}`}</Tag> : null;
              },
            },
          ]}
        />
      </Card>
      <Card size="small" title={t("placement.preview")}>
        <Form form={form} layout="inline" name="preview" onFinish={run}>
          <Form.Item name="version" label={t("group.version")}>
            <Select allowClear style={{ width: 140 }} placeholder={g.current_version ? `v${g.current_version}` : t("placement.latest")} options={props.versions.map((v) => ({ value: v.number, label: `v${v.number}` }))} data-testid="preview-version" />
          </Form.Item>
          <Form.Item name="instances" label={t("group.instances")}>
            <InputNumber min={0} max={500} data-testid="preview-instances" />
          </Form.Item>
          <Form.Item name="flavor" label={t("deploy.flavor")}>
            <Select allowClear style={{ width: 200 }} options={FLAVOR_NAMES.map((f) => ({ value: f, label: flavorLabel(f) }))} />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={busy} data-testid="preview-run">{t("placement.run")}</Button>
        </Form>
        <ErrorAlert error={error} />
        {preview && <div style={{ marginTop: 12 }}><PreviewResult preview={preview} /></div>}
      </Card>
      <Grants system={system} owner={can(me, "manage", system).allowed} admin={!!me?.admin} />
    </Space>
  );
}

function Grants({ system, owner, admin }: { system: string; owner: boolean; admin: boolean }) {
  const { t } = useT();
  const grants = useLoad(() => must(api.GET("/api/v1/systems/{system}/locations", { params: { path: { system } } })), [system]);
  const [error, setError] = useState<ApiError>();
  const [form] = Form.useForm<{ idc?: string; region?: string; reason?: string }>();
  const act = (call: Promise<unknown>) => {
    setError(undefined);
    call.then(grants.reload, (e: unknown) => setError(asApiError(e)));
  };
  return (
    <Card size="small" title={t("placement.grants")}>
      <ErrorAlert error={error ?? grants.error} />
      {owner && (
        <Form
          form={form}
          layout="inline"
          name="grant"
          style={{ marginBottom: 12 }}
          onFinish={(v) => {
            const location = Object.fromEntries(Object.entries({ idc: v.idc, region: v.region }).filter(([, x]) => x));
            act(must(api.POST("/api/v1/systems/{system}/locations", { params: { path: { system } }, body: { location, reason: v.reason ?? "" } })));
          }}
        >
          <Form.Item name="idc" label="idc"><Input style={{ width: 120 }} /></Form.Item>
          <Form.Item name="region" label="region"><Input style={{ width: 120 }} /></Form.Item>
          <Form.Item name="reason" label={t("action.reason")}><Input style={{ width: 240 }} /></Form.Item>
          <Button htmlType="submit">{t("placement.request")}</Button>
        </Form>
      )}
      <Table<Schemas["GrantOut"]>
        size="small"
        rowKey="id"
        pagination={false}
        dataSource={grants.data ?? []}
        columns={[
          { title: "#", dataIndex: "id", width: 60 },
          { title: t("placement.location"), dataIndex: "location", render: (l: Record<string, unknown>) => Object.entries(l).map(([k, v]) => <Tag key={k}>{`${k}=${String(v)}`}</Tag>) },
          { title: t("overview.state"), dataIndex: "status", render: (s: string) => <Tag color={s === "approved" ? "green" : s === "revoked" ? "default" : "gold"}>{s}</Tag> },
          { title: t("action.reason"), dataIndex: "reason" },
          { title: t("build.by"), dataIndex: "requested_by" },
          {
            title: t("inst.actions"),
            key: "actions",
            render: (_: unknown, g) =>
              admin && (
                <Space size={4}>
                  {g.status === "requested" && <Button size="small" onClick={() => act(must(api.POST("/api/v1/systems/{system}/locations/{grant_id}/approve", { params: { path: { system, grant_id: g.id } } })))}>{t("placement.approve")}</Button>}
                  {g.status !== "revoked" && <Button size="small" danger onClick={() => act(must(api.POST("/api/v1/systems/{system}/locations/{grant_id}/revoke", { params: { path: { system, grant_id: g.id } } })))}>{t("placement.revoke")}</Button>}
                </Space>
              ),
          },
        ]}
      />
    </Card>
  );
}
