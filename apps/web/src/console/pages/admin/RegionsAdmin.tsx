import { DownloadOutlined, InboxOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  regionLimits,
  type ImportRegionsResponse,
  type RegionImportError,
  type RegionView,
} from '@wangge/contracts';
import {
  Alert,
  Button,
  Card,
  Col,
  Descriptions,
  Row,
  Space,
  Statistic,
  Table,
  Tag,
  Tree,
  Typography,
  Upload,
} from 'antd';
import type { TableColumnsType, TreeDataNode } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, errorMessage } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, Loading, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader } from './common.tsx';
import { useRootRegions } from './RegionTreeSelect.tsx';

type ImportOutcome =
  | { kind: 'busy'; file: string }
  | { kind: 'ok'; file: string; result: ImportRegionsResponse }
  | { kind: 'failed'; file: string; errors: RegionImportError[] }
  | { kind: 'error'; file: string; message: string };

function importErrorsOf(error: unknown): RegionImportError[] | null {
  if (!(error instanceof ApiError) || error.code !== 'REGION_IMPORT_FAILED') return null;
  const details = error.details as { errors?: RegionImportError[] } | undefined;
  return Array.isArray(details?.errors) ? details.errors : [];
}

/** 区域与网格: browse the region tree with each region's figures, import and export boundaries as GeoJSON. */
export default function RegionsAdmin() {
  const { t } = useTranslation('admin');
  const me = useMe();
  const queryClient = useQueryClient();
  const roots = useRootRegions();
  const [children, setChildren] = useState<Map<string, RegionView[]>>(new Map());
  const [loadedKeys, setLoadedKeys] = useState<string[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<ImportOutcome | null>(null);
  const allowed = can(me, 'region.import') || can(me, 'region.write') || can(me, 'region.export');

  const treeData = useMemo((): TreeDataNode[] => {
    const node = (r: RegionView): TreeDataNode => {
      const kids = children.get(r.code);
      return {
        key: r.code,
        title: (
          <span>
            {r.name}
            <Typography.Text type="secondary" style={{ fontSize: 12, marginLeft: 6 }}>
              {t(`common:levels.${r.level}`)} {r.code}
            </Typography.Text>
          </span>
        ),
        isLeaf: r.level === 'microgrid' || (kids !== undefined && kids.length === 0),
        children: kids?.map(node),
      };
    };
    return (roots.data ?? []).map(node);
  }, [roots.data, children, t]);

  if (!allowed) return <Forbidden />;

  async function loadChildren(code: string) {
    const list = await queryClient.fetchQuery({
      queryKey: ['regionChildren', code],
      queryFn: () => api.regionChildren({ params: { code } }),
      staleTime: 60_000,
    });
    setChildren((prev) => new Map(prev).set(code, list.items));
  }

  async function importFile(file: File) {
    if (file.size > regionLimits.importBodyBytes) {
      setOutcome({
        kind: 'error',
        file: file.name,
        message: t('regions.import.tooLarge', {
          file: file.name,
          mb: regionLimits.importBodyBytes / 1048576,
        }),
      });
      return;
    }
    setOutcome({ kind: 'busy', file: file.name });
    let body: unknown;
    try {
      body = JSON.parse(await file.text());
    } catch (e) {
      setOutcome({
        kind: 'error',
        file: file.name,
        message: t('regions.import.notJson', { file: file.name, error: errorMessage(e) }),
      });
      return;
    }
    try {
      const result = await api.importRegions({ body });
      setOutcome({ kind: 'ok', file: file.name, result });
      // New or re-drawn regions: browse the tree afresh.
      queryClient.removeQueries({ queryKey: ['regionChildren'] });
      void queryClient.invalidateQueries({ queryKey: ['regionStats'] });
      setChildren(new Map());
      setLoadedKeys([]);
    } catch (e) {
      const errors = importErrorsOf(e);
      setOutcome(
        errors
          ? { kind: 'failed', file: file.name, errors }
          : {
              kind: 'error',
              file: file.name,
              message: t('regions.import.otherError', { file: file.name, message: errorMessage(e) }),
            },
      );
    }
  }

  return (
    <div>
      <PageHeader title={t('regions.title')} intro={t('regions.intro')} />
      <Row gutter={12}>
        <Col span={7}>
          <Card
            size="small"
            title={t('regions.tree')}
            styles={{ body: { maxHeight: 'calc(100vh - 220px)', overflow: 'auto' } }}
          >
            <QueryState
              query={roots}
              isEmpty={(d) => d.length === 0}
              empty={<EmptyState description={t('regions.treeEmpty')} />}
            >
              {() => (
                <Tree
                  showLine
                  blockNode
                  treeData={treeData}
                  loadedKeys={loadedKeys}
                  onLoad={(keys) => setLoadedKeys(keys.map(String))}
                  loadData={(node) => loadChildren(String(node.key))}
                  selectedKeys={selected ? [selected] : []}
                  onSelect={(keys) => setSelected(keys[0] !== undefined ? String(keys[0]) : null)}
                />
              )}
            </QueryState>
          </Card>
        </Col>
        <Col span={17}>
          <Space orientation="vertical" size={12} style={{ width: '100%' }}>
            {selected ? (
              <RegionDetails code={selected} />
            ) : (
              <Alert type="info" showIcon title={t('regions.pickOne')} />
            )}
            {can(me, 'region.import') && (
              <ImportCard outcome={outcome} onFile={(file) => void importFile(file)} />
            )}
          </Space>
        </Col>
      </Row>
    </div>
  );
}

function RegionDetails({ code }: { code: string }) {
  const { t } = useTranslation('admin');
  const me = useMe();
  const region = useQuery({ queryKey: ['region', code], queryFn: () => api.region({ params: { code } }) });
  const stats = useQuery({
    queryKey: ['regionStats', code],
    queryFn: () => api.regionStats({ params: { code } }),
    enabled: can(me, 'region.stats'),
  });
  return (
    <Card
      size="small"
      title={region.data ? `${region.data.name}（${t(`common:levels.${region.data.level}`)}）` : code}
      extra={
        can(me, 'region.export') && (
          <Button
            icon={<DownloadOutlined />}
            href={api.url(`/api/regions/${code}/boundaries.geojson`)}
            download={`${code}.geojson`}
            title={t('regions.exportHint')}
          >
            {t('regions.export')}
          </Button>
        )
      }
    >
      <QueryState query={region} rows={3}>
        {(r) => (
          <Descriptions
            size="small"
            column={2}
            items={[
              { key: 'code', label: t('regions.code'), children: r.code },
              { key: 'level', label: t('regions.level'), children: t(`common:levels.${r.level}`) },
              { key: 'parent', label: t('regions.parent'), children: r.parent ?? '—' },
              {
                key: 'centroid',
                label: t('regions.centroid'),
                children: r.centroid ? `${r.centroid[0].toFixed(5)}, ${r.centroid[1].toFixed(5)}` : '—',
              },
            ]}
          />
        )}
      </QueryState>
      {can(me, 'region.stats') && (
        <div style={{ marginTop: 12 }}>
          <QueryState query={stats} rows={2}>
            {(s) => (
              <>
                <Row gutter={12}>
                  {(
                    [
                      'children',
                      'grids',
                      'microgrids',
                      'workers',
                      'users',
                      'openCases',
                      'overdueCases',
                    ] as const
                  ).map((key) => (
                    <Col key={key} flex="1">
                      <Statistic
                        title={t(`regions.${key}`)}
                        value={s.counts[key]}
                        groupSeparator=""
                        styles={{
                          content: key === 'overdueCases' && s.counts[key] ? { color: '#cf1322' } : undefined,
                        }}
                      />
                    </Col>
                  ))}
                </Row>
                {Object.keys(s.counts.usersByRole).length > 0 && (
                  <div style={{ marginTop: 8 }}>
                    <Typography.Text type="secondary">{t('regions.usersByRole')}：</Typography.Text>
                    <Space size={[4, 4]} wrap>
                      {Object.entries(s.counts.usersByRole).map(([role, n]) => (
                        <Tag key={role}>
                          {t(`common:roles.${role}`)} {n}
                        </Tag>
                      ))}
                    </Space>
                  </div>
                )}
              </>
            )}
          </QueryState>
        </div>
      )}
    </Card>
  );
}

function ImportCard({ outcome, onFile }: { outcome: ImportOutcome | null; onFile: (file: File) => void }) {
  const { t } = useTranslation('admin');
  const columns: TableColumnsType<RegionImportError> = [
    {
      title: t('regions.import.feature'),
      dataIndex: 'index',
      width: 130,
      render: (index: number) => t('regions.import.featureAt', { n: index + 1, index }),
    },
    {
      title: t('regions.import.code'),
      dataIndex: 'code',
      width: 150,
      render: (v: string | null) => v ?? '—',
    },
    {
      title: t('regions.import.name'),
      dataIndex: 'name',
      width: 110,
      render: (v: string | null) => v ?? '—',
    },
    {
      title: t('regions.import.error'),
      dataIndex: 'error',
      width: 110,
      render: (code: string) => (
        <Tag color="red" title={code}>
          {t(`regions.import.errors.${code}`, { defaultValue: code })}
        </Tag>
      ),
    },
    { title: t('regions.import.reason'), dataIndex: 'reason' },
  ];
  return (
    <Card size="small" title={t('regions.import.title')}>
      <Upload.Dragger
        accept=".geojson,.json,application/geo+json,application/json"
        multiple={false}
        showUploadList={false}
        disabled={outcome?.kind === 'busy'}
        beforeUpload={(file) => {
          onFile(file);
          return false;
        }}
      >
        <p className="ant-upload-drag-icon">
          <InboxOutlined />
        </p>
        <p className="ant-upload-text">{t('regions.import.drop')}</p>
        <p className="ant-upload-hint" style={{ padding: '0 16px' }}>
          {t('regions.import.hint')}
        </p>
      </Upload.Dragger>
      <div style={{ marginTop: 12 }} aria-live="polite" data-testid="import-outcome">
        {outcome?.kind === 'busy' && (
          <>
            <Typography.Text>{t('regions.import.reading', { file: outcome.file })}</Typography.Text>
            <Loading rows={2} />
          </>
        )}
        {outcome?.kind === 'ok' && (
          <Alert
            type="success"
            showIcon
            title={t('regions.import.success', { file: outcome.file })}
            description={
              <Space size="large">
                <Statistic title={t('regions.import.created')} value={outcome.result.created} />
                <Statistic title={t('regions.import.updated')} value={outcome.result.updated} />
                <Statistic title={t('regions.import.unchanged')} value={outcome.result.unchanged} />
              </Space>
            }
          />
        )}
        {outcome?.kind === 'error' && <Alert role="alert" type="error" showIcon title={outcome.message} />}
        {outcome?.kind === 'failed' && (
          <>
            <Alert
              role="alert"
              type="error"
              showIcon
              title={t('regions.import.failedTitle')}
              description={t('regions.import.failedBody', {
                file: outcome.file,
                count: outcome.errors.length,
              })}
              style={{ marginBottom: 12 }}
            />
            <Table
              size="small"
              rowKey={(e) => `${e.index}-${e.error}`}
              columns={columns}
              dataSource={outcome.errors}
              pagination={outcome.errors.length > 20 ? { pageSize: 20 } : false}
              data-testid="import-errors"
            />
          </>
        )}
      </div>
    </Card>
  );
}
