import { useEffect, useState } from "react";
import { Alert, Button, Card, Descriptions, Space, Typography } from "antd";
import { api, must, type Schemas } from "../api/client";
import { asApiError, useMe } from "../hooks";
import type { ApiError } from "../api/errors";
import { useT } from "../i18n";
import { when } from "../format";
import ErrorAlert from "../components/ErrorAlert";
import { ChangesTable, FindingsTable, ResultTag, RunsTable } from "../inspection/tables";

type Run = Schemas["RunOut"];
type Schedule = Schemas["ScheduleOut"];

/** Inspection runs and their reports, the schedule, and a run on demand (platform admins). */
export default function Inspections() {
  const { t } = useT();
  const me = useMe();
  const [runs, setRuns] = useState<Run[]>([]);
  const [shown, setShown] = useState<Run>();
  const [schedule, setSchedule] = useState<Schedule>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();

  async function load() {
    setError(undefined);
    try {
      setRuns(await must(api.GET("/api/v1/inspections", { params: { query: { limit: 50 } } })));
      setSchedule(await must(api.GET("/api/v1/inspections/schedule")));
    } catch (e) {
      setError(asApiError(e));
    }
  }
  async function open(id: number) {
    try {
      setShown(await must(api.GET("/api/v1/inspections/{run_id}", { params: { path: { run_id: id } } })));
    } catch (e) {
      setError(asApiError(e));
    }
  }
  async function runNow() {
    setBusy(true);
    setError(undefined);
    try {
      const made = await must(api.POST("/api/v1/inspections", { body: { clusters: [] } }));
      setShown(made);
      await load();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }
  useEffect(() => {
    if (me?.admin) void load();
  }, [me?.admin]);

  if (me && !me.admin) return <Alert type="info" message={t("inspection.forbidden")} />;
  return (
    <Space direction="vertical" style={{ width: "100%" }}>
      <Card
        title={t("inspection.title")}
        extra={<Button type="primary" loading={busy} onClick={runNow} data-testid="inspection-run">{t("inspection.run")}</Button>}
      >
        <ErrorAlert error={error} />
        {schedule && (
          <Typography.Paragraph data-testid="inspection-schedule">
            {t("inspection.schedule", { cron: schedule.cron, zone: schedule.timezone, next: schedule.next_at ? when(schedule.next_at) : "-" })}
          </Typography.Paragraph>
        )}
        <RunsTable runs={runs} open={open} />
      </Card>
      {shown && (
        <Card title={t("inspection.report", { id: shown.id })} extra={<ResultTag result={shown.result} />}>
          <Descriptions size="small" column={3} items={[
            { key: "by", label: t("inspection.by"), children: `${shown.requested_by} (${shown.trigger})` },
            { key: "at", label: t("inspection.started"), children: when(shown.started_at) },
            { key: "status", label: t("inspection.status"), children: shown.error ? `${shown.status}: ${shown.error}` : shown.status },
          ]} />
          <FindingsTable findings={shown.findings ?? []} />
          <Typography.Title level={5} style={{ marginTop: 16 }}>{t("inspection.changes", { id: shown.previous_id ?? "-" })}</Typography.Title>
          <ChangesTable changes={shown.changes ?? []} />
        </Card>
      )}
    </Space>
  );
}
