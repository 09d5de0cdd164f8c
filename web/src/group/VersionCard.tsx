import { Card, Collapse, Descriptions, Empty, Tag, Typography } from "antd";
import { flavorLabel, type Size } from "../format";
import { useT } from "../i18n";
import type { Spec, Version } from "./types";

const SHOWN = ["image", "flavor", "size", "instances", "env", "config_files"];

/** The running version: number (marked latest), instances, flavor, image, config files, the rest. */
export default function VersionCard({ version, latest, ready }: { version?: Version; latest: number; ready: string }) {
  const { t } = useT();
  if (!version) return <Card title={t("group.current")}><Empty description={t("group.notDeployed")} /></Card>;
  const spec = version.spec as Spec;
  const files = Object.entries(spec.config_files ?? {});
  const advanced = Object.fromEntries(Object.entries(spec).filter(([k]) => !SHOWN.includes(k)));
  return (
    <Card
      data-testid="version-card"
      title={
        <span>
          {t("group.current")}: <span data-testid="current-version">v{version.number}</span>{" "}
          {version.number === latest && <Tag color="blue">{t("group.latest")}</Tag>}
        </span>
      }
    >
      <Descriptions size="small" column={2}>
        <Descriptions.Item label={t("group.instances")}><span data-testid="card-instances">{ready}</span></Descriptions.Item>
        <Descriptions.Item label={t("group.flavor")}>{flavorLabel(String(spec.flavor), spec.size as Size | undefined)}</Descriptions.Item>
        <Descriptions.Item label={t("group.image")} span={2}><Typography.Text code>{spec.image}</Typography.Text></Descriptions.Item>
        <Descriptions.Item label={t("group.env")} span={2}>
          {Object.entries(spec.env ?? {}).map(([k, v]) => <Tag key={k}>{`${k}=${v}`}</Tag>)}
        </Descriptions.Item>
      </Descriptions>
      <Collapse
        size="small"
        items={[
          {
            key: "files",
            label: `${t("group.configFiles")} (${files.length})`,
            children: files.map(([path, body]) => (
              <div key={path}>
                <Typography.Text strong>{path}</Typography.Text>
                <pre style={{ background: "#fafafa", padding: 8 }}>{body}</pre>
              </div>
            )),
          },
          { key: "advanced", label: t("group.advanced"), children: <pre>{JSON.stringify(advanced, null, 2)}</pre> },
        ]}
      />
    </Card>
  );
}
