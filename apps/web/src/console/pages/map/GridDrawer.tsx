import { UserOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { Avatar, Drawer, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, QueryState } from '../../shared/states.tsx';

const caseListLimit = 50;
/** Width of the grid panel (px); the map pads its view so the panel does not hide the region. */
export const gridDrawerWidth = 420;

/** The grid's side panel: who works it, its counts, and its open cases (each a link to the case). */
export function GridDrawer({ gridCode, onClose }: { gridCode: string | null; onClose: () => void }) {
  const { t } = useTranslation('map');
  const me = useMe();
  const code = gridCode ?? '';
  const enabled = gridCode !== null;

  const region = useQuery({
    queryKey: ['map', 'region', code],
    queryFn: () => api.region({ params: { code } }),
    enabled,
    staleTime: 300_000,
  });
  const parentCode = region.data?.parent ?? null;
  const parent = useQuery({
    queryKey: ['map', 'region', parentCode],
    queryFn: () => api.region({ params: { code: parentCode! } }),
    enabled: parentCode !== null,
    staleTime: 300_000,
    retry: false,
  });
  const stats = useQuery({
    queryKey: ['regionStats', 'region', code],
    queryFn: () => api.regionStats({ params: { code } }),
    enabled: enabled && can(me, 'region.stats'),
  });
  const workers = useQuery({
    queryKey: ['map', 'gridWorkers', code],
    queryFn: () => api.users({ query: { region: code, role: 'grid_worker' } }),
    enabled: enabled && can(me, 'user.read'),
    staleTime: 60_000,
  });
  const cases = useQuery({
    queryKey: ['cases', 'grid', code],
    queryFn: () => api.cases({ query: { region: code, state: 'open', limit: caseListLimit } }),
    enabled: enabled && can(me, 'case.read'),
  });

  return (
    <Drawer
      open={enabled}
      onClose={onClose}
      mask={false}
      size={gridDrawerWidth}
      destroyOnHidden
      title={
        <span data-testid="grid-panel-title">
          {region.data?.name ?? t('grid.title')}{' '}
          <Tag color="red" style={{ marginInlineStart: 6 }}>
            {t('common:levels.grid')}
          </Tag>
        </span>
      }
      closable={{ 'aria-label': t('grid.close') }}
      rootClassName="map-grid-drawer"
    >
      <div data-testid="grid-panel">
        <Typography.Paragraph type="secondary" style={{ marginTop: -8 }}>
          {t('grid.code')}：<Typography.Text copyable>{code}</Typography.Text>
          {parent.data && (
            <>
              <br />
              {t('grid.community')}：{parent.data.name}
            </>
          )}
        </Typography.Paragraph>

        <h4 className="map-side-title">{t('grid.counts')}</h4>
        {can(me, 'region.stats') ? (
          <QueryState query={stats} rows={2}>
            {(s) => (
              <div className="map-stats" data-testid="grid-counts">
                <Stat label={t('grid.openCases')} value={s.counts.openCases} />
                <Stat label={t('grid.overdueCases')} value={s.counts.overdueCases} danger />
                <Stat label={t('grid.workers')} value={s.counts.workers} />
                <Stat label={t('grid.users')} value={s.counts.users} />
              </div>
            )}
          </QueryState>
        ) : (
          <Typography.Text type="secondary">{t('grid.noPermission')}</Typography.Text>
        )}

        <h4 className="map-side-title" style={{ marginTop: 20 }}>
          {t('grid.workers')}
        </h4>
        {can(me, 'user.read') ? (
          <QueryState
            query={workers}
            rows={2}
            isEmpty={(d) => d.items.length === 0}
            empty={<EmptyState description={t('grid.workersEmpty')} />}
          >
            {(d) => (
              <div className="map-person-list" data-testid="grid-workers">
                {d.items.map((u) => (
                  <Tag key={u.id} style={{ padding: '4px 8px', fontSize: 13 }}>
                    <Avatar
                      size={20}
                      icon={<UserOutlined />}
                      style={{ marginInlineEnd: 6, background: '#8e1515' }}
                    />
                    {u.displayName}
                    {u.status !== 'active' && (
                      <Typography.Text type="secondary"> · {u.status}</Typography.Text>
                    )}
                  </Tag>
                ))}
              </div>
            )}
          </QueryState>
        ) : (
          <Typography.Text type="secondary">{t('grid.noPermission')}</Typography.Text>
        )}

        <h4 className="map-side-title" style={{ marginTop: 20 }}>
          {t('grid.cases')}
          {cases.data && <Tag>{cases.data.total}</Tag>}
        </h4>
        {can(me, 'case.read') ? (
          <QueryState
            query={cases}
            rows={4}
            isEmpty={(d) => d.items.length === 0}
            empty={<EmptyState description={t('grid.casesEmpty')} />}
          >
            {(d) => (
              <>
                <ul className="map-case-list" data-testid="grid-cases">
                  {d.items.map((c) => (
                    <li key={c.id}>
                      <Link to={`/cases/${c.id}`}>
                        <span className="map-popup-serial">{c.serial}</span>
                        <div className="map-popup-title">{c.title}</div>
                      </Link>
                      <div className="map-popup-meta">
                        <Tag color="blue">{t(`common:status.${c.status}`)}</Tag>
                        {c.overdue && <Tag color="red">{t('common:overdue')}</Tag>}
                        {c.urgent && <Tag color="orange">{t('common:urgent')}</Tag>}
                        {c.supervision !== 'none' && (
                          <Tag
                            color={
                              c.supervision === 'red' ? 'red' : c.supervision === 'yellow' ? 'gold' : 'purple'
                            }
                          >
                            {t(`common:supervision.${c.supervision}`)}
                          </Tag>
                        )}
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {t('popup.reportedAt', { time: dayjs(c.reportedAt).format('YYYY-MM-DD HH:mm') })}
                        </Typography.Text>
                      </div>
                    </li>
                  ))}
                </ul>
                {d.total > d.items.length && (
                  <Typography.Text type="secondary">
                    {t('grid.casesMore', { count: d.items.length })}
                  </Typography.Text>
                )}
              </>
            )}
          </QueryState>
        ) : (
          <Typography.Text type="secondary">{t('grid.noPermission')}</Typography.Text>
        )}
      </div>
    </Drawer>
  );
}

export function Stat({ label, value, danger }: { label: string; value: number | string; danger?: boolean }) {
  return (
    <div className="map-stat">
      <div className="map-stat-label">{label}</div>
      <div className={`map-stat-value ${danger && Number(value) > 0 ? 'is-danger' : ''}`}>{value}</div>
    </div>
  );
}
