import { useState } from "react";
import { Button, Form, Input, Modal, Select } from "antd";
import { ApiFailure } from "../api/errors";
import { asApiError } from "../hooks";
import type { ApiError } from "../api/errors";
import ErrorAlert from "./ErrorAlert";
import { useT } from "../i18n";

export interface Field {
  name: string;
  label: string;
  required?: boolean;
  options?: string[];
  initial?: string;
}

/** A button opening a small form; the API's field errors appear under the field they name. */
export default function CreateDialog(props: {
  title: string;
  fields: Field[];
  submit: (values: Record<string, string>) => Promise<unknown>;
  done: () => void;
  testid: string;
}) {
  const { t } = useT();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [form] = Form.useForm();
  async function ok() {
    const values = await form.validateFields();
    setBusy(true);
    setError(undefined);
    try {
      await props.submit(values);
      setOpen(false);
      form.resetFields();
      props.done();
    } catch (e) {
      const err = asApiError(e);
      const named = e instanceof ApiFailure && props.fields.some((f) => f.name === err.field);
      if (named) form.setFields([{ name: err.field!, errors: [err.message] }]);
      else setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
      <Button type="primary" onClick={() => setOpen(true)} data-testid={props.testid}>
        {props.title}
      </Button>
      <Modal open={open} title={props.title} onOk={ok} confirmLoading={busy} onCancel={() => setOpen(false)} okText={t("common.create")} cancelText={t("common.cancel")} destroyOnHidden>
        <ErrorAlert error={error} />
        <Form form={form} layout="vertical">
          {props.fields.map((f) => (
            <Form.Item key={f.name} name={f.name} label={f.label} initialValue={f.initial} rules={f.required ? [{ required: true, message: t("common.required") }] : []}>
              {f.options ? <Select options={f.options.map((o) => ({ value: o, label: o }))} /> : <Input data-testid={`field-${f.name}`} />}
            </Form.Item>
          ))}
        </Form>
      </Modal>
    </>
  );
}
