import { ArrowLeftOutlined, CheckCircleFilled, ClockCircleOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import type { NoticeStats } from '@wangge/contracts';
import { Alert, Card, Col, Image, Progress, Row, Space, Statistic, Table, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { NotFoundResult, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader } from '../admin/common.tsx';
import { fallbackInterval, useNoticeLive } from './live.ts';
import { formatTime, LiveBadge, NoticeDocumentLinks, TargetText } from './ui.tsx';
import { noticeImageUrl } from './uploads.ts';

type GridRow = NoticeStats['byGrid'][number];

const percent = (done: number, total: number) => (total === 0 ? 0 : Math.round((done / total) * 1000) / 10);

/** Not relayed first, then the grid that has waited longest since a reminder, then by name. */
export function relayOrder(a: GridRow, b: GridRow): number {
  if (!a.acknowledgedAt !== !b.acknowledgedAt) return a.acknowledgedAt ? 1 : -1;
  if (a.acknowledgedAt && b.acknowledgedAt) return a.acknowledgedAt.localeCompare(b.acknowledgedAt);
  return a.gridName.localeCompare(b.gridName, 'zh-CN') || a.gridCode.localeCompare(b.gridCode);
}

/**
 * A notice's live statistics (`/notices/:id`): recipients delivered and read, grids relayed (已转达) with a table
 * per grid, not relayed first, and the reminders and escalations sent. Every relay arrives on the stream and
 * refreshes the numbers without a reload (polling when the stream is down).
 */
export default function NoticeStatsPage() {
  const { t } = useTranslation('notices');
  const me = useMe();
  const id = Number(useParams().id);
  const live = useNoticeLive();
  const valid = Number.isInteger(id) && id > 0;
  const notice = useQuery({
    queryKey: ['notices', 'one', id],
    queryFn: () => api.notice({ params: { id } }),
    enabled: valid,
  });
  const stats = useQuery({
    queryKey: ['noticeStats', id],
    queryFn: () => api.noticeStats({ params: { id } }),
    enabled: valid && can(me, 'notice.send'),
    refetchInterval: fallbackInterval(live),
  });
  if (!can(me, 'notice.send')) return <Forbidden />;
  if (!valid) return <NotFoundResult />;
  return (
    <div data-testid="notice-stats-page">
      <Link to="/notices?tab=sent">
        <Space size={4}>
          <ArrowLeftOutlined />
          {t('stats.back')}
        </Space>
      </Link>
      <QueryState query={notice} rows={3}>
        {(n) => (
          <>
            <PageHeader
              title={n.title}
              extra={
                <Space>
                  <Tag color={n.status === 'published' ? 'blue' : 'default'}>{t(`status.${n.status}`)}</Tag>
                  <LiveBadge state={live} />
                </Space>
              }
            />
            <Typography.Paragraph type="secondary" style={{ marginTop: -4 }}>
              {t('list.target')}：<TargetText target={n.target} /> · {t('list.publishedAt')}：
              {formatTime(n.publishedAt ?? n.publishAt)} ·{' '}
              {n.remindAfterMinutes
                ? t('stats.remindEvery', { minutes: n.remindAfterMinutes })
                : t('stats.noRemind')}
            </Typography.Paragraph>
            <Card size="small" title={t('stats.body')} style={{ marginBottom: 16 }}>
              <Typography.Paragraph
                style={{ whiteSpace: 'pre-wrap', marginBottom: n.attachments.length ? 12 : 0 }}
                ellipsis={{ rows: 3, expandable: true }}
              >
                {n.body}
              </Typography.Paragraph>
              {n.attachments.some((a) => a.kind === 'image') && (
                <Image.PreviewGroup>
                  <Space wrap>
                    {n.attachments
                      .filter((a) => a.kind === 'image')
                      .map((a) => (
                        <Image
                          key={a.id}
                          width={96}
                          height={72}
                          style={{ objectFit: 'cover', borderRadius: 4 }}
                          src={noticeImageUrl(n.id, a.id)}
                          alt={`${t('list.attachments')} ${a.id}`}
                          data-testid="notice-attachment"
                        />
                      ))}
                  </Space>
                </Image.PreviewGroup>
              )}
              <NoticeDocumentLinks notice={n} />
            </Card>
            {n.status === 'scheduled' && (
              <Alert
                type="info"
                showIcon
                style={{ marginBottom: 16 }}
                title={t('stats.scheduledNote', { at: formatTime(n.publishAt) })}
              />
            )}
          </>
        )}
      </QueryState>
      <QueryState query={stats} rows={8}>
        {(s) => <StatsBody stats={s} />}
      </QueryState>
    </div>
  );
}

function StatsBody({ stats }: { stats: NoticeStats }) {
  const { t } = useTranslation('notices');
  const rows = [...stats.byGrid].sort(relayOrder);
  const cards = [
    { key: 'grids', title: t('stats.grids'), done: stats.acknowledged, total: stats.grids },
    { key: 'delivered', title: t('stats.delivered'), done: stats.delivered, total: stats.recipients },
    { key: 'read', title: t('stats.read'), done: stats.read, total: stats.recipients },
  ];
  return (
    <>
      <Row gutter={16} style={{ marginBottom: 16 }}>
        {cards.map((c) => (
          <Col key={c.key} xs={24} md={8}>
            <Card size="small" data-testid={`stat-${c.key}`}>
              <Statistic
                title={c.title}
                value={c.done}
                suffix={`/ ${c.total}`}
                styles={{ content: { fontSize: 26 } }}
              />
              <Progress
                percent={percent(c.done, c.total)}
                size="small"
                status={c.total > 0 && c.done === c.total ? 'success' : 'active'}
                aria-label={`${c.title} ${t('stats.of', { done: c.done, total: c.total })}`}
              />
            </Card>
          </Col>
        ))}
      </Row>
      <Card
        size="small"
        title={
          <Space orientation="vertical" size={0}>
            <span>{t('stats.byGrid')}</span>
            <Typography.Text type="secondary" style={{ fontSize: 12, fontWeight: 'normal' }}>
              {t('stats.byGridHelp')}
            </Typography.Text>
          </Space>
        }
      >
        <Table<GridRow>
          size="small"
          rowKey="gridCode"
          data-testid="notice-grid-table"
          dataSource={rows}
          locale={{ emptyText: t('stats.noGrids') }}
          pagination={rows.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
          onRow={(r) => ({ 'data-grid': r.gridCode, 'data-relayed': String(!!r.acknowledgedAt) }) as never}
          columns={[
            { title: t('stats.grid'), dataIndex: 'gridName' },
            { title: t('stats.code'), dataIndex: 'gridCode', width: 150 },
            {
              title: t('stats.relay'),
              key: 'relay',
              width: 200,
              render: (_, r) =>
                r.acknowledgedAt ? (
                  <Tag color="success" icon={<CheckCircleFilled />} data-testid="grid-relayed">
                    {t('stats.relayedAt', { at: formatTime(r.acknowledgedAt) })}
                  </Tag>
                ) : (
                  <Tag color="error" icon={<ClockCircleOutlined />} data-testid="grid-not-relayed">
                    {t('stats.notRelayed')}
                  </Tag>
                ),
            },
            {
              title: t('stats.follow'),
              key: 'follow',
              render: (_, r) => {
                const steps = [
                  r.remindedAt && `${t('stats.reminded')} ${formatTime(r.remindedAt)}`,
                  r.escalatedLeaderAt && `${t('stats.escalatedLeader')} ${formatTime(r.escalatedLeaderAt)}`,
                  r.escalatedCommunityAt &&
                    `${t('stats.escalatedCommunity')} ${formatTime(r.escalatedCommunityAt)}`,
                ].filter(Boolean) as string[];
                return steps.length ? (
                  <Space orientation="vertical" size={0}>
                    {steps.map((s) => (
                      <Typography.Text key={s} type="warning" style={{ fontSize: 12 }}>
                        {s}
                      </Typography.Text>
                    ))}
                  </Space>
                ) : (
                  <Typography.Text type="secondary">{t('stats.none')}</Typography.Text>
                );
              },
            },
          ]}
        />
      </Card>
    </>
  );
}
