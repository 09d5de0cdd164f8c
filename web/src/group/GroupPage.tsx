import { useEffect, useMemo, useState } from "react";
import { Alert, Badge, Button, Card, Col, Descriptions, Progress, Row, Space, Tabs, Tag, Typography } from "antd";
import { useParams } from "react-router-dom";
import { api, must } from "../api/client";
import { subscribe } from "../api/events";
import type { ApiError } from "../api/errors";
import { toApiError } from "../api/errors";
import { useLoad, useMe } from "../hooks";
import { useT, type Key } from "../i18n";
import { can } from "../permissions";
import ErrorAlert from "../components/ErrorAlert";
import OperationsTable from "../components/OperationsTable";
import BuildsTab from "../builds/BuildsTab";
import PlacementTab from "../placement/PlacementTab";
import StartRelease from "../release/StartRelease";
import Actions from "./Actions";
import AutoscaleTab from "./AutoscaleTab";
import ConfigTab from "./ConfigTab";
import InstancesTable from "./InstancesTable";
import MetricsTab from "./MetricsTab";
import PerformanceTab from "./PerformanceTab";
import Releases from "./Releases";
import VersionCard from "./VersionCard";
import VersionHistory from "./VersionHistory";
import type { GroupPath, Snapshot, Spec } from "./types";

const STATE_COLOR: Record<string, string> = { healthy: "green", progressing: "blue", degraded: "red", drifted: "orange", unknown: "default", "not-deployed": "default" };

/** The group page: live state (server-sent events), the current version, actions, and the tabs. */
export default function GroupPage() {
  const { t } = useT();
  const { system, app, group } = useParams() as unknown as GroupPath;
  const path = useMemo(() => ({ system, app, group }), [system, app, group]);
  const me = useMe();
  const [snap, setSnap] = useState<Snapshot>();
  const [connected, setConnected] = useState(false);
  const [streamError, setStreamError] = useState<ApiError>();
  const [tab, setTab] = useState("instances");
  const [releasing, setReleasing] = useState<{ build?: string }>();
  useEffect(() => {
    setSnap(undefined);
    const url = `/api/v1/systems/${encodeURIComponent(system)}/apps/${encodeURIComponent(app)}/groups/${encodeURIComponent(group)}/events`;
    const sub = subscribe(
      url,
      (e) => {
        if (e.event === "snapshot") {
          setSnap(JSON.parse(e.data) as Snapshot);
          setStreamError(undefined);
        } else {
          let body: unknown = {};
          try {
            body = JSON.parse(e.data);
          } catch {
            body = { message: e.data };
          }
          setStreamError(toApiError(0, body));
        }
      },
      setConnected,
    );
    return () => sub.close();
  }, [system, app, group]);
  const latestNumber = snap?.group.latest_version ?? 0;
  const versions = useLoad(
    () => (latestNumber ? must(api.GET("/api/v1/systems/{system}/apps/{app}/groups/{group}/versions", { params: { path } })) : Promise.resolve([])),
    [path, latestNumber],
  );
  if (!snap) return streamError ? <ErrorAlert error={streamError} /> : <Card loading />;

  const g = snap.group;
  const st = g.status!;
  const list = [...(versions.data ?? [])].sort((a, b) => b.number - a.number);
  const current = list.find((v) => v.number === g.current_version);
  const latest = list.find((v) => v.number === g.latest_version)?.spec as Spec | undefined;
  const deploy = can(me, "deploy", system, app);
  const active = snap.operations.find((o) => o.id === st.operation);
  const last = snap.operations[0];
  return (
    <Space orientation="vertical" size="middle" style={{ width: "100%" }}>
      <Card
        title={
          <Space>
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="group-title">{`${system}/${app}/${group}`}</Typography.Title>
            <Tag color={STATE_COLOR[st.state]} data-testid="group-state">{t(`state.${st.state}` as Key)}</Tag>
            <Badge status={connected ? "processing" : "default"} text={connected ? t("common.live") : t("common.reconnecting")} data-testid="live" />
          </Space>
        }
        extra={
          <Space>
            <Actions path={path} snap={snap} latest={latest} deploy={deploy} />
            {deploy.allowed && (
              <Button disabled={!!st.operation || !latest} onClick={() => setReleasing({})} data-testid="release-start">{t("release.start")}</Button>
            )}
          </Space>
        }
      >
        <ErrorAlert error={streamError} />
        {st.stale && <Alert type="warning" showIcon title={t("common.stale")} style={{ marginBottom: 12 }} />}
        <Descriptions size="small" column={4}>
          <Descriptions.Item label={t("group.environment")}>{g.environment}</Descriptions.Item>
          <Descriptions.Item label={t("group.cluster")}>{g.cluster}</Descriptions.Item>
          <Descriptions.Item label={t("group.dnsName")}>
            <Typography.Text copyable data-testid="dns-name">{g.dns_name}</Typography.Text>
          </Descriptions.Item>
          <Descriptions.Item label={t("group.status")}>{`${st.ready}/${st.wanted}`}</Descriptions.Item>
          <Descriptions.Item label={t("op.status")}>
            {last ? <span data-testid="last-operation">{`${last.action} · ${last.status}`}</span> : t("common.none")}
          </Descriptions.Item>
        </Descriptions>
        {active && (
          <div data-testid="progress">
            <Typography.Text>{`${active.action} · ${active.status} · ${t("action.progress", { ready: st.ready, wanted: st.wanted })}`}</Typography.Text>
            <Progress percent={st.wanted ? Math.round((100 * Math.min(st.ready, st.wanted)) / st.wanted) : 100} status="active" aria-label={t("action.progress", { ready: st.ready, wanted: st.wanted })} />
          </div>
        )}
        {!!st.drift?.length && <Alert type="warning" showIcon title={t("group.drift")} description={st.drift.map((d) => `${d.field}: ${JSON.stringify(d.expected)} → ${JSON.stringify(d.live)}`).join("; ")} />}
      </Card>
      <Row gutter={16}>
        <Col span={24}>
          <ErrorAlert error={versions.error} />
          <VersionCard version={current} latest={g.latest_version} ready={`${st.ready}/${st.wanted}`} />
        </Col>
      </Row>
      <Card>
        <Tabs
          activeKey={tab}
          onChange={setTab}
          items={[
            { key: "instances", label: <span data-testid="tab-instances">{`${t("tab.instances")} (${snap.instances.items.length})`}</span>, children: <InstancesTable items={snap.instances.items} path={path} deploy={deploy} /> },
            { key: "versions", label: <span data-testid="tab-versions">{t("tab.versions")}</span>, children: <VersionHistory path={path} versions={list} current={g.current_version ?? null} deploy={deploy} busy={!!st.operation} /> },
            { key: "operations", label: <span data-testid="tab-operations">{t("tab.operations")}</span>, children: <OperationsTable items={snap.operations} /> },
            { key: "config", label: <span data-testid="tab-config">{t("tab.config")}</span>, children: <ConfigTab path={path} latest={latest} deploy={deploy} busy={!!st.operation} /> },
            { key: "releases", label: <span data-testid="tab-releases">{t("tab.releases")}</span>, children: <Releases path={path} release={snap.release} deploy={deploy} /> },
            { key: "metrics", label: <span data-testid="tab-metrics">{t("tab.metrics")}</span>, children: <MetricsTab path={path} /> },
            { key: "performance", label: <span data-testid="tab-performance">{t("tab.performance")}</span>, children: <PerformanceTab path={path} /> },
            { key: "autoscale", label: <span data-testid="tab-autoscale">{t("tab.autoscale")}</span>, children: <AutoscaleTab path={path} /> },
            {
              key: "builds",
              label: <span data-testid="tab-builds">{t("tab.builds")}</span>,
              children: <BuildsTab path={path} deploy={deploy} busy={!!st.operation} latest={latest} onRelease={(build) => setReleasing({ build })} />,
            },
            // Slots for the capabilities other issues are building: each gets its own component here.
            { key: "placement", label: <span data-testid="tab-placement">{t("tab.placement")}</span>, children: <PlacementTab path={path} snap={snap} versions={list} /> },
          ]}
        />
      </Card>
      <StartRelease
        open={!!releasing}
        path={path}
        latest={latest}
        versions={list}
        current={g.current_version}
        build={releasing?.build}
        close={(started) => {
          setReleasing(undefined);
          if (started) setTab("releases");
        }}
      />
    </Space>
  );
}
