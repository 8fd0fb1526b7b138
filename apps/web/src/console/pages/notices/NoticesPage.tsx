import { BarChartOutlined, CheckOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Notice } from '@wangge/contracts';
import { App as AntApp, Badge, Button, Card, Drawer, Image, Space, Table, Tabs, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, errorMessage } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader } from '../admin/common.tsx';
import { fallbackInterval, useNoticeLive } from './live.ts';
import { formatTime, LiveBadge, NoticeDocumentLinks, RegionName, TargetText } from './ui.tsx';
import { noticeImageUrl } from './uploads.ts';

type MyNotice = Awaited<ReturnType<typeof api.myNotices>>['items'][number];

/**
 * 通知公告 (`/notices?tab=mine|sent`): the notices I received, unread first (opening one marks it read; a grid
 * worker confirms 已转达 for each of their grids), and for senders the notices sent in their scope, each with its
 * live relay statistics.
 */
export default function NoticesPage() {
  const { t } = useTranslation('notices');
  const me = useMe();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const live = useNoticeLive();
  const sender = can(me, 'notice.send');
  const tab = params.get('tab') === 'sent' && sender ? 'sent' : 'mine';
  const mine = useQuery({
    queryKey: ['notices', 'mine'],
    queryFn: () => api.myNotices({}),
    refetchInterval: fallbackInterval(live),
  });
  if (!can(me, 'notice.read')) return <Forbidden />;
  return (
    <div data-testid="notices-page">
      <PageHeader
        title={t('list.title')}
        intro={t('list.intro')}
        extra={
          <Space>
            <LiveBadge state={live} />
            {sender && (
              <Button
                type="primary"
                icon={<PlusOutlined />}
                onClick={() => void navigate('/notices/new')}
                data-testid="notice-compose"
              >
                {t('list.compose')}
              </Button>
            )}
          </Space>
        }
      />
      <Card size="small">
        <Tabs
          activeKey={tab}
          onChange={(key) => setParams(key === 'sent' ? { tab: 'sent' } : {})}
          items={[
            {
              key: 'mine',
              label: (
                <Space size={6}>
                  {t('list.mine')}
                  {!!mine.data?.unread && <Badge count={mine.data.unread} data-testid="notices-unread" />}
                </Space>
              ),
              children: <MyNotices query={mine} />,
            },
            ...(sender
              ? [{ key: 'sent', label: t('list.sent'), children: <SentNotices live={live} /> }]
              : []),
          ]}
        />
      </Card>
    </div>
  );
}

function MyNotices({
  query,
}: {
  query: ReturnType<typeof useQuery<Awaited<ReturnType<typeof api.myNotices>>>>;
}) {
  const { t } = useTranslation('notices');
  const [open, setOpen] = useState<MyNotice | null>(null);
  const queryClient = useQueryClient();
  const { message } = AntApp.useApp();
  const markRead = useMutation({
    mutationFn: (id: number) => api.notice({ params: { id } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['notices', 'mine'] }),
    onError: (e) => void message.error(errorMessage(e)),
  });
  return (
    <QueryState
      query={query}
      rows={6}
      isEmpty={(d) => d.items.length === 0}
      empty={<EmptyState description={t('list.noneMine')} />}
    >
      {(d) => (
        <>
          <Table<MyNotice>
            size="middle"
            rowKey="id"
            data-testid="my-notices"
            dataSource={d.items}
            pagination={d.items.length > 20 ? { pageSize: 20, showSizeChanger: false } : false}
            rowClassName={(n) => (n.readAt ? '' : 'notice-unread')}
            columns={[
              {
                title: t('list.status'),
                key: 'read',
                width: 90,
                render: (_, n) =>
                  n.readAt ? (
                    <Badge status="default" text={t('list.read')} />
                  ) : (
                    <Badge status="error" text={t('list.unread')} />
                  ),
              },
              {
                title: t('compose.fieldTitle'),
                dataIndex: 'title',
                render: (title: string, n) => (
                  <Space size={6} wrap>
                    <Typography.Link
                      strong={!n.readAt}
                      onClick={() => {
                        setOpen(n);
                        if (!n.readAt) markRead.mutate(n.id);
                      }}
                      data-testid="my-notice-title"
                    >
                      {title}
                    </Typography.Link>
                    {n.reason !== 'target' && <Tag color="orange">{t(`list.reason.${n.reason}`)}</Tag>}
                  </Space>
                ),
              },
              {
                title: t('list.publishedAt'),
                key: 'at',
                width: 160,
                render: (_, n) => formatTime(n.publishedAt ?? n.publishAt),
              },
              {
                title: t('list.myGrids'),
                key: 'grids',
                render: (_, n) => <RelayButtons notice={n} />,
              },
              {
                title: '',
                key: 'actions',
                width: 110,
                render: (_, n) =>
                  !n.readAt && (
                    <Button
                      size="small"
                      loading={markRead.isPending && markRead.variables === n.id}
                      onClick={() => markRead.mutate(n.id)}
                      data-testid="notice-mark-read"
                    >
                      {t('list.markRead')}
                    </Button>
                  ),
              },
            ]}
          />
          <NoticeDrawer notice={open} onClose={() => setOpen(null)} />
        </>
      )}
    </QueryState>
  );
}

/** 已转达: one button per grid of mine that received the notice; the time once relayed. */
function RelayButtons({ notice }: { notice: MyNotice }) {
  const { t } = useTranslation('notices');
  const me = useMe();
  const queryClient = useQueryClient();
  const { message } = AntApp.useApp();
  const relay = useMutation({
    mutationFn: (gridCode: string) =>
      api.acknowledgeNotice({ params: { id: notice.id }, body: { gridCode } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['notices'] }),
    onError: (e) => void message.error(errorMessage(e)),
  });
  if (notice.grids.length === 0) return <Typography.Text type="secondary">—</Typography.Text>;
  return (
    <Space size={4} wrap>
      {notice.grids.map((g) =>
        g.acknowledgedAt ? (
          <Tag
            key={g.gridCode}
            color="success"
            icon={<CheckOutlined />}
            title={t('list.relayedAt', { grid: g.gridCode, at: formatTime(g.acknowledgedAt) })}
          >
            <RegionName code={g.gridCode} /> {t('list.relayed')}
          </Tag>
        ) : can(me, 'notice.acknowledge') ? (
          <Button
            key={g.gridCode}
            size="small"
            type="primary"
            ghost
            loading={relay.isPending && relay.variables === g.gridCode}
            onClick={() => relay.mutate(g.gridCode)}
          >
            <RegionName code={g.gridCode} /> {t('list.relay')}
          </Button>
        ) : (
          <Tag key={g.gridCode} color="warning">
            <RegionName code={g.gridCode} /> {t('list.notRelayed')}
          </Tag>
        ),
      )}
    </Space>
  );
}

function NoticeDrawer({ notice, onClose }: { notice: Notice | null; onClose: () => void }) {
  const { t } = useTranslation('notices');
  return (
    <Drawer
      open={!!notice}
      onClose={onClose}
      title={notice?.title}
      size={560}
      closable={{ 'aria-label': t('list.close') }}
      data-testid="notice-drawer"
    >
      {notice && (
        <Space orientation="vertical" size={12} style={{ width: '100%' }}>
          <Typography.Text type="secondary">
            {t('list.publishedAt')}：{formatTime(notice.publishedAt ?? notice.publishAt)}
          </Typography.Text>
          <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', fontSize: 15 }}>
            {notice.body}
          </Typography.Paragraph>
          {notice.attachments.some((a) => a.kind === 'image') && (
            <Image.PreviewGroup>
              <Space wrap>
                {notice.attachments
                  .filter((a) => a.kind === 'image')
                  .map((a) => (
                    <Image
                      key={a.id}
                      width={150}
                      height={110}
                      style={{ objectFit: 'cover', borderRadius: 4 }}
                      src={noticeImageUrl(notice.id, a.id)}
                      alt={`${t('list.attachments')} ${a.id}`}
                    />
                  ))}
              </Space>
            </Image.PreviewGroup>
          )}
          <NoticeDocumentLinks notice={notice} />
        </Space>
      )}
    </Drawer>
  );
}

function SentNotices({ live }: { live: Parameters<typeof fallbackInterval>[0] }) {
  const { t } = useTranslation('notices');
  const sent = useQuery({
    queryKey: ['notices', 'sent'],
    queryFn: () => api.sentNotices({}),
    refetchInterval: fallbackInterval(live),
  });
  return (
    <QueryState
      query={sent}
      rows={6}
      isEmpty={(d) => d.items.length === 0}
      empty={
        <EmptyState description={t('list.noneSent')}>
          <Link to="/notices/new">
            <Button type="primary" icon={<PlusOutlined />}>
              {t('list.compose')}
            </Button>
          </Link>
        </EmptyState>
      }
    >
      {(d) => (
        <Table<Notice>
          size="middle"
          rowKey="id"
          data-testid="sent-notices"
          dataSource={d.items}
          pagination={d.items.length > 20 ? { pageSize: 20, showSizeChanger: false } : false}
          columns={[
            {
              title: t('compose.fieldTitle'),
              dataIndex: 'title',
              render: (title: string, n) => (
                <Link to={`/notices/${n.id}`} data-testid="sent-notice-title">
                  {title}
                </Link>
              ),
            },
            {
              title: t('list.target'),
              key: 'target',
              render: (_, n) => <TargetText target={n.target} />,
            },
            {
              title: t('list.status'),
              dataIndex: 'status',
              width: 100,
              render: (status: Notice['status']) => (
                <Tag color={status === 'published' ? 'blue' : 'default'}>{t(`status.${status}`)}</Tag>
              ),
            },
            {
              title: t('list.publishedAt'),
              key: 'at',
              width: 160,
              render: (_, n) => formatTime(n.publishedAt ?? n.publishAt),
            },
            { title: t('list.grids'), dataIndex: 'gridCount', width: 80, align: 'right' },
            { title: t('list.recipients'), dataIndex: 'recipientCount', width: 90, align: 'right' },
            {
              title: '',
              key: 'stats',
              width: 120,
              render: (_, n) => (
                <Link to={`/notices/${n.id}`}>
                  <Button size="small" icon={<BarChartOutlined />}>
                    {t('list.stats')}
                  </Button>
                </Link>
              ),
            },
          ]}
        />
      )}
    </QueryState>
  );
}
