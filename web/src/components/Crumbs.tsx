import { Breadcrumb } from "antd";
import { Link, useLocation } from "react-router-dom";
import { useT } from "../i18n";

/** Overview / system / application / group, from the path. */
export default function Crumbs() {
  const { t } = useT();
  const parts = useLocation().pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== "systems") return null;
  const [, system, , app, , group] = parts;
  const base = `/systems/${encodeURIComponent(system)}`;
  const items = [{ title: <Link to="/">{t("nav.overview")}</Link> }, { title: <Link to={base}>{system}</Link> }];
  if (app) items.push({ title: <Link to={`${base}/apps/${encodeURIComponent(app)}`}>{app}</Link> });
  if (group) items.push({ title: <span>{group}</span> });
  return <Breadcrumb style={{ marginBottom: 16 }} items={items} data-testid="crumbs" />;
}
