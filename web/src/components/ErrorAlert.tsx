import { Alert } from "antd";
import type { ApiError } from "../api/errors";

/** An API error that names no form field: shown, never swallowed. */
export default function ErrorAlert({ error }: { error?: ApiError }) {
  if (!error) return null;
  return <Alert type="error" showIcon style={{ marginBottom: 12 }} title={`${error.code}: ${error.message}`} data-testid="error" />;
}
