import { useEffect, useMemo, useState } from "react";
import { Button, ConfigProvider, Layout, Menu, Space, Typography } from "antd";
import enUS from "antd/locale/en_US";
import zhCN from "antd/locale/zh_CN";
import { Link, Route, Routes, useLocation } from "react-router-dom";
import PageBoundary from "./components/PageBoundary";
import { I18nContext, translate, type Lang } from "./i18n";
import { loadSession, onSession, saveSession, type Session } from "./api/session";
import { api, must } from "./api/client";
import { MeContext, useReducedMotion } from "./hooks";
import type { Me } from "./permissions";
import Login from "./pages/Login";
import Overview from "./pages/Overview";
import SystemPage from "./pages/SystemPage";
import AlertsPage from "./pages/AlertsPage";
import AppPage from "./pages/AppPage";
import GroupPage from "./group/GroupPage";
import Tokens from "./pages/Tokens";
import Audit from "./pages/Audit";
import Inspections from "./pages/Inspections";
import Statistics from "./pages/Statistics";
import ClusterPage from "./clusters/ClusterPage";
import Crumbs from "./components/Crumbs";

function initialLang(): Lang {
  return localStorage.getItem("dockyard.lang") === "zh" ? "zh" : "en";
}

// WCAG AA (4.5:1) for text: Ant Design's default blue (#1677ff) under white text or as link colour on
// white is 4.1:1, and its tertiary grey (45 % black) 3.5:1 — axe-core in the browser test checks.
const CONTRAST = { colorPrimary: "#0958d9", colorLink: "#0958d9", colorTextSecondary: "rgba(0, 0, 0, 0.7)", colorTextTertiary: "rgba(0, 0, 0, 0.62)", colorTextPlaceholder: "rgba(0, 0, 0, 0.58)", colorError: "#cf1322", colorPrimaryHover: "#003eb3", colorPrimaryActive: "#002c8c", colorErrorHover: "#a8071a", colorErrorActive: "#820014" };

export default function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const [session, setSession] = useState<Session | null>(loadSession);
  const [me, setMe] = useState<Me | null>(null);
  const reducedMotion = useReducedMotion();
  const location = useLocation();
  useEffect(() => onSession(setSession), []);
  useEffect(() => {
    // Back from single sign-on: the server's session cookie is there (scripts cannot see it), /auth/me tells.
    if (loadSession()) return;
    fetch("/auth/me").then(
      (r) => r.ok && saveSession({ access: "", refresh: "", sso: true }),
      () => undefined,
    );
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en"; // screen readers pick the voice by it
  }, [lang]);
  useEffect(() => {
    if (!session) {
      setMe(null);
      return;
    }
    must(api.GET("/api/v1/users/me")).then(setMe, () => setMe(null));
  }, [session?.refresh]); // eslint-disable-line react-hooks/exhaustive-deps
  const i18n = useMemo(
    () => ({
      lang,
      setLang: (l: Lang) => {
        localStorage.setItem("dockyard.lang", l);
        document.documentElement.lang = l === "zh" ? "zh-CN" : "en";
        setLangState(l);
      },
      t: (key: Parameters<typeof translate>[1], vars?: Record<string, string | number>) => translate(lang, key, vars),
    }),
    [lang],
  );
  const t = i18n.t;

  async function logout() {
    const s = loadSession();
    if (s?.sso) await fetch("/auth/logout", { method: "POST" }).catch(() => undefined);
    else if (s) await api.POST("/api/v1/logout", { body: { refresh_token: s.refresh } }).catch(() => undefined);
    saveSession(null);
  }

  const mayAudit = !!me && (me.admin || Object.values(me.roles).includes("owner"));
  const selected = location.pathname.startsWith("/tokens") ? "tokens" : location.pathname.startsWith("/audit") ? "audit" : location.pathname.startsWith("/inspections") ? "inspections" : location.pathname.startsWith("/statistics") ? "statistics" : "overview";
  return (
    <I18nContext.Provider value={i18n}>
      <ConfigProvider locale={lang === "zh" ? zhCN : enUS} theme={{ token: { motion: !reducedMotion, ...CONTRAST } }}>
        <MeContext.Provider value={me}>
          <Layout style={{ minHeight: "100vh" }}>
            <Layout.Header style={{ display: "flex", alignItems: "center", gap: 16 }}>
              <Link to="/" style={{ color: "#fff", fontWeight: 600, fontSize: 18 }}>
                {t("app.title")}
              </Link>
              {session && (
                <Menu
                  theme="dark"
                  mode="horizontal"
                  selectedKeys={[selected]}
                  style={{ flex: 1 }}
                  items={[
                    { key: "overview", label: <Link to="/">{t("nav.overview")}</Link> },
                    { key: "tokens", label: <Link to="/tokens">{t("nav.tokens")}</Link> },
                    { key: "statistics", label: <Link to="/statistics">{t("nav.statistics")}</Link> },
                    ...(mayAudit ? [{ key: "audit", label: <Link to="/audit">{t("nav.audit")}</Link> }] : []),
                    ...(me?.admin ? [{ key: "inspections", label: <Link to="/inspections">{t("nav.inspections")}</Link> }] : []),
                  ]}
                />
              )}
              <Space style={{ marginLeft: "auto" }}>
                <Button data-testid="lang" onClick={() => i18n.setLang(lang === "en" ? "zh" : "en")}>
                  {t("nav.language")}
                </Button>
                {session && <Typography.Text style={{ color: "#fff" }}>{me?.name}</Typography.Text>}
                {session && (
                  <Button data-testid="logout" onClick={logout}>
                    {t("nav.logout")}
                  </Button>
                )}
              </Space>
            </Layout.Header>
            <Layout.Content style={{ padding: 24 }}>
              {!session ? (
                <Login />
              ) : (
                <>
                  <Crumbs />
                  <PageBoundary title={t("common.pageError")} retry={t("common.retry")} route={location.pathname}>
                    <Routes>
                      <Route path="/" element={<Overview />} />
                      <Route path="/tokens" element={<Tokens />} />
                      <Route path="/audit" element={<Audit />} />
                      <Route path="/inspections" element={<Inspections />} />
                      <Route path="/statistics" element={<Statistics />} />
                      <Route path="/clusters/:name" element={<ClusterPage />} />
                      <Route path="/systems/:system" element={<SystemPage />} />
                      <Route path="/systems/:system/alerts" element={<AlertsPage />} />
                      <Route path="/systems/:system/apps/:app" element={<AppPage />} />
                      <Route path="/systems/:system/apps/:app/groups/:group" element={<GroupPage />} />
                    </Routes>
                  </PageBoundary>
                </>
              )}
            </Layout.Content>
          </Layout>
        </MeContext.Provider>
      </ConfigProvider>
    </I18nContext.Provider>
  );
}
