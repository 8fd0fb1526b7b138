import { PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import type { QueueBucket, QueueItem, QueueQuery } from '@wangge/contracts';
import {
  App,
  Badge,
  Button,
  Card,
  Input,
  Space,
  Switch,
  Table,
  Tabs,
  Tag,
  Tooltip,
  TreeSelect,
  Typography,
} from 'antd';
import type { TableColumnsType } from 'antd';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, ApiError } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, LoadError, Loading } from '../../shared/states.tsx';
import { useCaseEvents } from '../../shared/stream.ts';
import {
  categoryTree,
  DueCell,
  filterCategoryNode,
  formatTime,
  nameOf,
  OverdueTag,
  StatusTag,
  SupervisionTag,
  taxonomyNames,
  UrgentTag,
  useTaxonomy,
} from './caseUi.tsx';

/** How long a row that just changed stays highlighted. */
const highlightMs = 15_000;
const pageSize = 30;

/**
 * 我的工作: the queues of the signed-in user's roles (待核实, 待立案, 待派遣, 待报到, 待核查, 超期…) as tabs with
 * counts, the selected queue as a table. Bucket and filters live in the URL; the SSE stream refreshes the queries
 * (keys start with 'queue') and new cases flash for a moment.
 */
export default function WorkbenchPage() {
  const { t, i18n } = useTranslation('workbench');
  const me = useMe();
  const navigate = useNavigate();
  const { notification } = App.useApp();
  const [params, setParams] = useSearchParams();
  const bucketParam = params.get('bucket') as QueueBucket | null;
  const q = params.get('q') ?? '';
  const category = params.get('category') ?? undefined;
  const urgent = params.get('urgent') === '1';
  const [searchText, setSearchText] = useState(q);
  const [highlight, setHighlight] = useState<Map<number, 'new' | 'updated'>>(new Map());
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());

  const taxonomy = useTaxonomy();
  const names = useMemo(() => taxonomyNames(taxonomy.data), [taxonomy.data]);
  const tree = useMemo(
    () => categoryTree(taxonomy.data, i18n.language, { categoriesSelectable: true }),
    [taxonomy.data, i18n.language],
  );

  const filters: Partial<QueueQuery> = {
    ...(bucketParam ? { bucket: bucketParam } : {}),
    ...(q ? { q } : {}),
    ...(category ? { categoryCode: category } : {}),
    ...(urgent ? { urgent: '1' as const } : {}),
  };
  const queue = useInfiniteQuery({
    queryKey: ['queue', 'mine', filters],
    queryFn: ({ pageParam, signal }) =>
      api.queue(
        { query: { ...filters, limit: pageSize, ...(pageParam ? { cursor: pageParam } : {}) } },
        { signal },
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    placeholderData: keepPreviousData,
    // The stream is the live path; a slow poll is the backstop when a proxy drops it.
    refetchInterval: 60_000,
  });

  // A bucket this user does not have (an old link, another role's URL) answers 400: fall back to the default one.
  const badBucket = !!bucketParam && queue.error instanceof ApiError && queue.error.status === 400;
  useEffect(() => {
    if (badBucket) setParam({ bucket: undefined });
  }, [badBucket]);

  const first = queue.data?.pages[0];
  const bucket = bucketParam ?? first?.bucket ?? null;
  const items = useMemo(() => queue.data?.pages.flatMap((p) => p.items) ?? [], [queue.data]);

  function mark(id: number, kind: 'new' | 'updated') {
    setHighlight((m) => new Map(m).set(id, kind));
    const old = timers.current.get(id);
    if (old) clearTimeout(old);
    timers.current.set(
      id,
      setTimeout(() => {
        setHighlight((m) => {
          const next = new Map(m);
          next.delete(id);
          return next;
        });
        timers.current.delete(id);
      }, highlightMs),
    );
  }

  useCaseEvents((event) => {
    const isNew = event.topic === 'case.created';
    mark(event.caseId, isNew ? 'new' : 'updated');
    if (isNew)
      notification.info({
        key: `case-${event.caseId}`,
        title: t('workbench.newArrived'),
        description: t('workbench.newArrivedBody', { serial: event.serial }),
        placement: 'bottomRight',
        duration: 6,
        actions: (
          <Button size="small" type="primary" onClick={() => void navigate(`/cases/${event.caseId}`)}>
            {t('workbench.open')}
          </Button>
        ),
      });
  });

  function setParam(next: Record<string, string | undefined>) {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next)) {
      if (v === undefined || v === '') p.delete(k);
      else p.set(k, v);
    }
    setParams(p, { replace: true });
  }

  const columns: TableColumnsType<QueueItem> = [
    {
      title: t('col.serial'),
      dataIndex: 'serial',
      width: 175,
      render: (serial: string, row) => (
        <div style={{ lineHeight: 1.4 }}>
          <Link to={`/cases/${row.id}`} onClick={(e) => e.stopPropagation()}>
            {serial}
          </Link>
          <div style={{ fontSize: 12, color: '#8c8c8c' }}>
            {formatTime(row.reportedAt)}
            {highlight.get(row.id) === 'new' && (
              <Tag color="red" style={{ marginInlineStart: 6, fontSize: 11, lineHeight: '16px' }}>
                {t('tag.new')}
              </Tag>
            )}
          </div>
        </div>
      ),
    },
    {
      title: t('col.title'),
      dataIndex: 'title',
      ellipsis: true,
      render: (title: string) => <span title={title}>{title}</span>,
    },
    {
      title: t('col.category'),
      dataIndex: 'categoryCode',
      width: 150,
      ellipsis: true,
      render: (code: string) => nameOf(names, code, i18n.language),
    },
    {
      title: t('col.status'),
      dataIndex: 'status',
      width: 90,
      render: (_: unknown, row) => <StatusTag status={row.status} />,
    },
    {
      title: t('col.channel'),
      dataIndex: 'channel',
      width: 100,
      render: (channel: string) => t(`common:channel.${channel}`),
    },
    {
      title: t('col.grid'),
      dataIndex: 'gridName',
      width: 150,
      render: (name: string, row) => (
        <Tooltip title={row.gridCode}>
          <Typography.Text>{name}</Typography.Text>
        </Tooltip>
      ),
    },
    {
      title: t('col.due'),
      dataIndex: 'dueAt',
      width: 180,
      render: (_: unknown, row) => <DueCell dueAt={row.dueAt} overdue={row.overdue} />,
    },
    {
      title: t('col.flags'),
      key: 'flags',
      width: 120,
      render: (_: unknown, row) => (
        <Space size={2} wrap>
          <SupervisionTag level={row.supervision} />
          {row.urgent && <UrgentTag />}
          {row.overdue && <OverdueTag />}
        </Space>
      ),
    },
  ];

  const filtered = !!(q || category || urgent);
  const header = (
    <div style={{ display: 'flex', alignItems: 'flex-start', justifyContent: 'space-between', gap: 16 }}>
      <div>
        <Typography.Title level={3} className="page-title" style={{ marginBottom: 0 }}>
          {t('workbench.title')}
        </Typography.Title>
        <Typography.Text type="secondary">{t('workbench.subtitle')}</Typography.Text>
      </div>
      <Space>
        <Button
          icon={<ReloadOutlined />}
          onClick={() => void queue.refetch()}
          aria-label={t('workbench.reload')}
          title={t('workbench.reload')}
        />
        {can(me, 'case.report') &&
          me.roles.some((r) => ['hotline_operator', 'centre_operator', 'admin'].includes(r.role)) && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => void navigate('/cases/new')}>
              {t('workbench.newCase')}
            </Button>
          )}
      </Space>
    </div>
  );

  let body;
  if (queue.isPending) body = <Loading rows={8} />;
  else if (queue.isError && !queue.data)
    body = <LoadError error={queue.error} onRetry={() => void queue.refetch()} />;
  else if (first && first.buckets.length === 0) body = <EmptyState description={t('workbench.noBuckets')} />;
  else
    body = (
      <>
        <Tabs
          activeKey={bucket ?? undefined}
          onChange={(key) => setParam({ bucket: key })}
          items={(first?.buckets ?? []).map((b) => ({
            key: b.key,
            label: (
              <span data-testid={`bucket-${b.key}`}>
                {i18n.language === 'en' ? b.label_en : b.label_zh}{' '}
                <Badge
                  count={b.count}
                  showZero
                  overflowCount={999}
                  color={b.key === 'overdue' && b.count > 0 ? '#cf1322' : b.count > 0 ? '#1677ff' : '#bfbfbf'}
                />
              </span>
            ),
          }))}
        />
        <Space wrap style={{ marginBottom: 12 }}>
          <Input.Search
            allowClear
            aria-label={t('workbench.searchLabel')}
            placeholder={t('workbench.search')}
            value={searchText}
            onChange={(e) => {
              setSearchText(e.target.value);
              if (!e.target.value) setParam({ q: undefined });
            }}
            onSearch={(value) => setParam({ q: value.trim() || undefined })}
            style={{ width: 300 }}
          />
          <TreeSelect
            aria-label={t('workbench.category')}
            allowClear
            placeholder={t('workbench.categoryAll')}
            treeData={tree}
            value={category}
            onChange={(v: string | undefined) => setParam({ category: v })}
            showSearch={{ filterTreeNode: filterCategoryNode }}
            style={{ width: 240 }}
            popupMatchSelectWidth={320}
            loading={taxonomy.isPending}
          />
          <Space size={6}>
            <Switch
              id="urgent-only"
              size="small"
              checked={urgent}
              onChange={(v) => setParam({ urgent: v ? '1' : undefined })}
            />
            <label htmlFor="urgent-only">{t('workbench.urgentOnly')}</label>
          </Space>
          {filtered && (
            <Button
              type="link"
              onClick={() => {
                setSearchText('');
                setParam({ q: undefined, category: undefined, urgent: undefined });
              }}
            >
              {t('workbench.reset')}
            </Button>
          )}
        </Space>
        {queue.isError && <LoadError error={queue.error} onRetry={() => void queue.refetch()} />}
        <Table<QueueItem>
          data-testid="queue-table"
          rowKey="id"
          size="middle"
          columns={columns}
          dataSource={items}
          loading={queue.isFetching && !queue.isFetchingNextPage && queue.isPlaceholderData}
          pagination={false}
          scroll={{ x: 1100 }}
          rowClassName={(row) => {
            const h = highlight.get(row.id);
            return h ? `queue-row queue-row-${h}` : 'queue-row';
          }}
          onRow={(row) => ({
            onClick: () => void navigate(`/cases/${row.id}`),
            style: { cursor: 'pointer' },
          })}
          locale={{
            emptyText: (
              <EmptyState
                description={
                  filtered ? t('workbench.filteredEmpty') : bucket ? t(`buckets.${bucket}`) : undefined
                }
              />
            ),
          }}
        />
        {items.length > 0 && (
          <div style={{ textAlign: 'center', marginTop: 12 }}>
            {queue.hasNextPage ? (
              <Button onClick={() => void queue.fetchNextPage()} loading={queue.isFetchingNextPage}>
                {t('workbench.loadMore')}
              </Button>
            ) : (
              <Typography.Text type="secondary">
                {t('workbench.loadedAll', { count: items.length })}
              </Typography.Text>
            )}
          </div>
        )}
      </>
    );

  return (
    <div>
      <style>{`
        .queue-row-new > td { animation: queue-flash 2.5s ease-out 3; background: #fff1f0; }
        .queue-row-updated > td { background: #e6f4ff; }
        @keyframes queue-flash { 0% { background: #ffccc7; } 100% { background: #fff1f0; } }
      `}</style>
      <Card>
        {header}
        <div style={{ marginTop: 12 }}>{body}</div>
      </Card>
    </div>
  );
}
