import { Alert, Button, Card, Popconfirm, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { api, must } from "../api/client";
import { useLoad } from "../hooks";
import { useT } from "../i18n";
import { when } from "../format";
import ErrorAlert from "../components/ErrorAlert";
import CreateDialog from "../components/CreateDialog";

export default function Tokens() {
  const { t } = useT();
  const tokens = useLoad(() => must(api.GET("/api/v1/users/me/tokens")), []);
  const [secret, setSecret] = useState<string>();
  async function create(v: Record<string, string>) {
    const days = v.expires_in_days ? Number(v.expires_in_days) : null;
    const made = await must(api.POST("/api/v1/users/{user}/tokens", { params: { path: { user: "me" } }, body: { name: v.name, expires_in_days: days } }));
    setSecret(made.token);
  }
  async function revoke(id: string) {
    await must(api.DELETE("/api/v1/users/me/tokens/{token_id}", { params: { path: { token_id: id } } }));
    tokens.reload();
  }
  return (
    <Card
      title={t("tokens.title")}
      extra={
        <CreateDialog
          testid="create-token"
          title={t("tokens.create")}
          fields={[
            { name: "name", label: t("common.name"), required: true },
            { name: "expires_in_days", label: t("tokens.expires") },
          ]}
          submit={create}
          done={tokens.reload}
        />
      }
    >
      {secret && (
        <Alert type="success" style={{ marginBottom: 12 }} title={t("tokens.shownOnce")} description={<Typography.Text copyable code data-testid="new-token">{secret}</Typography.Text>} closable onClose={() => setSecret(undefined)} />
      )}
      <ErrorAlert error={tokens.error} />
      <Table
        rowKey="id"
        size="small"
        loading={tokens.loading}
        dataSource={tokens.data ?? []}
        columns={[
          { title: t("common.name"), dataIndex: "name" },
          { title: t("tokens.created"), dataIndex: "created_at", render: (v: string) => when(v) },
          { title: t("tokens.expiresAt"), dataIndex: "expires_at", render: (v: string | null) => (v ? when(v) : "—") },
          {
            key: "revoke",
            render: (_, r) =>
              r.revoked ? (
                <Tag>{t("tokens.revoked")}</Tag>
              ) : (
                <Popconfirm title={t("tokens.revoke")} okText={t("common.confirm")} cancelText={t("common.cancel")} onConfirm={() => revoke(r.id)}>
                  <Button danger size="small">{t("tokens.revoke")}</Button>
                </Popconfirm>
              ),
          },
        ]}
      />
    </Card>
  );
}
