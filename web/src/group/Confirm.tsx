import { useState } from "react";
import { Modal, Typography } from "antd";
import type { Change } from "../format";
import type { ApiError } from "../api/errors";
import { asApiError } from "../hooks";
import ErrorAlert from "../components/ErrorAlert";
import DiffTable from "./DiffTable";
import { useT } from "../i18n";

/** The confirmation every action goes through: what will change, then the call; an error the call
 * answers stays in the dialog (or goes back to the form that named the field, via onError). */
export default function Confirm(props: {
  open: boolean;
  action: string;
  changes: Change[];
  text?: string;
  run: () => Promise<unknown>;
  close: (done: boolean) => void;
  onError?: (e: ApiError) => boolean;
}) {
  const { t } = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  async function ok() {
    setBusy(true);
    setError(undefined);
    try {
      await props.run();
      props.close(true);
    } catch (e) {
      const err = asApiError(e);
      if (!props.onError?.(err)) setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal
      open={props.open}
      title={t("action.confirmTitle", { action: props.action })}
      onOk={ok}
      okText={t("common.confirm")}
      cancelText={t("common.cancel")}
      confirmLoading={busy}
      onCancel={() => props.close(false)}
      width={760}
      destroyOnHidden
    >
      <ErrorAlert error={error} />
      {props.text && <Typography.Paragraph>{props.text}</Typography.Paragraph>}
      <Typography.Title level={5}>{t("action.willChange")}</Typography.Title>
      <DiffTable changes={props.changes} />
    </Modal>
  );
}
