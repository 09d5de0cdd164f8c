import { useEffect, useState } from "react";
import { Button, Input, Space, Tabs, Typography } from "antd";
import { api, must } from "../api/client";
import { specDiff } from "../format";
import { useT } from "../i18n";
import type { Verdict } from "../permissions";
import Confirm from "./Confirm";
import type { GroupPath, Spec } from "./types";

/** Edit the latest version's config files; saving makes a new version through a deploy with changes. */
export default function ConfigTab(props: { path: GroupPath; latest?: Spec; deploy: Verdict; busy: boolean }) {
  const { t } = useT();
  const original = props.latest?.config_files ?? {};
  const [files, setFiles] = useState<Record<string, string>>(original);
  const [newPath, setNewPath] = useState("");
  const [confirming, setConfirming] = useState(false);
  useEffect(() => setFiles(props.latest?.config_files ?? {}), [props.latest]);
  const changes = specDiff({ config_files: original }, { config_files: files });
  const readOnly = !props.deploy.allowed;
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      {!props.latest && <Typography.Text type="secondary">{t("group.notDeployed")}</Typography.Text>}
      <Tabs
        type="card"
        items={Object.entries(files).map(([path, body]) => ({
          key: path,
          label: path,
          children: (
            <Input.TextArea
              data-testid={`config-${path}`}
              value={body}
              readOnly={readOnly}
              autoSize={{ minRows: 6, maxRows: 30 }}
              style={{ fontFamily: "monospace" }}
              onChange={(e) => setFiles({ ...files, [path]: e.target.value })}
            />
          ),
        }))}
      />
      {!readOnly && props.latest && (
        <Space>
          <Input placeholder={t("config.path")} value={newPath} onChange={(e) => setNewPath(e.target.value)} data-testid="config-new-path" />
          <Button disabled={!newPath || newPath in files} onClick={() => (setFiles({ ...files, [newPath]: "" }), setNewPath(""))}>{t("config.add")}</Button>
          <Button type="primary" disabled={!changes.length || props.busy} onClick={() => setConfirming(true)} data-testid="config-save">{t("config.save")}</Button>
        </Space>
      )}
      <Confirm
        open={confirming}
        action={t("config.save")}
        changes={changes}
        run={() => must(api.POST("/api/v1/systems/{system}/apps/{app}/groups/{group}/deploy", { params: { path: props.path }, body: { changes: { config_files: files }, reason: "config files edited in the console" } }))}
        close={() => setConfirming(false)}
      />
    </Space>
  );
}
