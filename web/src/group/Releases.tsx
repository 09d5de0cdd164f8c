import { useState } from "react";
import { Button, Descriptions, Empty, Popconfirm, Space, Steps, Table, Tag } from "antd";
import { when } from "../format";
import { api, must, type Schemas } from "../api/client";
import type { ApiError } from "../api/errors";
import { asApiError } from "../hooks";
import ErrorAlert from "../components/ErrorAlert";
import { useT } from "../i18n";
import type { Verdict } from "../permissions";
import type { GroupPath } from "./types";

type Release = Schemas["ReleaseOut"];
const ENDED = ["succeeded", "aborted", "failed"];

/** The latest release, live: its steps, instances per version, and promote / pause / resume / abort. */
export default function Releases({ path, release, deploy }: { path: GroupPath; release?: Release | null; deploy: Verdict }) {
  const { t } = useT();
  const [error, setError] = useState<ApiError>();
  if (!release) return <Empty description={t("release.none")} />;
  const run = (call: Promise<unknown>) => {
    setError(undefined);
    call.catch((e: unknown) => setError(asApiError(e)));
  };
  const p = { params: { path: { ...path, release_id: release.id } } };
  const base = "/api/v1/systems/{system}/apps/{app}/groups/{group}/releases/{release_id}" as const;
  const running = !ENDED.includes(release.status);
  return (
    <Space orientation="vertical" style={{ width: "100%" }} data-testid="release">
      <ErrorAlert error={error} />
      <Descriptions size="small" column={4}>
        <Descriptions.Item label={t("release.strategy")}>{release.strategy}</Descriptions.Item>
        <Descriptions.Item label={t("release.status")}><Tag>{release.status}</Tag></Descriptions.Item>
        <Descriptions.Item label={t("release.versions")}>
          {release.stable_version ? `v${release.stable_version}: ${release.stable_instances} · ` : ""}v{release.new_version}: {release.new_instances} / {release.total}
        </Descriptions.Item>
        <Descriptions.Item label={t("release.share")}>
          <span data-testid="edge-share">{release.edge_share == null ? t("release.byCounts") : `v${release.new_version}: ${release.edge_share}%`}</span>
        </Descriptions.Item>
      </Descriptions>
      <Steps size="small" current={release.step} status={release.status === "failed" || release.status === "aborted" ? "error" : undefined} items={release.steps.map((s) => ({ title: s }))} />
      <Table
        size="small"
        rowKey={(e: { at: string; event: string }) => `${e.at} ${e.event}`}
        pagination={false}
        dataSource={release.ledger as { at: string; event: string; step?: string; new?: number; stable?: number; error?: string }[]}
        columns={[
          { title: t("op.started"), dataIndex: "at", render: (v: string) => when(v) },
          { title: t("op.action"), dataIndex: "event" },
          { title: t("release.step"), dataIndex: "step" },
          { title: `v${release.new_version}`, dataIndex: "new" },
          ...(release.stable_version ? [{ title: `v${release.stable_version}`, dataIndex: "stable" }] : []),
          { title: t("op.error"), dataIndex: "error" },
        ]}
      />
      {deploy.allowed && running && (
        <Space>
          <Button onClick={() => run(must(api.POST(`${base}/promote`, { ...p, body: { full: false } })))}>{t("release.promote")}</Button>
          {release.paused ? (
            <Button onClick={() => run(must(api.POST(`${base}/resume`, p)))}>{t("release.resume")}</Button>
          ) : (
            <Button onClick={() => run(must(api.POST(`${base}/pause`, p)))}>{t("release.pause")}</Button>
          )}
          <Popconfirm title={t("release.abort")} okText={t("common.confirm")} cancelText={t("common.cancel")} onConfirm={() => run(must(api.POST(`${base}/abort`, p)))}>
            <Button danger>{t("release.abort")}</Button>
          </Popconfirm>
        </Space>
      )}
    </Space>
  );
}
