import { useCallback, useEffect, useState } from "react";
import { Button, Card, Empty, Form, Input, Popconfirm, Select, Space, Table, Tag, Tooltip, Typography } from "antd";
import { api, must } from "../api/client";
import type { ApiError } from "../api/errors";
import { age, when } from "../format";
import { asApiError, useLoad } from "../hooks";
import { useT, type Key } from "../i18n";
import type { Verdict } from "../permissions";
import ErrorAlert from "../components/ErrorAlert";
import Confirm from "../group/Confirm";
import type { GroupPath, Spec } from "../group/types";
import BuildLog from "./BuildLog";
import { anyRunning, buildField, ended, lastSource, startBody, type Build, type StartForm } from "./builds";

const STATUS: Record<string, string> = { succeeded: "green", failed: "red", cancelled: "default", queued: "gold" };
const POLL_MS = 2000;

/** The application's builds from the group page: start one (the source remembered), follow its log
 * live, cancel it, deploy or release a succeeded one to this group. The list refreshes by itself
 * while a build is queued or running. */
export default function BuildsTab(props: { path: GroupPath; deploy: Verdict; busy: boolean; latest?: Spec; onRelease: (build: string) => void }) {
  const { t } = useT();
  const { system, app } = props.path;
  const [form] = Form.useForm<StartForm>();
  const [following, setFollowing] = useState<string>();
  const [deploying, setDeploying] = useState<Build>();
  const [error, setError] = useState<ApiError>();
  const [starting, setStarting] = useState(false);
  const builds = useLoad(() => must(api.GET("/api/v1/systems/{system}/apps/{app}/builds", { params: { path: { system, app } } })), [system, app]);
  const list = builds.data ?? [];
  const remembered = lastSource(list);
  const { reload } = builds;
  const refresh = useCallback(() => reload(), [reload]);
  useEffect(() => {
    if (!builds.data || !anyRunning(builds.data)) return;
    const timer = setTimeout(refresh, POLL_MS);
    return () => clearTimeout(timer);
  }, [builds.data, refresh]);
  useEffect(() => {
    if (remembered && !form.getFieldValue("source")) form.setFieldValue("source", remembered);
  }, [remembered, form]);

  async function start(values: StartForm) {
    setError(undefined);
    setStarting(true);
    try {
      const made = await must(api.POST("/api/v1/systems/{system}/apps/{app}/builds", { params: { path: { system, app } }, body: startBody(values, remembered) }));
      setFollowing(made.id);
      refresh();
    } catch (e) {
      const err = asApiError(e);
      const field = buildField(err.field);
      if (field) form.setFields([{ name: field, errors: [err.message] }]);
      else setError(err);
    } finally {
      setStarting(false);
    }
  }
  const act = (call: Promise<unknown>) => {
    setError(undefined);
    call.then(refresh, (e: unknown) => setError(asApiError(e)));
  };
  const denied = props.deploy.allowed ? undefined : props.deploy.reason && t(props.deploy.reason.key, props.deploy.reason.vars);
  const deployBody = (b: Build) => (props.latest ? { changes: { build: b.id } } : { spec: { build: b.id, flavor: "small", instances: 1 } });

  return (
    <Space orientation="vertical" style={{ width: "100%" }} data-testid="builds">
      {props.deploy.allowed && (
        <Card size="small">
          <Form form={form} layout="inline" name="build" onFinish={start} initialValues={{ refKind: "branch", ref: "main", dockerfile: "Dockerfile" }}>
            <Form.Item name="source" label={t("build.source")} rules={[{ required: !remembered, message: t("common.required") }]} style={{ minWidth: 420 }}>
              <Input placeholder="file:///… https://… ssh://…" data-testid="build-source" />
            </Form.Item>
            <Form.Item name="refKind">
              <Select aria-label={t("build.refKindLabel")} style={{ width: 110 }} options={(["branch", "commit", "tag"] as const).map((k) => ({ value: k, label: t(`build.refKind.${k}` as Key) }))} data-testid="build-ref-kind" />
            </Form.Item>
            <Form.Item name="ref" label={t("build.ref")} rules={[{ required: true, message: t("common.required") }]}>
              <Input style={{ width: 200 }} data-testid="build-ref" />
            </Form.Item>
            <Form.Item name="dockerfile" label={t("build.dockerfile")}>
              <Input style={{ width: 160 }} />
            </Form.Item>
            <Button type="primary" htmlType="submit" loading={starting} data-testid="build-start">{t("build.start")}</Button>
          </Form>
        </Card>
      )}
      <ErrorAlert error={error ?? builds.error} />
      <Table<Build>
        data-testid="builds-table"
        size="small"
        rowKey="id"
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        dataSource={list}
        locale={{ emptyText: <Empty description={t("build.none")} /> }}
        scroll={{ x: 1200 }}
        columns={[
          { title: t("build.created"), dataIndex: "created_at", width: 170, render: (v: string | null) => when(v) },
          { title: t("build.status"), dataIndex: "status", width: 110, render: (s: string, b) => <Tag color={STATUS[s] ?? "blue"} title={b.reason} data-testid={`build-status-${b.id}`}>{s}</Tag> },
          { title: t("build.ref"), key: "ref", width: 150, render: (_: unknown, b) => `${b.ref_kind} ${b.ref}` },
          { title: t("build.commit"), dataIndex: "commit", width: 110, render: (c: string) => <Typography.Text code>{c.slice(0, 12)}</Typography.Text> },
          {
            title: t("build.image"),
            dataIndex: "image",
            render: (img: string, b) =>
              img ? <Typography.Text copyable={{ text: img }} ellipsis style={{ maxWidth: 360 }} data-testid={`build-image-${b.id}`}>{img}</Typography.Text> : <Typography.Text type="secondary">{b.reason}</Typography.Text>,
          },
          { title: t("build.by"), dataIndex: "created_by", width: 90 },
          { title: t("build.duration"), dataIndex: "duration_seconds", width: 80, render: (d: number | null, b) => (b.reused_from ? t("build.reused", { id: b.reused_from.slice(0, 8) }) : d == null ? "" : age(d)) },
          {
            title: t("inst.actions"),
            key: "actions",
            width: 260,
            fixed: "right",
            render: (_: unknown, b) => (
              <Space size={4}>
                <Button size="small" onClick={() => setFollowing(b.id)} data-testid={`build-log-${b.id}`}>{t("build.log")}</Button>
                {!ended(b) && (
                  <Popconfirm title={t("build.cancel")} okText={t("common.confirm")} cancelText={t("common.cancel")} onConfirm={() => act(must(api.POST("/api/v1/systems/{system}/apps/{app}/builds/{build_id}/cancel", { params: { path: { system, app, build_id: b.id } } })))}>
                    <Button size="small" danger disabled={!props.deploy.allowed}>{t("build.cancel")}</Button>
                  </Popconfirm>
                )}
                {b.status === "succeeded" && (
                  <Tooltip title={denied}>
                    <Button size="small" disabled={!props.deploy.allowed || props.busy} onClick={() => setDeploying(b)} data-testid={`build-deploy-${b.id}`}>{t("build.deploy")}</Button>
                    <Button size="small" disabled={!props.deploy.allowed || props.busy || !props.latest} onClick={() => props.onRelease(b.id)} data-testid={`build-release-${b.id}`}>{t("build.release")}</Button>
                  </Tooltip>
                )}
              </Space>
            ),
          },
        ]}
      />
      <BuildLog system={system} app={app} id={following} close={() => setFollowing(undefined)} ended={refresh} />
      <Confirm
        open={!!deploying}
        action={t("build.deploy")}
        text={deploying && t("build.deployText", { id: deploying.id.slice(0, 8), image: deploying.image })}
        changes={deploying ? [{ field: "image", old: props.latest?.image ?? null, new: deploying.image }] : []}
        run={() => must(api.POST("/api/v1/systems/{system}/apps/{app}/groups/{group}/deploy", { params: { path: props.path }, body: deploying ? deployBody(deploying) : {} }))}
        close={() => setDeploying(undefined)}
      />
    </Space>
  );
}
