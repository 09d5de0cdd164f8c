import { useEffect, useRef, useState } from "react";
import { Badge, Drawer, Tag, Typography } from "antd";
import { subscribe } from "../api/events";
import { useT } from "../i18n";
import { onLogEvent, type LogState } from "./builds";

/** A build's log, live: the server-sent events of …/builds/{id}/logs?follow=true until its `end`. A
 * reconnect replays the log from the start, so the lines are reset on each connect. */
export default function BuildLog(props: { system: string; app: string; id?: string; close: () => void; ended: () => void }) {
  const { t } = useT();
  const [state, setState] = useState<LogState>({ lines: [] });
  const [connected, setConnected] = useState(false);
  const bottom = useRef<HTMLDivElement>(null);
  const { system, app, id, ended } = props;
  useEffect(() => {
    if (!id) return;
    setState({ lines: [] });
    const url = `/api/v1/systems/${encodeURIComponent(system)}/apps/${encodeURIComponent(app)}/builds/${encodeURIComponent(id)}/logs?follow=true`;
    const sub = subscribe(
      url,
      (e) => {
        setState((s) => onLogEvent(s, e));
        if (e.event === "end") {
          sub.close();
          setConnected(false);
          ended();
        }
      },
      (up) => {
        if (up) setState({ lines: [] });
        setConnected(up);
      },
    );
    return () => sub.close();
  }, [system, app, id, ended]);
  // A block body: Chromium's scrollIntoView returns a promise, and an effect's return value is its
  // cleanup — React would call the promise on the next line and the whole console would go blank.
  useEffect(() => {
    void bottom.current?.scrollIntoView?.({ block: "end" });
  }, [state.lines.length]);
  return (
    <Drawer
      open={!!id}
      onClose={props.close}
      size="large"
      destroyOnHidden
      title={
        <span>
          {t("build.logTitle", { id: (id ?? "").slice(0, 8) })}{" "}
          {state.end ? <Tag color={state.end.status === "succeeded" ? "green" : "red"} data-testid="build-log-end">{state.end.status}</Tag> : <Badge status={connected ? "processing" : "default"} text={connected ? t("common.live") : t("common.reconnecting")} />}
        </span>
      }
    >
      {state.end?.reason && <Typography.Paragraph type="danger">{state.end.reason}</Typography.Paragraph>}
      <pre data-testid="build-log" style={{ fontSize: 12, whiteSpace: "pre-wrap" }}>{state.lines.join("\n")}</pre>
      <div ref={bottom} />
    </Drawer>
  );
}
