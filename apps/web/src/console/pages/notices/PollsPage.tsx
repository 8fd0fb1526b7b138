import { BarChartOutlined, PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import type { StaffPoll } from '@wangge/contracts';
import { Button, Card, Progress, Table, Tabs, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader } from '../admin/common.tsx';
import { formatTime } from './ui.tsx';

type Status = 'all' | 'open' | 'closed';
const statuses: Status[] = ['all', 'open', 'closed'];

export function PollStateTag({ poll }: { poll: Pick<StaffPoll, 'open'> }) {
  const { t } = useTranslation('notices');
  return (
    <Tag color={poll.open ? 'processing' : 'default'} data-testid="poll-state">
      {poll.open ? t('polls.open') : t('polls.closed')}
    </Tag>
  );
}

/** The leading option's share, as a thin bar in the list (the detail page has every option). */
function Leading({ poll }: { poll: StaffPoll }) {
  const { t } = useTranslation('notices');
  if (poll.total === 0) return <>{t('polls.votes', { count: 0 })}</>;
  const best = poll.counts.indexOf(Math.max(...poll.counts));
  return (
    <div style={{ minWidth: 180 }}>
      <div style={{ fontSize: 12 }}>
        {poll.options[best]} · {t('polls.votes', { count: poll.counts[best] })}
      </div>
      <Progress
        percent={Math.round((poll.counts[best]! / poll.total) * 100)}
        size="small"
        aria-label={poll.options[best]}
      />
    </div>
  );
}

/**
 * 投票 (`/polls?status=all|open|closed`): the polls of the caller's area, newest first, with their vote totals; a
 * centre creates one for the residents of an area and follows the results on its page.
 */
export default function PollsPage() {
  const { t } = useTranslation('notices');
  const me = useMe();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const raw = params.get('status');
  const status: Status = statuses.includes(raw as Status) ? (raw as Status) : 'all';
  const polls = useQuery({
    queryKey: ['polls', status],
    queryFn: () => api.polls({ query: { status } }),
    refetchInterval: 30_000,
    enabled: can(me, 'notice.send'),
  });
  if (!can(me, 'notice.send')) return <Forbidden />;
  return (
    <div data-testid="polls-page">
      <PageHeader
        title={t('polls.title')}
        intro={t('polls.intro')}
        extra={
          <Button
            type="primary"
            icon={<PlusOutlined />}
            onClick={() => void navigate('/polls/new')}
            data-testid="poll-create"
          >
            {t('polls.create')}
          </Button>
        }
      />
      <Card size="small">
        <Tabs
          activeKey={status}
          onChange={(key) => setParams(key === 'all' ? {} : { status: key })}
          items={statuses.map((s) => ({ key: s, label: t(`polls.tabs.${s}`) }))}
        />
        <QueryState
          query={polls}
          rows={6}
          isEmpty={(d) => d.items.length === 0}
          empty={
            <EmptyState description={t('polls.none')}>
              <Link to="/polls/new">
                <Button type="primary" icon={<PlusOutlined />}>
                  {t('polls.create')}
                </Button>
              </Link>
            </EmptyState>
          }
        >
          {(d) => (
            <Table<StaffPoll>
              size="middle"
              rowKey="id"
              data-testid="polls-table"
              dataSource={d.items}
              pagination={d.items.length > 20 ? { pageSize: 20, showSizeChanger: false } : false}
              columns={[
                {
                  title: t('polls.question'),
                  dataIndex: 'question',
                  render: (question: string, p) => (
                    <Link to={`/polls/${p.id}`} data-testid="poll-question">
                      {question}
                    </Link>
                  ),
                },
                { title: t('polls.region'), dataIndex: 'regionName', width: 140 },
                {
                  title: t('polls.status'),
                  key: 'status',
                  width: 90,
                  render: (_, p) => <PollStateTag poll={p} />,
                },
                {
                  title: t('polls.openUntil'),
                  key: 'until',
                  width: 160,
                  render: (_, p) => formatTime(p.closedAt ?? p.openUntil),
                },
                { title: t('polls.total'), dataIndex: 'total', width: 70, align: 'right' },
                { title: t('polls.results'), key: 'leading', render: (_, p) => <Leading poll={p} /> },
                {
                  title: '',
                  key: 'view',
                  width: 120,
                  render: (_, p) => (
                    <Link to={`/polls/${p.id}`}>
                      <Button size="small" icon={<BarChartOutlined />}>
                        {t('polls.view')}
                      </Button>
                    </Link>
                  ),
                },
              ]}
            />
          )}
        </QueryState>
      </Card>
    </div>
  );
}
