import { useEffect, useState } from "react";
import { Button, Card, Divider, Form, Input } from "antd";
import { api } from "../api/client";
import { saveSession } from "../api/session";
import { toApiError, type ApiError } from "../api/errors";
import ErrorAlert from "../components/ErrorAlert";
import { useT } from "../i18n";

export default function Login() {
  const { t } = useT();
  const [form] = Form.useForm();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const [ssoUrl, setSsoUrl] = useState<string | null>(null);
  useEffect(() => {
    api.GET("/api/v1/auth/sso").then(
      ({ data }) => setSsoUrl(data?.enabled && data.login_url ? data.login_url : null),
      () => setSsoUrl(null),
    );
  }, []);
  async function submit(values: { user: string; password: string }) {
    setBusy(true);
    setError(undefined);
    const { data, error: failed, response } = await api.POST("/api/v1/login", { body: values });
    setBusy(false);
    if (data) saveSession({ access: data.access_token, refresh: data.refresh_token });
    else {
      const err = toApiError(response.status, failed);
      if (err.field === "user" || err.field === "password") form.setFields([{ name: err.field, errors: [err.message] }]);
      else setError(err);
    }
  }
  return (
    <Card title={t("login.title")} style={{ maxWidth: 400, margin: "80px auto" }}>
      <ErrorAlert error={error} />
      <Form form={form} layout="vertical" onFinish={submit}>
        <Form.Item name="user" label={t("login.user")} rules={[{ required: true, message: t("common.required") }]}>
          <Input autoComplete="username" data-testid="login-user" />
        </Form.Item>
        <Form.Item name="password" label={t("login.password")} rules={[{ required: true, message: t("common.required") }]}>
          <Input.Password autoComplete="current-password" data-testid="login-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={busy} block data-testid="login-submit">
          {t("login.submit")}
        </Button>
      </Form>
      {ssoUrl && (
        <>
          <Divider plain>{t("login.or")}</Divider>
          <Button
            block
            href={`${ssoUrl}?next=${encodeURIComponent(window.location.pathname + window.location.search)}`}
            data-testid="login-sso"
          >
            {t("login.sso")}
          </Button>
        </>
      )}
    </Card>
  );
}
