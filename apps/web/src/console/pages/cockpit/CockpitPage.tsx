import { DownloadOutlined, DownOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { kpiMaxPeriodDays, type KpiDimension } from '@wangge/contracts';
import { Button, Card, Col, DatePicker, Dropdown, Result, Row, Segmented, Space, Typography } from 'antd';
import dayjs from 'dayjs';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { api, ApiError } from '../../api.ts';
import { can, homeRegion, useMe } from '../../shared/auth.tsx';
import { LoadError, QueryState } from '../../shared/states.tsx';
import { useCaseEvents } from '../../shared/stream.ts';
import { RegionTreeSelect, useRootRegions } from '../admin/RegionTreeSelect.tsx';
import { KpiCards } from './KpiCards.tsx';
import {
  CategoryPanel,
  DepartmentRanking,
  GridHeatPanel,
  OverdueCases,
  TrendPanel,
  type Filters,
} from './panels.tsx';
import {
  addDays,
  chinaTime,
  chinaToday,
  daysBetween,
  defaultInterval,
  isIsoDate,
  periodKinds,
  periodRange,
  type Interval,
  type PeriodKind,
} from './period.ts';

const regionPattern = /^\d{6}(\d{3}){0,4}$/;

/** Period from the URL: `period=month|quarter|year`, or `from`/`to` (to exclusive, as the API) for a custom one. */
function periodOf(params: URLSearchParams): { kind: PeriodKind; from: string; to: string } {
  const today = chinaToday();
  const asked = params.get('period');
  const from = params.get('from');
  const to = params.get('to');
  const customOk = isIsoDate(from) && isIsoDate(to) && from < to && daysBetween(from, to) <= kpiMaxPeriodDays;
  if ((asked === 'custom' || (!asked && from && to)) && customOk) return { kind: 'custom', from, to };
  const kind = periodKinds.find((k) => k === asked && k !== 'custom') ?? 'month';
  return { kind, ...periodRange(kind as Exclude<PeriodKind, 'custom'>, today) };
}

/**
 * 驾驶舱: the figures of a region for a period (DOMAIN.md §4, docs/domain/kpis.md), the trend, categories,
 * department ranking, overdue cases and where the cases come from. Region and period live in the URL; the figures
 * follow the work (case events refresh them, at most every two seconds).
 */
export default function CockpitPage() {
  const { t } = useTranslation('cockpit');
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const roots = useRootRegions();
  const queryClient = useQueryClient();
  const [intervalChoice, setIntervalChoice] = useState<Interval | null>(null);

  const period = periodOf(params);
  const asked = params.get('region');
  const region =
    (asked && regionPattern.test(asked) ? asked : null) ??
    homeRegion(me)?.code ??
    roots.data?.[0]?.code ??
    null;
  const filters: Filters | null = region ? { region, from: period.from, to: period.to } : null;
  const interval = intervalChoice ?? defaultInterval(period.from, period.to);

  // Live: coalesce a burst of case events into one refresh of the figures two seconds later.
  const timer = useRef<number | undefined>(undefined);
  useCaseEvents(() => {
    if (timer.current !== undefined) return;
    timer.current = window.setTimeout(() => {
      timer.current = undefined;
      void queryClient.invalidateQueries({ queryKey: ['kpi'] });
    }, 2000);
  });
  useEffect(() => () => window.clearTimeout(timer.current), []);

  const report = useQuery({
    queryKey: ['kpi', 'report', filters?.region, filters?.from, filters?.to],
    enabled: !!filters,
    queryFn: () => api.kpis({ query: filters! }),
  });

  // A region that does not exist or lies outside the user's scope: one answer, not one per panel.
  const regionMissing = report.error instanceof ApiError && report.error.status === 404;

  if (!can(me, 'kpi.read')) return <Result status="403" title="403" subTitle={t('forbidden')} />;

  function update(next: Record<string, string | null>) {
    const merged = new URLSearchParams(params);
    for (const [key, value] of Object.entries(next)) {
      if (value === null) merged.delete(key);
      else merged.set(key, value);
    }
    setParams(merged);
  }

  function choosePeriod(kind: PeriodKind) {
    setIntervalChoice(null);
    if (kind === 'custom') update({ period: 'custom', from: period.from, to: period.to });
    else update({ period: kind, from: null, to: null });
  }

  const exportUrl = (by: KpiDimension | null) =>
    filters ? api.url('/api/kpis.xlsx', { ...filters, by: by ?? undefined }) : undefined;
  const exportItems = (['category', 'department', 'grid', 'channel'] as const).map((by) => ({
    key: by,
    label: (
      <a href={exportUrl(by)} download>
        {t(`exportBy.${by}`)}
      </a>
    ),
  }));

  const regionName = report.data?.region.name ?? '';
  const lastDay = addDays(period.to, -1);

  return (
    <div style={{ minWidth: 1100 }}>
      <Card size="small" style={{ marginBottom: 12 }}>
        <div
          style={{
            display: 'flex',
            alignItems: 'center',
            justifyContent: 'space-between',
            gap: 16,
            flexWrap: 'wrap',
          }}
        >
          <div>
            <Typography.Title level={3} className="page-title" style={{ marginBottom: 0 }}>
              {t('title')}
              {regionName && (
                <Typography.Text type="secondary" style={{ fontSize: 14, fontWeight: 400, marginLeft: 12 }}>
                  <span
                    data-testid="kpi-period"
                    data-from={period.from}
                    data-to={period.to}
                    data-region={region ?? ''}
                  >
                    {t('subtitle', { region: regionName, from: period.from, to: lastDay })}
                  </span>
                </Typography.Text>
              )}
            </Typography.Title>
            {report.data && (
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {t('asOf', { time: chinaTime(report.data.asOf) })}
              </Typography.Text>
            )}
          </div>
          <Space wrap size="middle">
            <Space size={6}>
              <label htmlFor="cockpit-region">{t('region')}</label>
              <RegionTreeSelect
                id="cockpit-region"
                value={region}
                onChange={(code) => code && update({ region: code })}
                placeholder={t('regionPlaceholder')}
                style={{ width: 240 }}
              />
            </Space>
            <Space size={6}>
              <span id="cockpit-period-label">{t('period')}</span>
              <Segmented<PeriodKind>
                aria-labelledby="cockpit-period-label"
                value={period.kind}
                onChange={choosePeriod}
                options={periodKinds.map((value) => ({ value, label: t(`periods.${value}`) }))}
              />
            </Space>
            <DatePicker.RangePicker
              aria-label={t('range')}
              allowClear={false}
              value={[dayjs(period.from), dayjs(lastDay)]}
              disabledDate={(d, info) =>
                !!info.from && Math.abs(d.diff(info.from, 'day')) >= kpiMaxPeriodDays
              }
              onChange={(range) => {
                const [start, end] = range ?? [];
                if (!start || !end) return;
                setIntervalChoice(null);
                update({
                  period: 'custom',
                  from: start.format('YYYY-MM-DD'),
                  to: addDays(end.format('YYYY-MM-DD'), 1),
                });
              }}
            />
            <Space.Compact>
              <Button
                type="primary"
                icon={<DownloadOutlined />}
                href={exportUrl(null)}
                download
                disabled={!filters}
              >
                {t('export')}
              </Button>
              <Dropdown menu={{ items: exportItems }} disabled={!filters}>
                <Button type="primary" icon={<DownOutlined />} aria-label={t('exportMore')} />
              </Dropdown>
            </Space.Compact>
          </Space>
        </div>
      </Card>

      {regionMissing ? (
        <LoadError error={report.error} />
      ) : !filters ? (
        <QueryState query={roots} isEmpty={(d) => d.length === 0}>
          {() => null}
        </QueryState>
      ) : (
        <>
          <QueryState query={report} rows={6}>
            {(data) => <KpiCards report={data} />}
          </QueryState>
          <Row gutter={[12, 12]} style={{ marginTop: 12 }}>
            <Col span={15}>
              <TrendPanel filters={filters} interval={interval} onInterval={setIntervalChoice} />
            </Col>
            <Col span={9}>
              <CategoryPanel filters={filters} />
            </Col>
            <Col span={24}>
              <OverdueCases region={filters.region} />
            </Col>
            <Col span={24}>
              <DepartmentRanking filters={filters} />
            </Col>
            <Col span={24}>
              <GridHeatPanel filters={filters} />
            </Col>
          </Row>
        </>
      )}
    </div>
  );
}
