import { useEffect, useState } from "react";
import { Alert, Button, Form, Input, InputNumber, Modal, Select, Space } from "antd";
import { api, must } from "../api/client";
import { formField, type ApiError } from "../api/errors";
import { FLAVOR_NAMES, flavorLabel, specDiff, type Change } from "../format";
import { useT } from "../i18n";
import type { Verdict } from "../permissions";
import Confirm from "./Confirm";
import type { GroupPath, Snapshot, Spec } from "./types";

const FIELDS = ["image", "flavor", "instances"] as const;
interface Pending {
  action: string;
  changes: Change[];
  text?: string;
  run: () => Promise<unknown>;
  form?: "deploy" | "scale";
}

/** Deploy, scale and reconcile: a form, then a confirmation showing what changes, then the call.
 * Hidden, with the reason, when the caller's role does not allow them (the server refuses anyway). */
export default function Actions(props: { path: GroupPath; snap: Snapshot; latest?: Spec; deploy: Verdict }) {
  const { t } = useT();
  const [deployForm] = Form.useForm();
  const [scaleForm] = Form.useForm();
  const [open, setOpen] = useState<"deploy" | "scale" | null>(null);
  const [pending, setPending] = useState<Pending>();
  const [flavors, setFlavors] = useState(FLAVOR_NAMES.map((f) => ({ value: f, label: flavorLabel(f) })));
  useEffect(() => {
    // The platform's catalog (admins add flavors); the built-in names until it answers.
    void api.GET("/api/v1/flavors").then(({ data }) => {
      if (data?.length) setFlavors(data.map((f) => ({ value: f.name, label: flavorLabel(f.name, f) })));
    });
  }, []);
  const p = { params: { path: props.path } };
  const status = props.snap.group.status;
  const busy = !!status?.operation;
  if (!props.deploy.allowed) {
    const r = props.deploy.reason;
    return <Alert type="info" showIcon data-testid="actions-denied" title={r ? t(r.key, r.vars) : ""} />;
  }

  function deployNext(values: { image: string; flavor: string; instances: number }) {
    const before = props.latest ?? {};
    const changes = Object.fromEntries(FIELDS.filter((k) => values[k] !== undefined && values[k] !== before[k]).map((k) => [k, values[k]]));
    const first = !props.latest;
    const body = first ? { spec: values } : { changes };
    setOpen(null);
    setPending({
      action: t("action.deploy"),
      changes: specDiff(before, { ...before, ...(first ? values : changes) }),
      run: () => must(api.POST("/api/v1/systems/{system}/apps/{app}/groups/{group}/deploy", { ...p, body })),
      form: "deploy",
    });
  }
  function scaleNext(values: { instances: number }) {
    setOpen(null);
    setPending({
      action: t("action.scale"),
      changes: [{ field: "instances", old: props.latest?.instances ?? 0, new: values.instances }],
      run: () => must(api.POST("/api/v1/systems/{system}/apps/{app}/groups/{group}/scale", { ...p, body: { instances: values.instances } })),
      form: "scale",
    });
  }
  function reconcile() {
    setPending({
      action: t("action.reconcile"),
      text: t("action.reconcileText", { version: String(props.snap.group.current_version) }),
      changes: (status?.drift ?? []).map((d) => ({ field: d.field, old: d.live, new: d.expected })),
      run: () => must(api.POST("/api/v1/systems/{system}/apps/{app}/groups/{group}/reconcile", { ...p, body: {} })),
    });
  }
  /** An error naming a field goes back to the form, under that field. */
  function backToForm(e: ApiError): boolean {
    const name = formField(e.field, FIELDS);
    if (!name || !pending?.form) return false;
    const form = pending.form === "deploy" ? deployForm : scaleForm;
    setOpen(pending.form);
    setPending(undefined);
    setTimeout(() => form.setFields([{ name, errors: [e.message] }]));
    return true;
  }
  const spec = props.latest;
  return (
    <Space>
      <Button type="primary" disabled={busy} onClick={() => setOpen("deploy")} data-testid="deploy">{t("action.deploy")}</Button>
      <Button disabled={busy || !spec} onClick={() => setOpen("scale")} data-testid="scale">{t("action.scale")}</Button>
      <Button disabled={busy || !status?.drift?.length} onClick={reconcile} data-testid="reconcile">{t("action.reconcile")}</Button>
      <Modal open={open === "deploy"} title={spec ? t("action.deploy") : `${t("action.deploy")} · ${t("deploy.first")}`} onOk={() => deployForm.submit()} onCancel={() => setOpen(null)} okText={t("common.confirm")} cancelText={t("common.cancel")} forceRender>
        <Form form={deployForm} name="deploy" layout="vertical" onFinish={deployNext} initialValues={{ image: spec?.image, flavor: spec?.flavor ?? "small", instances: spec?.instances ?? 1 }}>
          <Form.Item name="image" label={t("deploy.image")} rules={[{ required: true, message: t("common.required") }]}>
            <Input data-testid="deploy-image" />
          </Form.Item>
          <Form.Item name="flavor" label={t("deploy.flavor")}>
            <Select options={flavors} data-testid="deploy-flavor" />
          </Form.Item>
          <Form.Item name="instances" label={t("deploy.instances")}>
            <InputNumber min={0} data-testid="deploy-instances" />
          </Form.Item>
        </Form>
      </Modal>
      <Modal open={open === "scale"} title={t("action.scale")} onOk={() => scaleForm.submit()} onCancel={() => setOpen(null)} okText={t("common.confirm")} cancelText={t("common.cancel")} forceRender>
        <Form form={scaleForm} name="scale" layout="vertical" onFinish={scaleNext} initialValues={{ instances: spec?.instances ?? 1 }}>
          <Form.Item name="instances" label={t("deploy.instances")} rules={[{ required: true, message: t("common.required") }]}>
            <InputNumber min={0} data-testid="scale-instances" />
          </Form.Item>
        </Form>
      </Modal>
      <Confirm
        open={!!pending}
        action={pending?.action ?? ""}
        text={pending?.text}
        changes={pending?.changes ?? []}
        run={pending?.run ?? (() => Promise.resolve())}
        close={() => setPending(undefined)}
        onError={backToForm}
      />
    </Space>
  );
}
