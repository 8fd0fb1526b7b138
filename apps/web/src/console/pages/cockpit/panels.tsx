import { useQuery } from '@tanstack/react-query';
import type { CaseListItem, GridHeat, KpiGroup, KpiRate, KpiReport, KpiTrend } from '@wangge/contracts';
import { Card, Progress, Segmented, Space, Table, Tag, Tooltip, Typography } from 'antd';
import type { TableColumnsType } from 'antd';
import { lazy, Suspense, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../../api.ts';
import { EmptyState, Loading, QueryState } from '../../shared/states.tsx';
import { chinaTime, chinaToday, type Interval } from './period.ts';

// ECharts lives in its own chunk, fetched when the first chart is drawn.
const EChart = lazy(() => import('./EChart.tsx'));

export interface Filters {
  region: string;
  from: string;
  to: string;
}

function Chart(props: { option: Record<string, unknown>; height: number; label: string; testId: string }) {
  const { t } = useTranslation('cockpit');
  return (
    <Suspense
      fallback={
        <div style={{ height: props.height }} aria-label={t('chartLoading')}>
          <Loading rows={5} />
        </div>
      }
    >
      <EChart {...props} />
    </Suspense>
  );
}

export function percent(rate: KpiRate | null | undefined): string {
  if (!rate || rate.value === null) return '—';
  return `${(rate.value * 100).toFixed(2)}%`;
}

const rateSorter =
  (key: 'closureRate' | 'onTimeClosureRate' | 'reworkRate' | 'satisfactionRate') =>
  (a: KpiGroup, b: KpiGroup) =>
    (a.rates[key].value ?? -1) - (b.rates[key].value ?? -1);

// ---------------------------------------------------------------------------------------------------------------

export function TrendPanel({
  filters,
  interval,
  onInterval,
}: {
  filters: Filters;
  interval: Interval;
  onInterval: (interval: Interval) => void;
}) {
  const { t } = useTranslation('cockpit');
  const query = useQuery({
    queryKey: ['kpi', 'trend', filters.region, filters.from, filters.to, interval],
    queryFn: () => api.kpiTrend({ query: { ...filters, interval } }),
  });
  return (
    <Card
      size="small"
      title={t('trend.title')}
      extra={
        <Segmented<Interval>
          size="small"
          value={interval}
          onChange={onInterval}
          options={(['day', 'week', 'month'] as const).map((value) => ({
            value,
            label: t(`trend.interval.${value}`),
          }))}
        />
      }
    >
      <QueryState
        query={query}
        rows={6}
        isEmpty={(d: KpiTrend) => d.points.every((p) => !p.reported && !p.closed && !p.overdue)}
        empty={<EmptyState description={t('trend.empty')} />}
      >
        {(data) => <TrendChart data={data} />}
      </QueryState>
    </Card>
  );
}

function TrendChart({ data }: { data: KpiTrend }) {
  const { t } = useTranslation('cockpit');
  const option = useMemo(() => {
    const label = (bucket: string) => (data.interval === 'month' ? bucket.slice(0, 7) : bucket.slice(5));
    // Buckets that have not started yet (the rest of this month) have no figures, not zeros.
    const today = chinaToday();
    const series = (['reported', 'closed', 'overdue'] as const).map((key) => ({
      name: t(`trend.${key}`),
      type: 'line',
      showSymbol: data.points.length <= 31,
      areaStyle: key === 'reported' ? { opacity: 0.08 } : undefined,
      data: data.points.map((p) => (p.bucket > today ? null : p[key])),
    }));
    return {
      color: ['#1677ff', '#389e0d', '#cf1322'],
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: 'category', boundaryGap: false, data: data.points.map((p) => label(p.bucket)) },
      yAxis: { type: 'value', minInterval: 1 },
      series,
    };
  }, [data, t]);
  return <Chart option={option} height={280} label={t('trend.title')} testId="chart-trend" />;
}

// ---------------------------------------------------------------------------------------------------------------

export function CategoryPanel({ filters }: { filters: Filters }) {
  const { t } = useTranslation('cockpit');
  const query = useQuery({
    queryKey: ['kpi', 'report', filters.region, filters.from, filters.to, 'category'],
    queryFn: () => api.kpis({ query: { ...filters, by: 'category' } }),
  });
  return (
    <Card size="small" title={t('category.title')}>
      <QueryState
        query={query}
        rows={6}
        isEmpty={(d: KpiReport) => d.groups.every((g) => g.counts.accepted === 0)}
        empty={<EmptyState description={t('category.empty')} />}
      >
        {(data) => <CategoryChart groups={data.groups} />}
      </QueryState>
    </Card>
  );
}

function CategoryChart({ groups }: { groups: KpiGroup[] }) {
  const { t } = useTranslation('cockpit');
  const option = useMemo(() => {
    const top = [...groups]
      .filter((g) => g.counts.accepted > 0)
      .sort((a, b) => b.counts.accepted - a.counts.accepted)
      .slice(0, 10)
      .reverse();
    return {
      color: ['#b71c1c'],
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1, axisLabel: { show: false }, splitLine: { show: false } },
      yAxis: {
        type: 'category',
        data: top.map((g) => g.name ?? g.key ?? '—'),
        axisTick: { show: false },
        axisLabel: { width: 120, overflow: 'truncate' },
      },
      series: [
        {
          name: t('category.accepted'),
          type: 'bar',
          barMaxWidth: 18,
          label: { show: true, position: 'right' },
          data: top.map((g) => g.counts.accepted),
        },
      ],
    };
  }, [groups, t]);
  return <Chart option={option} height={280} label={t('category.title')} testId="chart-category" />;
}

// ---------------------------------------------------------------------------------------------------------------

export function DepartmentRanking({ filters }: { filters: Filters }) {
  const { t } = useTranslation('cockpit');
  const query = useQuery({
    queryKey: ['kpi', 'report', filters.region, filters.from, filters.to, 'department'],
    queryFn: () => api.kpis({ query: { ...filters, by: 'department' } }),
  });
  const rateColumn = (key: 'closureRate' | 'onTimeClosureRate' | 'reworkRate' | 'satisfactionRate') => ({
    title: t(`ranking.${key}`),
    key,
    align: 'right' as const,
    width: 120,
    sorter: rateSorter(key),
    render: (_: unknown, g: KpiGroup) => (
      <Tooltip title={`${g.rates[key].numerator} / ${g.rates[key].denominator}`}>
        {percent(g.rates[key])}
      </Tooltip>
    ),
  });
  const columns: TableColumnsType<KpiGroup & { rank: number }> = [
    { title: t('ranking.rank'), dataIndex: 'rank', width: 56, align: 'center' },
    {
      title: t('ranking.department'),
      key: 'name',
      ellipsis: true,
      render: (_, g) =>
        g.key === null ? (
          <Typography.Text type="secondary">{t('ranking.notDispatched')}</Typography.Text>
        ) : (
          g.name
        ),
    },
    {
      title: t('ranking.dueToClose'),
      key: 'dueToClose',
      align: 'right',
      width: 100,
      sorter: (a, b) => a.counts.dueToClose - b.counts.dueToClose,
      render: (_, g) => g.counts.dueToClose,
    },
    rateColumn('closureRate'),
    rateColumn('onTimeClosureRate'),
    rateColumn('reworkRate'),
    rateColumn('satisfactionRate'),
    {
      title: (
        <Tooltip title={t('ranking.scoreHint')}>
          <span>{t('ranking.score')}</span>
        </Tooltip>
      ),
      key: 'score',
      width: 220,
      defaultSortOrder: 'descend',
      sorter: (a, b) => (a.score ?? -1) - (b.score ?? -1),
      render: (_, g) =>
        g.score === null || g.score === undefined ? (
          '—'
        ) : (
          <Progress
            percent={g.score}
            size="small"
            status="normal"
            format={(p) => (p ?? 0).toFixed(2)}
            strokeColor={g.score >= 90 ? '#389e0d' : g.score >= 75 ? '#d48806' : '#cf1322'}
          />
        ),
    },
  ];
  return (
    <Card size="small" title={t('ranking.title')} data-testid="department-ranking">
      <QueryState
        query={query}
        rows={6}
        isEmpty={(d: KpiReport) =>
          d.groups.every((g) => g.counts.dueToClose === 0 && g.counts.accepted === 0)
        }
        empty={<EmptyState description={t('ranking.empty')} />}
      >
        {(data) => {
          const ranked = [...data.groups]
            .sort((a, b) => (b.score ?? -1) - (a.score ?? -1))
            .map((g, i) => ({ ...g, rank: i + 1 }));
          return (
            <Table
              size="small"
              rowKey={(g) => g.key ?? 'none'}
              columns={columns}
              dataSource={ranked}
              pagination={false}
              scroll={{ y: 300 }}
            />
          );
        }}
      </QueryState>
    </Card>
  );
}

// ---------------------------------------------------------------------------------------------------------------

function overdueFor(
  dueAt: string | null,
  now: number,
  t: (key: string, o?: Record<string, unknown>) => string,
) {
  if (!dueAt) return '—';
  const hours = Math.max(0, Math.floor((now - Date.parse(dueAt)) / 3_600_000));
  return hours >= 24
    ? t('overdue.days', { count: Math.floor(hours / 24) })
    : t('overdue.hours', { count: hours });
}

export function OverdueCases({ region }: { region: string }) {
  const { t } = useTranslation('cockpit');
  // The key starts with 'cases': the live stream refreshes it when any case changes.
  const query = useQuery({
    queryKey: ['cases', 'overdue', region],
    queryFn: () => api.cases({ query: { region, state: 'overdue', sort: 'due', limit: 20 } }),
  });
  const now = query.dataUpdatedAt || Date.now();
  const columns: TableColumnsType<CaseListItem> = [
    {
      title: t('overdue.serial'),
      dataIndex: 'serial',
      width: 170,
      render: (serial: string, c) => <Link to={`/cases/${c.id}`}>{serial}</Link>,
    },
    {
      title: t('overdue.caseTitle'),
      dataIndex: 'title',
      ellipsis: true,
      render: (title: string, c) => (
        <Space size={4}>
          {c.urgent && <Tag color="red">{t('common:urgent')}</Tag>}
          {c.supervision !== 'none' && (
            <Tag color={c.supervision === 'red' ? 'red' : c.supervision === 'yellow' ? 'gold' : 'blue'}>
              {t(`common:supervision.${c.supervision}`)}
            </Tag>
          )}
          <span title={title}>{title}</span>
        </Space>
      ),
    },
    {
      title: t('overdue.status'),
      dataIndex: 'status',
      width: 90,
      render: (status: string) => t(`common:status.${status}`),
    },
    { title: t('overdue.grid'), dataIndex: 'gridName', width: 160, ellipsis: true },
    {
      title: t('overdue.department'),
      dataIndex: 'leadDepartment',
      width: 180,
      ellipsis: true,
      render: (d: string | null) => d ?? '—',
    },
    {
      title: t('overdue.due'),
      key: 'due',
      width: 140,
      render: (_, c) => (c.dueAt ? chinaTime(c.dueAt) : '—'),
    },
    {
      title: t('overdue.overdueFor'),
      dataIndex: 'dueAt',
      width: 100,
      render: (dueAt: string | null) => (
        <Tooltip title={dueAt ? `${t('overdue.due')} ${chinaTime(dueAt)}` : undefined}>
          <Typography.Text type="danger">{overdueFor(dueAt, now, t)}</Typography.Text>
        </Tooltip>
      ),
    },
  ];
  return (
    <Card
      size="small"
      data-testid="overdue-cases"
      title={
        <Space>
          {t('overdue.title')}
          {query.data && (
            <Tag color={query.data.total ? 'red' : 'default'}>
              {query.data.totalCapped
                ? t('overdue.totalCapped', { count: query.data.total })
                : t('overdue.total', { count: query.data.total })}
            </Tag>
          )}
        </Space>
      }
    >
      <QueryState
        query={query}
        rows={6}
        isEmpty={(d) => d.items.length === 0}
        empty={<EmptyState description={t('overdue.empty')} />}
      >
        {(data) => (
          <Table
            size="small"
            rowKey="id"
            columns={columns}
            dataSource={data.items}
            pagination={false}
            scroll={{ y: 300 }}
          />
        )}
      </QueryState>
    </Card>
  );
}

// ---------------------------------------------------------------------------------------------------------------

export function GridHeatPanel({ filters }: { filters: Filters }) {
  const { t } = useTranslation('cockpit');
  const query = useQuery({
    queryKey: ['kpi', 'heat', filters.region, filters.from, filters.to],
    queryFn: () => api.gridHeat({ query: filters }),
  });
  return (
    <Card size="small" title={t('heat.title')}>
      <QueryState
        query={query}
        rows={8}
        isEmpty={(d: GridHeat) => d.items.every((g) => g.reported === 0)}
        empty={<EmptyState description={t('heat.empty')} />}
      >
        {(data) => <GridHeatView data={data} />}
      </QueryState>
    </Card>
  );
}

function GridHeatView({ data }: { data: GridHeat }) {
  const { t } = useTranslation('cockpit');
  const max = Math.max(1, ...data.items.map((g) => g.reported));
  const option = useMemo(() => {
    const points = data.items.map((g) => [g.point[0], g.point[1], g.reported, g.name, g.open, g.overdue]);
    return {
      tooltip: {
        formatter: (p: { data: [number, number, number, string, number, number] }) =>
          `${p.data[3]}<br/>${t('heat.reported')} ${p.data[2]} · ${t('heat.open')} ${p.data[4]} · ${t('heat.overdue')} ${p.data[5]}`,
      },
      grid: { left: 8, right: 70, top: 8, bottom: 8, containLabel: false },
      xAxis: { type: 'value', scale: true, show: false },
      yAxis: { type: 'value', scale: true, show: false },
      visualMap: {
        min: 0,
        max,
        dimension: 2,
        right: 0,
        bottom: 8,
        itemHeight: 120,
        calculable: true,
        inRange: { color: ['#fff1b8', '#ffa940', '#f5222d', '#820014'] },
      },
      series: [
        {
          name: t('heat.reported'),
          type: 'scatter',
          data: points,
          symbol: 'rect',
          symbolSize: (value: number[]) => 8 + 14 * Math.sqrt((value[2] ?? 0) / max),
          itemStyle: { borderColor: 'rgba(0,0,0,0.15)', borderWidth: 0.5 },
        },
      ],
    };
  }, [data, max, t]);
  const top = [...data.items].sort((a, b) => b.reported - a.reported).slice(0, 10);
  const columns: TableColumnsType<GridHeat['items'][number]> = [
    { title: '#', key: 'rank', width: 40, render: (_, __, i) => i + 1 },
    { title: t('heat.grid'), dataIndex: 'name', ellipsis: true },
    {
      title: t('heat.reported'),
      dataIndex: 'reported',
      width: 150,
      render: (n: number) => (
        <Progress
          percent={(n / max) * 100}
          size="small"
          status="normal"
          strokeColor="#cf1322"
          format={() => String(n)}
        />
      ),
    },
    { title: t('heat.open'), dataIndex: 'open', width: 56, align: 'right' },
    {
      title: t('heat.overdue'),
      dataIndex: 'overdue',
      width: 56,
      align: 'right',
      render: (n: number) => (n ? <Typography.Text type="danger">{n}</Typography.Text> : n),
    },
  ];
  return (
    <div style={{ display: 'flex', gap: 16, alignItems: 'flex-start' }}>
      <div style={{ flex: '1 1 55%', minWidth: 0 }}>
        <Chart option={option} height={330} label={t('heat.chart')} testId="chart-heat" />
      </div>
      <div style={{ flex: '1 1 45%', minWidth: 0 }}>
        <Typography.Text strong>{t('heat.top')}</Typography.Text>
        <Table size="small" rowKey="code" columns={columns} dataSource={top} pagination={false} />
      </div>
    </div>
  );
}
