import { Space, Table, Tag, Typography } from "antd";
import { useT, type Key } from "../i18n";
import { reasonRows, topNodes, verdict, type ClusterFit, type Preview } from "./preview";

const COLOR = { fits: "green", partial: "orange", none: "red", unknown: "default" };

/** A preview's verdict per cluster: fits / pending, where the instances land, and for the others
 * the scheduler's reasons (nodes refused per reason) and its message. */
export default function PreviewResult({ preview }: { preview: Preview }) {
  const { t } = useT();
  return (
    <Space orientation="vertical" style={{ width: "100%" }}>
      <Typography.Text strong data-testid="preview-total">{t("placement.total", { fits: preview.fits, wanted: preview.wanted, pending: preview.pending })}</Typography.Text>
      <Table<ClusterFit>
        size="small"
        rowKey="cluster"
        pagination={false}
        dataSource={preview.clusters}
        onRow={(c) => ({ "data-testid": `preview-${c.cluster}` }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          { title: t("group.cluster"), dataIndex: "cluster" },
          { title: t("placement.verdict"), key: "verdict", render: (_: unknown, c) => <Tag color={COLOR[verdict(c)]}>{t(`placement.${verdict(c)}` as Key)}</Tag> },
          { title: t("placement.fitCount"), key: "fits", render: (_: unknown, c) => `${c.fits} / ${c.wanted}` },
          { title: t("placement.pending"), dataIndex: "pending" },
          {
            title: t("placement.nodes"),
            key: "nodes",
            render: (_: unknown, c) => {
              const { shown, more } = topNodes(c.nodes);
              return (
                <Space size={2} wrap>
                  {shown.map(([n, k]) => <Tag key={n}>{`${n} × ${k}`}</Tag>)}
                  {more > 0 && <Typography.Text type="secondary">{t("placement.more", { n: more })}</Typography.Text>}
                </Space>
              );
            },
          },
          {
            title: t("placement.reasons"),
            key: "reasons",
            render: (_: unknown, c) => (
              <Space orientation="vertical" size={2}>
                <Space size={2} wrap>{reasonRows(c.reasons).map((r) => <Tag color="orange" key={r.reason}>{`${r.reason} × ${r.nodes}`}</Tag>)}</Space>
                {c.message && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{c.message}</Typography.Text>}
                {c.preempted > 0 && <Typography.Text type="warning">{t("placement.preempts", { n: c.preempted })}</Typography.Text>}
              </Space>
            ),
          },
        ]}
      />
    </Space>
  );
}
