import { useQuery } from '@tanstack/react-query';
import type { ComplianceReport, ComplianceRow, CompliancePeriod, Patrol } from '@wangge/contracts';
import { Card, DatePicker, Drawer, Form, Progress, Segmented, Space, Table, Tag, Typography } from 'antd';
import dayjs from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { api } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader } from '../admin/common.tsx';
import { RegionTreeSelect } from '../admin/RegionTreeSelect.tsx';
import { PatrolTrackSvg } from './PatrolTrackSvg.tsx';

const periods: CompliancePeriod[] = ['day', 'month', 'quarter'];
const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;
const ratioOf = (a: number, b: number) => (b === 0 ? 1 : a / b);

/** Green at or above the rule, orange close to it, red below. */
function RatioBar({ ratio, label }: { ratio: number; label: string }) {
  const status = ratio >= 1 ? 'success' : ratio >= 0.8 ? 'normal' : 'exception';
  return (
    <div style={{ minWidth: 150 }}>
      <Progress
        percent={Math.round(ratio * 1000) / 10}
        size="small"
        status={status}
        strokeColor={ratio >= 1 ? undefined : ratio >= 0.8 ? '#fa8c16' : undefined}
        format={(p) => `${p}%`}
      />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {label}
      </Typography.Text>
    </div>
  );
}

/**
 * 网格员履职考核 (`/fieldwork?region=&period=&on=`): per worker and grid, patrol days meeting the 4-hour rule, quarterly
 * visit coverage, monthly coverage of vulnerable households and anti-spoofing flags; a row opens the worker's patrols
 * of the period with their tracks.
 */
export default function CompliancePage() {
  const { t } = useTranslation('fieldwork');
  const me = useMe();
  const [params, setParams] = useSearchParams();
  // no region chosen: the server's default, the caller's own grids (a grid leader sees all of theirs)
  const region = params.get('region');
  const period = (periods as string[]).includes(params.get('period') ?? '')
    ? (params.get('period') as CompliancePeriod)
    : 'month';
  const on = params.get('on') ?? dayjs().format('YYYY-MM-DD');
  const set = (patch: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch))
      if (v) next.set(k, v);
      else next.delete(k);
    setParams(next);
  };
  if (!can(me, 'fieldwork.monitor')) return <Forbidden />;
  return (
    <div data-testid="compliance-page">
      <PageHeader title={t('title')} intro={t('intro')} />
      <Card size="small" style={{ marginBottom: 16 }}>
        <Form layout="inline" component="div">
          <Form.Item label={t('region')} htmlFor="compliance-region">
            <RegionTreeSelect
              id="compliance-region"
              value={region}
              allowClear
              placeholder={t('myGrids')}
              onChange={(code) => set({ region: code ?? null })}
              style={{ width: 320 }}
            />
          </Form.Item>
          <Form.Item label={t('period')}>
            <Segmented
              value={period}
              onChange={(v) => set({ period: String(v) })}
              options={periods.map((p) => ({ value: p, label: t(`periods.${p}`) }))}
            />
          </Form.Item>
          <Form.Item label={t('on')} htmlFor="compliance-on">
            <DatePicker
              id="compliance-on"
              value={dayjs(on)}
              allowClear={false}
              disabledDate={(d) => d.isAfter(dayjs(), 'day')}
              onChange={(d) => set({ on: d ? d.format('YYYY-MM-DD') : null })}
            />
          </Form.Item>
        </Form>
      </Card>
      <ComplianceTable region={region} period={period} on={on} />
    </div>
  );
}

function ComplianceTable({
  region,
  period,
  on,
}: {
  region: string | null;
  period: CompliancePeriod;
  on: string;
}) {
  const { t } = useTranslation('fieldwork');
  const [open, setOpen] = useState<ComplianceRow | null>(null);
  const report = useQuery({
    queryKey: ['compliance', region, period, on],
    queryFn: () => api.compliance({ query: { ...(region ? { region } : {}), period, on } }),
  });
  return (
    <QueryState
      query={report}
      rows={10}
      isEmpty={(d) => d.rows.length === 0}
      empty={
        <Card>
          <EmptyState description={t('none')} />
        </Card>
      }
    >
      {(d) => (
        <Card
          title={
            <Space orientation="vertical" size={0}>
              <span data-testid="compliance-summary">{summary(d, t)}</span>
              <Typography.Text type="secondary" style={{ fontSize: 12, fontWeight: 'normal' }}>
                {t('range', { from: d.from, to: d.to })}
              </Typography.Text>
            </Space>
          }
        >
          <Table<ComplianceRow>
            size="small"
            data-testid="compliance-table"
            rowKey={(r) => `${r.userId}-${r.gridCode}`}
            dataSource={d.rows}
            pagination={d.rows.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
            onRow={(r) => ({ onClick: () => setOpen(r), style: { cursor: 'pointer' } })}
            columns={[
              {
                title: t('worker'),
                dataIndex: 'userName',
                sorter: (a, b) => a.userName.localeCompare(b.userName, 'zh-CN'),
                render: (name: string, r) => (
                  <Typography.Link onClick={() => setOpen(r)} data-testid="compliance-worker">
                    {name}
                  </Typography.Link>
                ),
              },
              {
                title: t('grid'),
                dataIndex: 'gridName',
                sorter: (a, b) => a.gridCode.localeCompare(b.gridCode),
              },
              {
                title: t('patrolHours'),
                align: 'right',
                sorter: (a, b) => a.patrol.seconds - b.patrol.seconds,
                render: (_: unknown, r) => t('hours', { value: (r.patrol.seconds / 3600).toFixed(1) }),
              },
              {
                title: t('daysMet'),
                sorter: (a, b) => a.patrol.ratio - b.patrol.ratio,
                defaultSortOrder: 'ascend',
                render: (_: unknown, r) => (
                  <RatioBar
                    ratio={r.patrol.ratio}
                    label={t('daysMetValue', { met: r.patrol.daysMet, days: r.patrol.workingDays })}
                  />
                ),
              },
              {
                title: t('visits'),
                sorter: (a, b) => a.visits.ratio - b.visits.ratio,
                render: (_: unknown, r) => (
                  <RatioBar
                    ratio={r.visits.ratio}
                    label={t('coverage', { covered: r.visits.covered, total: r.visits.households })}
                  />
                ),
              },
              {
                title: t('vulnerable'),
                sorter: (a, b) => a.vulnerable.ratio - b.vulnerable.ratio,
                render: (_: unknown, r) => (
                  <RatioBar
                    ratio={r.vulnerable.ratio}
                    label={t('coverage', { covered: r.vulnerable.covered, total: r.vulnerable.households })}
                  />
                ),
              },
              {
                title: t('flags'),
                sorter: (a, b) => flagTotal(a) - flagTotal(b),
                render: (_: unknown, r) =>
                  flagTotal(r) === 0 ? (
                    <Typography.Text type="secondary">{t('noFlags')}</Typography.Text>
                  ) : (
                    <Space size={4} wrap>
                      {(['outsideGrid', 'impossibleSpeed', 'repeatedCoordinates'] as const)
                        .filter((k) => r.flags[k] > 0)
                        .map((k) => (
                          <Tag color="red" key={k}>
                            {t(`flagNames.${k}`)} {r.flags[k]}
                          </Tag>
                        ))}
                    </Space>
                  ),
              },
            ]}
          />
          <PatrolDrawer row={open} from={d.from} to={d.to} onClose={() => setOpen(null)} />
        </Card>
      )}
    </QueryState>
  );
}

const flagTotal = (r: ComplianceRow) =>
  r.flags.outsideGrid + r.flags.impossibleSpeed + r.flags.repeatedCoordinates;

function summary(d: ComplianceReport, t: (key: string, options?: Record<string, unknown>) => string): string {
  const sum = (f: (r: ComplianceRow) => number) => d.rows.reduce((s, r) => s + f(r), 0);
  return t('summary', {
    rows: d.rows.length,
    patrol: pct(
      ratioOf(
        sum((r) => r.patrol.daysMet),
        sum((r) => r.patrol.workingDays),
      ),
    ),
    visits: pct(
      ratioOf(
        sum((r) => r.visits.covered),
        sum((r) => r.visits.households),
      ),
    ),
    vulnerable: pct(
      ratioOf(
        sum((r) => r.vulnerable.covered),
        sum((r) => r.vulnerable.households),
      ),
    ),
  });
}

function PatrolDrawer({
  row,
  from,
  to,
  onClose,
}: {
  row: ComplianceRow | null;
  from: string;
  to: string;
  onClose: () => void;
}) {
  const { t } = useTranslation('fieldwork');
  const [selected, setSelected] = useState<string | null>(null);
  const patrols = useQuery({
    enabled: row !== null,
    queryKey: ['patrols', row?.userId, row?.gridCode, from, to],
    queryFn: () => api.patrols({ query: { userId: row!.userId, grid: row!.gridCode, from, to, limit: 200 } }),
  });
  const current = selected ?? patrols.data?.items[0]?.id ?? null;
  return (
    <Drawer
      open={row !== null}
      onClose={() => {
        setSelected(null);
        onClose();
      }}
      size={720}
      title={row ? t('detail', { name: row.userName, grid: row.gridName }) : ''}
      data-testid="patrol-drawer"
    >
      {row && (
        <QueryState
          query={patrols}
          isEmpty={(d) => d.items.length === 0}
          empty={<EmptyState description={t('noPatrols')} />}
        >
          {(d) => (
            <Space orientation="vertical" style={{ width: '100%' }} size="middle">
              {current && <TrackCard patrolId={current} />}
              <Table<Patrol>
                size="small"
                rowKey="id"
                dataSource={d.items}
                pagination={d.items.length > 20 ? { pageSize: 20, showSizeChanger: false } : false}
                rowClassName={(p) => (p.id === current ? 'ant-table-row-selected' : '')}
                onRow={(p) => ({ onClick: () => setSelected(p.id), style: { cursor: 'pointer' } })}
                columns={[
                  {
                    title: t('started'),
                    dataIndex: 'startedAt',
                    render: (v: string) => dayjs(v).format('MM-DD HH:mm'),
                  },
                  {
                    title: t('duration'),
                    align: 'right',
                    render: (_: unknown, p) =>
                      p.endedAt ? t('minutes', { value: Math.round(p.durationSeconds / 60) }) : t('running'),
                  },
                  {
                    title: t('distance'),
                    align: 'right',
                    render: (_: unknown, p) => t('km', { value: (p.distanceMeters / 1000).toFixed(2) }),
                  },
                  { title: t('points'), dataIndex: 'pointCount', align: 'right' },
                  {
                    title: t('flags'),
                    render: (_: unknown, p) =>
                      p.flags.length === 0
                        ? '—'
                        : p.flags.map((f) => (
                            <Tag color="red" key={f.flag}>
                              {t(`flagNames.${flagKey[f.flag]}`)} {f.points}
                            </Tag>
                          )),
                  },
                ]}
              />
            </Space>
          )}
        </QueryState>
      )}
    </Drawer>
  );
}

const flagKey = {
  outside_grid: 'outsideGrid',
  impossible_speed: 'impossibleSpeed',
  repeated_coordinates: 'repeatedCoordinates',
} as const;

function TrackCard({ patrolId }: { patrolId: string }) {
  const { t } = useTranslation('fieldwork');
  const track = useQuery({
    queryKey: ['patrolTrack', patrolId],
    queryFn: () => api.patrolTrack({ params: { id: patrolId } }),
  });
  return (
    <Card size="small" title={t('track')}>
      <QueryState query={track}>
        {(d) => <PatrolTrackSvg track={d} label={t('trackLabel')} height={320} />}
      </QueryState>
    </Card>
  );
}
