import { useQuery } from '@tanstack/react-query';
import type { GridSizing } from '@wangge/contracts';
import { Alert, Card, Col, Form, Row, Segmented, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api } from '../../api.ts';
import { can, homeRegion, useMe } from '../../shared/auth.tsx';
import { EmptyState, Loading, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader } from '../admin/common.tsx';
import { RegionTreeSelect, useRootRegions } from '../admin/RegionTreeSelect.tsx';

type Row = GridSizing['items'][number];
type Flag = Row['flag'];

export const flagColor: Record<Flag, string> = { under: 'orange', over: 'red', ok: 'green' };
const flagOrder: Record<Flag, number> = { over: 0, under: 1, ok: 2 };

/** 网格规模核查 (`/registry/sizing?region=`): grids of a region against the 300–500 户 / 1000–1500 人 guidance. */
export default function SizingPage() {
  const { t } = useTranslation('registry');
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const roots = useRootRegions();
  const region = params.get('region') ?? homeRegion(me)?.code ?? roots.data?.[0]?.code ?? null;
  if (!can(me, 'region.stats')) return <Forbidden />;
  return (
    <div data-testid="sizing-page">
      <PageHeader title={t('sizing.title')} />
      <Card size="small" style={{ marginBottom: 16 }}>
        <Form layout="vertical" component="div" style={{ maxWidth: 420 }}>
          <Form.Item label={t('sizing.region')} htmlFor="sizing-region" style={{ marginBottom: 0 }}>
            <RegionTreeSelect
              id="sizing-region"
              value={region}
              maxLevel="community"
              onChange={(code) => setParams(code ? { region: code } : {})}
              style={{ width: '100%' }}
            />
          </Form.Item>
        </Form>
      </Card>
      {region ? <SizingReport code={region} /> : roots.isPending ? <Loading /> : <EmptyState />}
    </div>
  );
}

function SizingReport({ code }: { code: string }) {
  const { t } = useTranslation('registry');
  const [only, setOnly] = useState<'all' | 'flagged'>('all');
  const sizing = useQuery({
    queryKey: ['gridSizing', code],
    queryFn: () => api.gridSizing({ params: { code } }),
  });
  return (
    <>
      <QueryState
        query={sizing}
        rows={10}
        isEmpty={(d) => d.items.length === 0}
        empty={
          <Card>
            <EmptyState description={t('sizing.none')} />
          </Card>
        }
      >
        {(d) => {
          const flagged = d.items.filter((i) => i.flag !== 'ok').length;
          const rows = only === 'flagged' ? d.items.filter((i) => i.flag !== 'ok') : d.items;
          const inRange = (v: number, min: number, max: number) => v >= min && v <= max;
          return (
            <Card
              title={
                <Row gutter={16} align="middle">
                  <Col>{t('sizing.summary', { total: d.items.length, flagged })}</Col>
                  <Col>
                    <Segmented
                      value={only}
                      onChange={(v) => setOnly(v as 'all' | 'flagged')}
                      options={[
                        { value: 'all', label: t('sizing.all') },
                        { value: 'flagged', label: t('sizing.onlyFlagged') },
                      ]}
                    />
                  </Col>
                </Row>
              }
            >
              <Alert
                type={flagged > 0 ? 'warning' : 'info'}
                showIcon
                style={{ marginBottom: 12 }}
                data-testid="sizing-guidance"
                title={t('sizing.intro', {
                  hMin: d.guidance.householdsMin,
                  hMax: d.guidance.householdsMax,
                  pMin: d.guidance.peopleMin,
                  pMax: d.guidance.peopleMax,
                })}
              />
              <Table<Row>
                size="small"
                rowKey="gridCode"
                dataSource={rows}
                data-testid="sizing-table"
                pagination={rows.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
                columns={[
                  {
                    title: t('sizing.grid'),
                    dataIndex: 'gridName',
                    sorter: (a, b) => a.gridName.localeCompare(b.gridName, 'zh-CN'),
                    render: (name: string, r) => <Link to={`/registry?grid=${r.gridCode}`}>{name}</Link>,
                  },
                  {
                    title: t('sizing.code'),
                    dataIndex: 'gridCode',
                    sorter: (a, b) => a.gridCode.localeCompare(b.gridCode),
                    render: (v: string) => <Typography.Text type="secondary">{v}</Typography.Text>,
                  },
                  {
                    title: t('sizing.households'),
                    dataIndex: 'households',
                    align: 'right',
                    sorter: (a, b) => a.households - b.households,
                    render: (v: number) => (
                      <Typography.Text
                        type={
                          inRange(v, d.guidance.householdsMin, d.guidance.householdsMax)
                            ? undefined
                            : 'warning'
                        }
                      >
                        {v}
                      </Typography.Text>
                    ),
                  },
                  {
                    title: t('sizing.people'),
                    dataIndex: 'people',
                    align: 'right',
                    sorter: (a, b) => a.people - b.people,
                    render: (v: number) => (
                      <Typography.Text
                        type={inRange(v, d.guidance.peopleMin, d.guidance.peopleMax) ? undefined : 'warning'}
                      >
                        {v}
                      </Typography.Text>
                    ),
                  },
                  {
                    title: t('sizing.flag'),
                    dataIndex: 'flag',
                    sorter: (a, b) => flagOrder[a.flag] - flagOrder[b.flag],
                    render: (f: Flag) => (
                      <Tag color={flagColor[f]} data-testid={`sizing-flag-${f}`}>
                        {t(`sizing.flags.${f}`)}
                      </Tag>
                    ),
                  },
                ]}
              />
            </Card>
          );
        }}
      </QueryState>
    </>
  );
}
