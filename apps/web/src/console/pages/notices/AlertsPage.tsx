import { PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import type { AlertSummary } from '@wangge/contracts';
import { Button, Card, Progress, Segmented, Space, Table, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader } from '../admin/common.tsx';
import { fallbackInterval, useNoticeLive } from './live.ts';
import { AlertKindTag, AlertStateTag, formatTime, LiveBadge, RegionName } from './ui.tsx';

const statuses = ['open', 'closed', 'all'] as const;
type Status = (typeof statuses)[number];

/** 紧急协查 (`/alerts?status=`): open alerts first, each with its grids' acknowledgements and sightings, live. */
export default function AlertsPage() {
  const { t } = useTranslation('notices');
  const me = useMe();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const live = useNoticeLive();
  const status: Status = (statuses as readonly string[]).includes(params.get('status') ?? '')
    ? (params.get('status') as Status)
    : 'open';
  const alerts = useQuery({
    queryKey: ['alerts', status],
    queryFn: () => api.alerts({ query: { status } }),
    refetchInterval: fallbackInterval(live),
  });
  if (!can(me, 'notice.read')) return <Forbidden />;
  return (
    <div data-testid="alerts-page">
      <PageHeader
        title={t('alerts.title')}
        intro={t('alerts.intro')}
        extra={
          <Space>
            <LiveBadge state={live} />
            {can(me, 'notice.send') && (
              <Button
                type="primary"
                danger
                icon={<PlusOutlined />}
                onClick={() => void navigate('/alerts/new')}
                data-testid="alert-create"
              >
                {t('alerts.create')}
              </Button>
            )}
          </Space>
        }
      />
      <Card size="small">
        <Segmented
          value={status}
          onChange={(v) => setParams(v === 'open' ? {} : { status: String(v) })}
          options={statuses.map((s) => ({ value: s, label: t(`alerts.status.${s}`) }))}
          style={{ marginBottom: 12 }}
        />
        <QueryState
          query={alerts}
          rows={6}
          isEmpty={(d) => d.items.length === 0}
          empty={<EmptyState description={status === 'open' ? t('alerts.noneOpen') : t('alerts.none')} />}
        >
          {(d) => (
            <Table<AlertSummary>
              size="middle"
              rowKey="id"
              data-testid="alerts-table"
              dataSource={d.items}
              pagination={d.items.length > 20 ? { pageSize: 20, showSizeChanger: false } : false}
              onRow={(a) => ({
                onClick: () => void navigate(`/alerts/${a.id}`),
                style: { cursor: 'pointer' },
              })}
              columns={[
                { title: '', key: 'kind', width: 100, render: (_, a) => <AlertKindTag kind={a.kind} /> },
                {
                  title: t('alertForm.fieldTitle'),
                  dataIndex: 'title',
                  render: (title: string, a) => (
                    <Link
                      to={`/alerts/${a.id}`}
                      onClick={(e) => e.stopPropagation()}
                      data-testid="alert-link"
                    >
                      {title}
                    </Link>
                  ),
                },
                {
                  title: t('alerts.region'),
                  key: 'region',
                  render: (_, a) => <RegionName code={a.regionCode} />,
                },
                {
                  title: t('alerts.acknowledged'),
                  key: 'ack',
                  width: 200,
                  render: (_, a) => (
                    <div>
                      <Progress
                        size="small"
                        percent={a.gridCount ? Math.round((a.acknowledgedCount / a.gridCount) * 100) : 0}
                        format={() => `${a.acknowledgedCount}/${a.gridCount}`}
                      />
                    </div>
                  ),
                },
                { title: t('alerts.sightings'), dataIndex: 'sightingCount', width: 80, align: 'right' },
                {
                  title: t('alerts.createdAt'),
                  key: 'at',
                  width: 150,
                  render: (_, a) => (
                    <Typography.Text style={{ whiteSpace: 'nowrap' }}>
                      {formatTime(a.createdAt)}
                    </Typography.Text>
                  ),
                },
                {
                  title: t('alerts.state'),
                  key: 'state',
                  width: 100,
                  render: (_, a) => <AlertStateTag alert={a} />,
                },
              ]}
            />
          )}
        </QueryState>
      </Card>
    </div>
  );
}
