import { useState } from "react";
import { Button, Form, Input, InputNumber, Modal, Select, Switch, Typography } from "antd";
import type { ApiError } from "../api/errors";
import { asApiError } from "../hooks";
import { useT } from "../i18n";
import ErrorAlert from "../components/ErrorAlert";
import { errorField, initialValue, isRequired, paramField, parametersOf, parameterValues, templateKey, type Parameter, type Template } from "./templates";

export interface NewGroup {
  name: string;
  environment: string;
  cluster: string;
}

const ENVIRONMENTS = ["dev", "test", "staging", "prod"];

/** A parameter's input; Form.Item hands it `value`/`checked`, `onChange` and `id`, passed on as they are. */
function ParamInput({ p, flavors, ...control }: { p: Parameter; flavors: string[]; [prop: string]: unknown }) {
  const id = `param-${p.name}`;
  if (p.type === "bool") return <Switch {...control} data-testid={id} />;
  if (p.type === "int") return <InputNumber {...control} min={p.minimum ?? undefined} max={p.maximum ?? undefined} style={{ width: 200 }} data-testid={id} />;
  const choices = p.type === "enum" ? (p.choices ?? []) : p.type === "flavor" ? flavors : null;
  if (choices?.length) return <Select {...control} options={choices.map((c) => ({ value: c, label: c }))} style={{ width: 240 }} data-testid={id} />;
  return <Input {...control} data-testid={id} placeholder={p.type === "image" ? "registry/repository:tag" : undefined} />;
}

/** A group made from a component template: the group's name, environment and cluster, a template,
 * and a field per parameter (typed, its default filled in, required when it has none). The
 * parameters are rendered first (nothing is made when one is wrong), then the group is created and
 * deployed from the template. Every API error naming a field — `parameters.NAME` included — shows
 * under that field; a second try after a failed deploy does not create the group again. */
export default function TemplateDialog(props: {
  templates: Template[];
  clusters: string[];
  flavors: string[];
  check: (template: Template, parameters: Record<string, unknown>) => Promise<unknown>;
  createGroup: (group: NewGroup) => Promise<unknown>;
  deploy: (group: string, template: Template, parameters: Record<string, unknown>) => Promise<unknown>;
  done: () => void;
}) {
  const { t } = useT();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [created, setCreated] = useState<string>();
  const [chosen, setChosen] = useState<string>();
  const [form] = Form.useForm();
  const template = props.templates.find((x) => templateKey(x) === chosen);
  const params = parametersOf(template);

  function close() {
    setOpen(false);
    setCreated(undefined);
    setChosen(undefined);
    setError(undefined);
    form.resetFields();
  }

  async function ok() {
    if (!template) return;
    let values: NewGroup & { parameters?: Record<string, unknown> };
    try {
      values = await form.validateFields();
    } catch {
      return; // the form shows what is missing under each field
    }
    const parameters = parameterValues(params, values.parameters);
    setBusy(true);
    setError(undefined);
    try {
      await props.check(template, parameters);
      if (created !== values.name) {
        await props.createGroup({ name: values.name, environment: values.environment, cluster: values.cluster });
        setCreated(values.name);
      }
      await props.deploy(values.name, template, parameters);
      close();
      props.done();
    } catch (e) {
      const err = asApiError(e);
      const field = errorField(err.field, params);
      if (field) form.setFields([{ name: field, errors: [err.message] }]);
      else setError(err);
    } finally {
      setBusy(false);
    }
  }

  function pick(key: string) {
    setChosen(key);
    const picked = parametersOf(props.templates.find((x) => templateKey(x) === key));
    form.setFieldValue("parameters", Object.fromEntries(picked.map((p) => [p.name, initialValue(p)])));
  }

  return (
    <>
      <Button onClick={() => setOpen(true)} data-testid="create-from-template">{t("template.create")}</Button>
      <Modal open={open} title={t("template.create")} onOk={ok} confirmLoading={busy} onCancel={close} okText={t("common.create")} cancelText={t("common.cancel")} okButtonProps={{ disabled: !template, id: "template-create-ok" }} destroyOnHidden width={640}>
        <ErrorAlert error={error} />
        {created && <Typography.Paragraph type="secondary" data-testid="template-created">{t("template.created", { name: created })}</Typography.Paragraph>}
        <Form form={form} layout="vertical" name="from-template" initialValues={{ cluster: props.clusters[0] }}>
          <Form.Item name="name" label={t("common.name")} rules={[{ required: true, message: t("common.required") }]}>
            <Input data-testid="field-name" disabled={!!created} />
          </Form.Item>
          <Form.Item name="environment" label={t("group.environment")} rules={[{ required: true, message: t("common.required") }]}>
            <Select options={ENVIRONMENTS.map((o) => ({ value: o, label: o }))} disabled={!!created} />
          </Form.Item>
          <Form.Item name="cluster" label={t("group.cluster")} rules={[{ required: true, message: t("common.required") }]}>
            <Select options={props.clusters.map((o) => ({ value: o, label: o }))} disabled={!!created} />
          </Form.Item>
          <Form.Item label={t("template.template")} required extra={template?.description}>
            <Select
              value={chosen}
              onChange={pick}
              aria-label={t("template.template")}
              data-testid="template-choice"
              options={props.templates.map((x) => ({ value: templateKey(x), label: `${templateKey(x)} · v${x.version}` }))}
            />
          </Form.Item>
          {params.map((p) => (
            <Form.Item
              key={p.name}
              name={paramField(p.name)}
              label={`${p.name} (${p.type})`}
              extra={p.description}
              valuePropName={p.type === "bool" ? "checked" : "value"}
              rules={isRequired(p) ? [{ required: true, message: t("common.required") }] : []}
            >
              <ParamInput p={p} flavors={props.flavors} />
            </Form.Item>
          ))}
        </Form>
      </Modal>
    </>
  );
}
