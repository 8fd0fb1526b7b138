import { lazy, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { can, hasRole, useAuth } from './shared/auth.tsx';
import ChangePasswordPage from './shared/ChangePasswordPage.tsx';
import Layout from './shared/Layout.tsx';
import LoginPage from './shared/LoginPage.tsx';
import { Loading, NotFoundResult } from './shared/states.tsx';

// Each area is its own chunk: MapLibre and ECharts load only with the pages that draw maps and charts.
const MapPage = lazy(() => import('./pages/map/MapPage.tsx'));
const WorkbenchPage = lazy(() => import('./pages/workbench/WorkbenchPage.tsx'));
const CasePage = lazy(() => import('./pages/workbench/CasePage.tsx'));
const NewCasePage = lazy(() => import('./pages/workbench/NewCasePage.tsx'));
const CockpitPage = lazy(() => import('./pages/cockpit/CockpitPage.tsx'));
const RegionsAdmin = lazy(() => import('./pages/admin/RegionsAdmin.tsx'));
const UsersAdmin = lazy(() => import('./pages/admin/UsersAdmin.tsx'));
const DepartmentsAdmin = lazy(() => import('./pages/admin/DepartmentsAdmin.tsx'));
const CategoriesAdmin = lazy(() => import('./pages/admin/CategoriesAdmin.tsx'));
const CalendarAdmin = lazy(() => import('./pages/admin/CalendarAdmin.tsx'));
const RegistryPage = lazy(() => import('./pages/registry/RegistryPage.tsx'));
const PersonPage = lazy(() => import('./pages/registry/PersonPage.tsx'));
const ImportPage = lazy(() => import('./pages/registry/ImportPage.tsx'));
const SizingPage = lazy(() => import('./pages/registry/SizingPage.tsx'));
const CompliancePage = lazy(() => import('./pages/fieldwork/CompliancePage.tsx'));
const HotlinePage = lazy(() => import('./pages/hotline/HotlinePage.tsx'));
const NoticesPage = lazy(() => import('./pages/notices/NoticesPage.tsx'));
const NoticeComposePage = lazy(() => import('./pages/notices/NoticeComposePage.tsx'));
const NoticeStatsPage = lazy(() => import('./pages/notices/NoticeStatsPage.tsx'));
const AlertsPage = lazy(() => import('./pages/notices/AlertsPage.tsx'));
const AlertCreatePage = lazy(() => import('./pages/notices/AlertCreatePage.tsx'));
const AlertBoardPage = lazy(() => import('./pages/notices/AlertBoardPage.tsx'));
const PollsPage = lazy(() => import('./pages/notices/PollsPage.tsx'));
const PollCreatePage = lazy(() => import('./pages/notices/PollCreatePage.tsx'));
const PollPage = lazy(() => import('./pages/notices/PollPage.tsx'));

function RequireSession({ children }: { children: ReactNode }) {
  const { me, loading } = useAuth();
  const location = useLocation();
  if (loading) return <Loading rows={8} />;
  if (!me) return <Navigate to="/login" state={{ from: location.pathname + location.search }} replace />;
  if (me.user.mustChangePassword) return <Navigate to="/change-password" replace />;
  return <>{children}</>;
}

/** Leaders land on the cockpit, everyone else on their workbench. */
function Home() {
  const { me } = useAuth();
  if (me && hasRole(me, 'leader') && can(me, 'kpi.read')) return <Navigate to="/cockpit" replace />;
  return <Navigate to="/workbench" replace />;
}

export default function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/change-password" element={<ChangePasswordPage />} />
      <Route
        element={
          <RequireSession>
            <Layout />
          </RequireSession>
        }
      >
        <Route index element={<Home />} />
        <Route path="map" element={<MapPage />} />
        <Route path="workbench" element={<WorkbenchPage />} />
        <Route path="cases/new" element={<NewCasePage />} />
        <Route path="cases/:id" element={<CasePage />} />
        <Route path="cockpit" element={<CockpitPage />} />
        <Route path="registry" element={<RegistryPage />} />
        <Route path="registry/persons/:id" element={<PersonPage />} />
        <Route path="registry/import" element={<ImportPage />} />
        <Route path="registry/sizing" element={<SizingPage />} />
        <Route path="fieldwork" element={<CompliancePage />} />
        <Route path="hotline" element={<HotlinePage />} />
        <Route path="notices" element={<NoticesPage />} />
        <Route path="notices/new" element={<NoticeComposePage />} />
        <Route path="notices/:id" element={<NoticeStatsPage />} />
        <Route path="alerts" element={<AlertsPage />} />
        <Route path="alerts/new" element={<AlertCreatePage />} />
        <Route path="alerts/:id" element={<AlertBoardPage />} />
        <Route path="polls" element={<PollsPage />} />
        <Route path="polls/new" element={<PollCreatePage />} />
        <Route path="polls/:id" element={<PollPage />} />
        <Route path="admin/regions" element={<RegionsAdmin />} />
        <Route path="admin/users" element={<UsersAdmin />} />
        <Route path="admin/departments" element={<DepartmentsAdmin />} />
        <Route path="admin/categories" element={<CategoriesAdmin />} />
        <Route path="admin/calendar" element={<CalendarAdmin />} />
        <Route path="*" element={<NotFoundResult />} />
      </Route>
    </Routes>
  );
}
