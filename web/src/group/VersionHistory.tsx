import { useState } from "react";
import { Button, Space, Table, Tag, Tooltip, Typography } from "antd";
import { api, must } from "../api/client";
import type { Change } from "../format";
import { when } from "../format";
import { useT } from "../i18n";
import type { Verdict } from "../permissions";
import ErrorAlert from "../components/ErrorAlert";
import { asApiError } from "../hooks";
import type { ApiError } from "../api/errors";
import DiffTable, { fromApi } from "./DiffTable";
import Confirm from "./Confirm";
import type { GroupPath, Version } from "./types";

/** Versions newest first; pick two to see their diff; roll back to one after seeing what changes. */
export default function VersionHistory(props: { path: GroupPath; versions: Version[]; current: number | null; deploy: Verdict; busy: boolean }) {
  const { t } = useT();
  const [picked, setPicked] = useState<number[]>([]);
  const [diff, setDiff] = useState<Change[]>();
  const [error, setError] = useState<ApiError>();
  const [target, setTarget] = useState<{ number: number; changes: Change[] }>();
  const params = (old: number, neu: number) => ({ params: { path: props.path, query: { old, new: neu } } });
  const getDiff = async (old: number, neu: number) =>
    fromApi(await must(api.GET("/api/v1/systems/{system}/apps/{app}/groups/{group}/diff", params(old, neu))));

  async function compare() {
    const [a, b] = [...picked].sort((x, y) => x - y);
    setError(undefined);
    try {
      setDiff(await getDiff(a, b));
    } catch (e) {
      setError(asApiError(e));
    }
  }
  async function askRollback(number: number) {
    setError(undefined);
    try {
      setTarget({ number, changes: props.current ? await getDiff(props.current, number) : [] });
    } catch (e) {
      setError(asApiError(e));
    }
  }
  const sorted = [...picked].sort((x, y) => x - y);
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Space>
        <Button disabled={picked.length !== 2} onClick={compare} data-testid="compare">
          {picked.length === 2 ? t("version.compare", { old: `v${sorted[0]}`, new: `v${sorted[1]}` }) : t("version.pickTwo")}
        </Button>
      </Space>
      <ErrorAlert error={error} />
      {diff && (
        <div data-testid="version-diff">
          <Typography.Title level={5}>{t("version.compare", { old: `v${sorted[0]}`, new: `v${sorted[1]}` })}</Typography.Title>
          <DiffTable changes={diff} />
        </div>
      )}
      <Table
        data-testid="versions"
        rowKey="number"
        size="small"
        dataSource={props.versions}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        rowSelection={{
          selectedRowKeys: picked,
          onChange: (keys) => setPicked((keys as number[]).slice(-2)),
          getCheckboxProps: (r) => ({ "data-testid": `pick-v${r.number}` }) as object,
        }}
        columns={[
          { title: t("version.number"), dataIndex: "number", render: (n: number) => <span>v{n} {n === props.current && <Tag color="green">{t("version.running")}</Tag>}</span> },
          { title: t("version.createdBy"), dataIndex: "created_by" },
          { title: t("version.createdAt"), dataIndex: "created_at", render: (v: string) => when(v) },
          { title: t("version.reason"), dataIndex: "reason" },
          {
            key: "rollback",
            render: (_, r) =>
              props.deploy.allowed && r.number !== props.current ? (
                <Tooltip title={props.busy ? t("state.progressing") : undefined}>
                  <Button size="small" disabled={props.busy} onClick={() => askRollback(r.number)} data-testid={`rollback-v${r.number}`}>
                    {t("action.rollback")}
                  </Button>
                </Tooltip>
              ) : null,
          },
        ]}
      />
      <Confirm
        open={!!target}
        action={`${t("action.rollback")} → v${target?.number}`}
        changes={target?.changes ?? []}
        run={() => must(api.POST("/api/v1/systems/{system}/apps/{app}/groups/{group}/rollback", { params: { path: props.path }, body: { version: target!.number } }))}
        close={() => setTarget(undefined)}
      />
    </Space>
  );
}
