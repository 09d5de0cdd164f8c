import { Button, Descriptions, Empty, Popconfirm, Space, Steps, Tag } from "antd";
import { api, must, type Schemas } from "../api/client";
import { useT } from "../i18n";
import type { Verdict } from "../permissions";
import type { GroupPath } from "./types";

type Release = Schemas["ReleaseOut"];
const ENDED = ["succeeded", "aborted", "failed"];

/** The latest release, live: its steps, instances per version, and promote / pause / resume / abort. */
export default function Releases({ path, release, deploy }: { path: GroupPath; release?: Release | null; deploy: Verdict }) {
  const { t } = useT();
  if (!release) return <Empty description={t("release.none")} />;
  const p = { params: { path: { ...path, release_id: release.id } } };
  const base = "/api/v1/systems/{system}/apps/{app}/groups/{group}/releases/{release_id}" as const;
  const running = !ENDED.includes(release.status);
  return (
    <Space orientation="vertical" style={{ width: "100%" }} data-testid="release">
      <Descriptions size="small" column={3}>
        <Descriptions.Item label={t("release.strategy")}>{release.strategy}</Descriptions.Item>
        <Descriptions.Item label={t("release.status")}><Tag>{release.status}</Tag></Descriptions.Item>
        <Descriptions.Item label={t("release.versions")}>
          {release.stable_version ? `v${release.stable_version}: ${release.stable_instances} · ` : ""}v{release.new_version}: {release.new_instances} / {release.total}
        </Descriptions.Item>
      </Descriptions>
      <Steps size="small" current={release.step} status={release.status === "failed" || release.status === "aborted" ? "error" : undefined} items={release.steps.map((s) => ({ title: s }))} />
      {deploy.allowed && running && (
        <Space>
          <Button onClick={() => must(api.POST(`${base}/promote`, { ...p, body: { full: false } }))}>{t("release.promote")}</Button>
          {release.paused ? (
            <Button onClick={() => must(api.POST(`${base}/resume`, p))}>{t("release.resume")}</Button>
          ) : (
            <Button onClick={() => must(api.POST(`${base}/pause`, p))}>{t("release.pause")}</Button>
          )}
          <Popconfirm title={t("release.abort")} okText={t("common.confirm")} cancelText={t("common.cancel")} onConfirm={() => must(api.POST(`${base}/abort`, p))}>
            <Button danger>{t("release.abort")}</Button>
          </Popconfirm>
        </Space>
      )}
    </Space>
  );
}
