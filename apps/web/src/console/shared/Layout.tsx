import {
  AimOutlined,
  ApartmentOutlined,
  BarChartOutlined,
  CalendarOutlined,
  CheckSquareOutlined,
  DashboardOutlined,
  EnvironmentOutlined,
  FundOutlined,
  HomeOutlined,
  LogoutOutlined,
  NotificationOutlined,
  PhoneOutlined,
  PlusCircleOutlined,
  ScheduleOutlined,
  SettingOutlined,
  SoundOutlined,
  TeamOutlined,
  UnorderedListOutlined,
  UploadOutlined,
} from '@ant-design/icons';
import { Badge, Button, Layout as AntLayout, Menu, Space, Tag, Tooltip, Typography } from 'antd';
import type { MenuProps } from 'antd';
import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { setLanguage } from '../i18n.ts';
import { can, useAuth, useMe } from './auth.tsx';
import { Loading } from './states.tsx';
import { useLiveUpdates } from './stream.ts';

type Item = Required<MenuProps>['items'][number];

/** The signed-in frame: role-aware navigation, the user's scope always visible, language switch, live state. */
export default function Layout() {
  const { t, i18n } = useTranslation();
  const me = useMe();
  const { signOut } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const live = useLiveUpdates(true);

  const items: Item[] = [];
  if (can(me, 'region.read')) items.push({ key: '/map', icon: <EnvironmentOutlined />, label: t('nav.map') });
  items.push({ key: '/workbench', icon: <UnorderedListOutlined />, label: t('nav.workbench') });
  if (
    can(me, 'case.report') &&
    me.roles.some((r) => ['hotline_operator', 'centre_operator', 'admin'].includes(r.role))
  ) {
    items.push({ key: '/cases/new', icon: <PlusCircleOutlined />, label: t('nav.newCase') });
    items.push({ key: '/hotline', icon: <PhoneOutlined />, label: t('hotline:nav') });
  }
  if (can(me, 'kpi.read'))
    items.push({ key: '/cockpit', icon: <DashboardOutlined />, label: t('nav.cockpit') });
  // 一标三实: the registry pages, each behind the permission its API needs.
  const registry: Item[] = [];
  if (can(me, 'person.read')) {
    registry.push({ key: '/registry', icon: <HomeOutlined />, label: t('registry:nav.tree') });
    if (can(me, 'person.write'))
      registry.push({ key: '/registry/import', icon: <UploadOutlined />, label: t('registry:nav.import') });
    if (can(me, 'region.stats'))
      registry.push({ key: '/registry/sizing', icon: <FundOutlined />, label: t('registry:nav.sizing') });
    items.push({
      key: 'registry',
      icon: <TeamOutlined />,
      label: t('registry:nav.group'),
      children: registry,
    });
  }
  if (can(me, 'fieldwork.monitor'))
    items.push({ key: '/fieldwork', icon: <ScheduleOutlined />, label: t('fieldwork:nav') });
  // 通知公告 and 紧急协查 (issue 7): whoever receives notices and alerts; composing is inside, behind notice.send.
  if (can(me, 'notice.read')) {
    items.push({ key: '/notices', icon: <SoundOutlined />, label: t('notices:nav.notices') });
    items.push({ key: '/alerts', icon: <NotificationOutlined />, label: t('notices:nav.alerts') });
  }
  // 投票 (issue 7): the centres that ask residents.
  if (can(me, 'notice.send'))
    items.push({ key: '/polls', icon: <CheckSquareOutlined />, label: t('notices:nav.polls') });
  const admin: Item[] = [];
  if (can(me, 'region.import') || can(me, 'region.write'))
    admin.push({ key: '/admin/regions', icon: <AimOutlined />, label: t('nav.regions') });
  if (can(me, 'user.write'))
    admin.push({ key: '/admin/users', icon: <TeamOutlined />, label: t('nav.users') });
  if (can(me, 'user.write') || can(me, 'department.read'))
    admin.push({ key: '/admin/departments', icon: <ApartmentOutlined />, label: t('nav.departments') });
  if (can(me, 'taxonomy.write'))
    admin.push({ key: '/admin/categories', icon: <BarChartOutlined />, label: t('nav.categories') });
  if (can(me, 'calendar.write'))
    admin.push({ key: '/admin/calendar', icon: <CalendarOutlined />, label: t('nav.calendar') });
  if (admin.length)
    items.push({ key: 'admin', icon: <SettingOutlined />, label: t('nav.admin'), children: admin });

  const selected =
    [...items, ...registry, ...admin]
      .map((i) => String(i?.key))
      .filter((k) => k.startsWith('/') && location.pathname.startsWith(k))
      .sort((a, b) => b.length - a.length)[0] ?? '';

  const scope = me.scope.length
    ? me.scope.map((s) => `${s.name}（${t(`levels.${s.level}`)}）`).join('、')
    : t('scopeAll');
  const roles = [...new Set(me.roles.map((r) => t(`roles.${r.role}`)))].join('、');

  return (
    <AntLayout style={{ minHeight: '100vh' }}>
      <AntLayout.Header className="app-header">
        <Link to="/" className="app-brand">
          <span className="app-logo" aria-hidden>
            网
          </span>
          {t('appName')}
        </Link>
        <div className="app-header-right">
          <Tooltip title={t('scope')}>
            <Tag color="red" className="app-scope" data-testid="scope">
              {t('scope')}：{scope}
            </Tag>
          </Tooltip>
          <Typography.Text className="app-user" data-testid="current-user">
            {me.user.displayName} · {roles}
          </Typography.Text>
          <Badge status={live === 'open' ? 'success' : live === 'connecting' ? 'processing' : 'default'} />
          <Space size="small">
            <Button size="small" onClick={() => setLanguage(i18n.language === 'en' ? 'zh-CN' : 'en')}>
              {t('language')}
            </Button>
            <Button
              size="small"
              icon={<LogoutOutlined />}
              onClick={() => void signOut().then(() => navigate('/login'))}
            >
              {t('logout')}
            </Button>
          </Space>
        </div>
      </AntLayout.Header>
      <AntLayout>
        <AntLayout.Sider width={200} theme="light" breakpoint="lg" collapsedWidth={56}>
          <Menu
            mode="inline"
            selectedKeys={[selected]}
            defaultOpenKeys={['registry', 'admin']}
            items={items}
            onClick={(e) => void navigate(e.key)}
            style={{ height: '100%', borderInlineEnd: 0 }}
          />
        </AntLayout.Sider>
        <AntLayout.Content className="app-content">
          <Suspense fallback={<Loading rows={8} />}>
            <Outlet />
          </Suspense>
        </AntLayout.Content>
      </AntLayout>
    </AntLayout>
  );
}
