import { useEffect, useMemo, useState } from "react";
import { Alert, Button, Form, Input, InputNumber, Modal, Radio, Select, Space, Table, Typography } from "antd";
import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { api, must } from "../api/client";
import { formField, type ApiError } from "../api/errors";
import { asApiError, useLoad } from "../hooks";
import { useT, type Key } from "../i18n";
import ErrorAlert from "../components/ErrorAlert";
import type { GroupPath, Spec, Version } from "../group/types";
import { parseSteps, plan, problems, stepIndex, stepText, type StepKind, type StepRow } from "./steps";

type What = "build" | "version" | "image";
type Strategy = "gray" | "rolling" | "blue-green";
const KINDS: StepKind[] = ["gray", "percent", "weight", "pause", "pauseFor"];
const DEFAULT_STEPS = ["gray 1", "pause", "100%"];

/** Start a release: what (a build, a version, an image), the strategy, and for gray releases the
 * steps, edited row by row with the instances of each version every step would run shown before the
 * release starts. The server's field errors go under the row or the field they name. */
export default function StartRelease(props: {
  open: boolean;
  path: GroupPath;
  latest?: Spec;
  versions: Version[];
  current?: number | null;
  build?: string;
  close: (started: boolean) => void;
}) {
  const { t } = useT();
  const [what, setWhat] = useState<What>(props.build ? "build" : "build");
  const [build, setBuild] = useState<string | undefined>(props.build);
  const [version, setVersion] = useState<number>();
  const [image, setImage] = useState("");
  const [strategy, setStrategy] = useState<Strategy>("gray");
  const [steps, setSteps] = useState<StepRow[]>(() => parseSteps(DEFAULT_STEPS));
  const [rowErrors, setRowErrors] = useState<Record<number, string>>({});
  const [fieldError, setFieldError] = useState<{ field: string; message: string }>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const { system, app } = props.path;
  const builds = useLoad(
    () => (props.open ? must(api.GET("/api/v1/systems/{system}/apps/{app}/builds", { params: { path: { system, app } } })) : Promise.resolve([])),
    [system, app, props.open],
  );
  useEffect(() => {
    if (props.open) {
      setBuild(props.build);
      setWhat("build");
      setError(undefined);
      setRowErrors({});
      setFieldError(undefined);
    }
  }, [props.open, props.build]);
  const total = props.latest?.instances ?? 0;
  const preview = useMemo(() => plan(steps, total), [steps, total]);
  const local = strategy === "gray" ? problems(steps) : [];
  const succeeded = (builds.data ?? []).filter((b) => b.status === "succeeded");

  const change = (i: number, row: StepRow) => setSteps(steps.map((s, j) => (j === i ? row : s)));
  const rowProblem = (i: number) => rowErrors[i] ?? local.filter((p) => p.index === i).map((p) => t(p.key as Key)).join("; ");

  async function start() {
    setError(undefined);
    setRowErrors({});
    setFieldError(undefined);
    const target = what === "build" ? { changes: { build } } : what === "version" ? { version } : { changes: { image } };
    const body = { ...target, strategy, ...(strategy === "gray" ? { steps: steps.map(stepText) } : {}) };
    setBusy(true);
    try {
      await must(api.POST("/api/v1/systems/{system}/apps/{app}/groups/{group}/releases", { params: { path: props.path }, body }));
      props.close(true);
    } catch (e) {
      const err = asApiError(e);
      const row = stepIndex(err.field);
      if (typeof row === "number") setRowErrors({ [row]: err.message });
      else if (row === null || formField(err.field, ["build", "image", "version"])) setFieldError({ field: row === null ? "steps" : formField(err.field, ["build", "image", "version"])!, message: err.message });
      else setError(err);
    } finally {
      setBusy(false);
    }
  }
  const chosen = what === "build" ? !!build : what === "version" ? !!version : !!image.trim();
  const under = (field: string) => (fieldError?.field === field ? { validateStatus: "error" as const, help: fieldError.message } : {});
  return (
    <Modal
      open={props.open}
      title={t("release.start")}
      onOk={start}
      okText={t("release.start")}
      cancelText={t("common.cancel")}
      okButtonProps={{ disabled: !chosen || local.length > 0, loading: busy, id: "release-start-ok" }}
      onCancel={() => props.close(false)}
      width={820}
      destroyOnHidden
    >
      <ErrorAlert error={error ?? builds.error} />
      <Form layout="vertical">
        <Form.Item label={t("release.what")}>
          <Radio.Group value={what} onChange={(e) => setWhat(e.target.value as What)} optionType="button" options={(["build", "version", "image"] as const).map((w) => ({ value: w, label: t(`release.${w}` as Key) }))} />
        </Form.Item>
        {what === "build" && (
          <Form.Item label={t("release.build")} htmlFor="release-build" {...under("build")}>
            <Select
              id="release-build"
              value={build}
              onChange={setBuild}
              data-testid="release-build"
              options={succeeded.map((b) => ({ value: b.id, label: `${b.ref_kind} ${b.ref} · ${b.commit.slice(0, 12)} · ${b.id.slice(0, 8)}` }))}
            />
          </Form.Item>
        )}
        {what === "version" && (
          <Form.Item label={t("release.version")} htmlFor="release-version" {...under("version")}>
            <Select id="release-version" value={version} onChange={setVersion} options={props.versions.filter((v) => v.number !== props.current).map((v) => ({ value: v.number, label: `v${v.number} · ${String((v.spec as Spec).image ?? "")}` }))} />
          </Form.Item>
        )}
        {what === "image" && (
          <Form.Item label={t("release.image")} htmlFor="release-image" {...under("image")}>
            <Input id="release-image" value={image} onChange={(e) => setImage(e.target.value)} placeholder={props.latest?.image} />
          </Form.Item>
        )}
        <Form.Item label={t("release.strategy")} htmlFor="release-strategy">
          <Select id="release-strategy" value={strategy} onChange={setStrategy} style={{ width: 200 }} options={(["gray", "rolling", "blue-green"] as const).map((s) => ({ value: s, label: s }))} data-testid="release-strategy" />
        </Form.Item>
        {strategy === "gray" && (
          <Form.Item label={`${t("release.steps")} · ${t("release.total", { total })}`} {...under("steps")}>
            <Space orientation="vertical" style={{ width: "100%" }} data-testid="step-editor">
              {steps.map((s, i) => (
                <Form.Item key={i} validateStatus={rowProblem(i) ? "error" : undefined} help={rowProblem(i) || undefined} style={{ marginBottom: 4 }}>
                  <Space>
                    <Typography.Text type="secondary" style={{ width: 24, display: "inline-block" }}>{i + 1}</Typography.Text>
                    <Select<StepKind>
                      value={s.kind}
                      style={{ width: 260 }}
                      aria-label={`${t("release.step")} ${i + 1}`}
                      data-testid={`step-kind-${i}`}
                      onChange={(kind) => change(i, { kind, value: kind === "pause" ? undefined : kind === "gray" ? 1 : kind === "pauseFor" ? 5 : 50 })}
                      options={KINDS.map((k) => ({ value: k, label: t(`release.kind.${k}` as Key) }))}
                    />
                    {s.kind !== "pause" && (
                      <InputNumber
                        value={s.value}
                        min={0}
                        aria-label={`${t("release.step")} ${i + 1} N`}
                        data-testid={`step-value-${i}`}
                        onChange={(v) => change(i, { ...s, value: v ?? undefined })}
                        suffix={s.kind === "percent" || s.kind === "weight" ? "%" : s.kind === "pauseFor" ? "min" : undefined}
                      />
                    )}
                    <Button icon={<DeleteOutlined />} aria-label={`remove ${i + 1}`} onClick={() => setSteps(steps.filter((_, j) => j !== i))} />
                  </Space>
                </Form.Item>
              ))}
              <Button icon={<PlusOutlined />} onClick={() => setSteps([...steps, { kind: "percent", value: 100 }])} data-testid="step-add">{t("release.addStep")}</Button>
              {local.filter((p) => p.index === null).map((p) => <Alert key={p.key} type="warning" showIcon title={t(p.key as Key)} />)}
            </Space>
          </Form.Item>
        )}
        {strategy === "gray" && (
          <Form.Item label={t("release.preview")}>
            <Table
              size="small"
              data-testid="step-preview"
              pagination={false}
              rowKey="i"
              dataSource={preview.map((p, i) => ({ ...p, i: i + 1 }))}
              columns={[
                { title: "#", dataIndex: "i", width: 40 },
                { title: t("release.step"), dataIndex: "text" },
                { title: t("release.newVersion"), dataIndex: "newInstances" },
                { title: t("release.stableVersion"), dataIndex: "stableInstances" },
                { title: t("release.requests"), dataIndex: "weight", render: (w: number | null) => (w == null ? t("release.byCounts") : `${w}%`) },
              ]}
            />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}
