import { DownloadOutlined, FileExcelOutlined, InboxOutlined, ReloadOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  HotlineClassification,
  HotlineResolved,
  HotlineTriageItem,
  ResolveHotlineTriageRequest,
} from '@wangge/contracts';
import {
  Alert,
  App,
  Button,
  Card,
  Form,
  Input,
  Modal,
  Radio,
  Result,
  Space,
  Statistic,
  Table,
  Tabs,
  Tag,
  TreeSelect,
  Typography,
  Upload,
} from 'antd';
import { lazy, Suspense, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api, errorMessage } from '../../api.ts';
import { can, hasRole, useMe } from '../../shared/auth.tsx';
import { EmptyState, Loading, QueryState } from '../../shared/states.tsx';
import { PageHeader } from '../admin/common.tsx';
import {
  categoryTree,
  filterCategoryNode,
  formatTime,
  nameOf,
  taxonomyNames,
  useTaxonomy,
} from '../workbench/caseUi.tsx';
import {
  downloadHotlineTemplate,
  hotlineContentType,
  uploadHotlineOrders,
  type HotlineImportResult,
} from './files.ts';

const PickPointMap = lazy(() => import('../map/PickPointMap.tsx'));

const reasonColor: Record<HotlineTriageItem['reason'], string> = {
  unmapped_classification: 'orange',
  no_location: 'blue',
  invalid: 'red',
};

const tabKeys = ['import', 'triage', 'mapping'] as const;
type TabKey = (typeof tabKeys)[number];

/**
 * 热线工单 (`/hotline`): import 12345 / 96118 work orders (xlsx or CSV), the triage queue (分拣) of orders that could
 * not become a case, and — for administrators — the mapping of the hotline's classification to taxonomy items.
 */
export default function HotlinePage() {
  const { t } = useTranslation('hotline');
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const mayMap = can(me, 'taxonomy.write');
  if (!can(me, 'case.report') || !hasRole(me, 'hotline_operator', 'centre_operator', 'admin'))
    return <Result status="403" title="403" subTitle={t('forbidden')} />;

  const visible = tabKeys.filter((k) => k !== 'mapping' || mayMap);
  const asked = params.get('tab') as TabKey | null;
  const active: TabKey = asked && visible.includes(asked) ? asked : 'import';
  const go = (key: string) => setParams({ tab: key }, { replace: true });

  return (
    <div data-testid="hotline-page">
      <PageHeader title={t('title')} intro={t('intro')} />
      <Card>
        <Tabs
          activeKey={active}
          onChange={go}
          destroyOnHidden
          items={visible.map((key) => ({
            key,
            label: <span data-testid={`hotline-tab-${key}`}>{t(`tabs.${key}`)}</span>,
            children:
              key === 'import' ? (
                <ImportTab onTriage={() => go('triage')} />
              ) : key === 'triage' ? (
                <TriageTab />
              ) : (
                <MappingTab />
              ),
          }))}
        />
      </Card>
    </div>
  );
}

/* ------------------------------------------------------------------------------------------------ import */

function ImportTab({ onTriage }: { onTriage: () => void }) {
  const { t } = useTranslation('hotline');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [source, setSource] = useState('12345');
  const [file, setFile] = useState<File | null>(null);
  // One clientId per chosen file, kept for retries of that file: a retry creates nothing twice.
  const clientId = useRef<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<HotlineImportResult | null>(null);

  async function submit() {
    if (!file) {
      setError(t('import.noFile'));
      return;
    }
    clientId.current ??= crypto.randomUUID();
    setBusy(true);
    setError(null);
    try {
      setResult(await uploadHotlineOrders({ file, clientId: clientId.current, source }));
      void queryClient.invalidateQueries({ queryKey: ['hotline', 'triage'] });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  function restart() {
    setFile(null);
    clientId.current = null;
    setResult(null);
    setError(null);
  }

  if (result) return <ImportOutcome result={result} onAgain={restart} onTriage={onTriage} />;

  return (
    <Form layout="vertical" style={{ maxWidth: 720 }} onFinish={() => void submit()}>
      <Form.Item extra={t('import.templateHint')}>
        <Button
          icon={<DownloadOutlined />}
          data-testid="hotline-template"
          onClick={() => void downloadHotlineTemplate().catch((e: unknown) => message.error(errorMessage(e)))}
        >
          {t('import.template')}
        </Button>
      </Form.Item>
      <Form.Item label={t('import.source')} htmlFor="hotline-source">
        <Radio.Group
          id="hotline-source"
          aria-label={t('import.source')}
          value={source}
          onChange={(e) => setSource(e.target.value as string)}
          optionType="button"
          buttonStyle="solid"
          options={['12345', '96118'].map((s) => ({ value: s, label: s }))}
        />
      </Form.Item>
      <Form.Item>
        <Upload.Dragger
          accept=".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"
          multiple={false}
          maxCount={1}
          showUploadList={false}
          beforeUpload={(f) => {
            if (!hotlineContentType(f.name)) {
              setError(t('import.notSupported', { file: f.name }));
              return Upload.LIST_IGNORE;
            }
            setFile(f);
            clientId.current = crypto.randomUUID();
            setError(null);
            return false;
          }}
          data-testid="hotline-dragger"
        >
          <p className="ant-upload-drag-icon">{file ? <FileExcelOutlined /> : <InboxOutlined />}</p>
          <p className="ant-upload-text">
            {file ? t('import.chosen', { file: file.name }) : t('import.drop')}
          </p>
          <p className="ant-upload-hint">{t('import.dropHint')}</p>
        </Upload.Dragger>
      </Form.Item>
      {error && (
        <Alert
          type="error"
          showIcon
          title={error}
          style={{ marginBottom: 16 }}
          data-testid="hotline-import-error"
        />
      )}
      <Space>
        <Button type="primary" htmlType="submit" loading={busy} disabled={!file} data-testid="hotline-submit">
          {error && file ? t('import.retry') : t('import.upload')}
        </Button>
        {busy && file && (
          <Typography.Text type="secondary">{t('import.uploading', { file: file.name })}</Typography.Text>
        )}
      </Space>
    </Form>
  );
}

function ImportOutcome({
  result: r,
  onAgain,
  onTriage,
}: {
  result: HotlineImportResult;
  onAgain: () => void;
  onTriage: () => void;
}) {
  const { t } = useTranslation('hotline');
  return (
    <div data-testid="hotline-result">
      <Result
        status={r.triaged.length > 0 ? 'warning' : 'success'}
        title={t('import.done')}
        subTitle={t('import.doneBody', {
          total: r.total,
          created: r.created,
          duplicates: r.duplicates,
          triaged: r.triaged.length,
        })}
        extra={
          <Space>
            {r.triaged.length > 0 && (
              <Button type="primary" onClick={onTriage}>
                {t('import.toTriage')}
              </Button>
            )}
            <Button icon={<ReloadOutlined />} onClick={onAgain}>
              {t('import.again')}
            </Button>
          </Space>
        }
        style={{ paddingBlock: 16 }}
      />
      <Space size={48} style={{ marginBottom: 16 }}>
        <Statistic title={t('import.total')} value={r.total} data-testid="hotline-total" />
        <Statistic
          title={t('import.created')}
          value={r.created}
          styles={{ content: { color: '#389e0d' } }}
          data-testid="hotline-created"
        />
        <Statistic title={t('import.duplicates')} value={r.duplicates} data-testid="hotline-duplicates" />
        <Statistic
          title={t('import.triaged')}
          value={r.triaged.length}
          styles={{ content: { color: r.triaged.length ? '#d46b08' : undefined } }}
          data-testid="hotline-triaged"
        />
      </Space>
      {r.triaged.length > 0 && (
        <>
          <Typography.Title level={5}>{t('import.triagedRows')}</Typography.Title>
          <Table
            size="small"
            rowKey={(e) => `${e.row}:${e.workOrderNumber ?? ''}`}
            dataSource={r.triaged}
            pagination={r.triaged.length > 20 ? { pageSize: 20 } : false}
            data-testid="hotline-triaged-rows"
            columns={[
              { title: t('import.row'), dataIndex: 'row', width: 80 },
              {
                title: t('import.workOrderNumber'),
                dataIndex: 'workOrderNumber',
                width: 180,
                render: (v: string | null) => v ?? '—',
              },
              {
                title: t('import.reason'),
                dataIndex: 'reason',
                width: 140,
                render: (v: HotlineTriageItem['reason']) => (
                  <Tag color={reasonColor[v]}>{t(`reasons.${v}`)}</Tag>
                ),
              },
              { title: t('import.message'), dataIndex: 'message' },
            ]}
          />
        </>
      )}
    </div>
  );
}

/* ------------------------------------------------------------------------------------------------ triage */

function useCategoryTree() {
  const { i18n } = useTranslation();
  const taxonomy = useTaxonomy();
  const tree = useMemo(() => categoryTree(taxonomy.data, i18n.language), [taxonomy.data, i18n.language]);
  return { taxonomy, tree };
}

function TriageTab() {
  const { t } = useTranslation('hotline');
  const [resolving, setResolving] = useState<HotlineTriageItem | null>(null);
  const [rejecting, setRejecting] = useState<HotlineTriageItem | null>(null);
  const [done, setDone] = useState<{ number: string; answer: HotlineResolved } | null>(null);
  const triage = useQuery({
    queryKey: ['hotline', 'triage', 'open'],
    queryFn: () => api.hotlineTriage({ query: { status: 'open', limit: 200 } }),
  });

  return (
    <div data-testid="hotline-triage">
      {done && (
        <Alert
          type="success"
          showIcon
          closable={{ onClose: () => setDone(null) }}
          style={{ marginBottom: 16 }}
          data-testid="hotline-resolved"
          title={t('triage.resolved')}
          description={
            <Space wrap>
              <span>{t('triage.resolvedBody', { number: done.number })}</span>
              {done.answer.caseId !== null && (
                <Link
                  to={`/cases/${done.answer.caseId}`}
                  title={t('triage.openCase')}
                  data-testid="hotline-resolved-case"
                >
                  {done.answer.serial}
                </Link>
              )}
            </Space>
          }
        />
      )}
      <div style={{ display: 'flex', justifyContent: 'flex-end', marginBottom: 8 }}>
        <Button icon={<ReloadOutlined />} onClick={() => void triage.refetch()} loading={triage.isFetching}>
          {t('triage.refresh')}
        </Button>
      </div>
      <QueryState
        query={triage}
        isEmpty={(d) => d.items.length === 0}
        empty={<EmptyState description={t('triage.empty')} />}
      >
        {(d) => (
          <Table<HotlineTriageItem>
            size="small"
            rowKey="id"
            dataSource={d.items}
            pagination={d.items.length > 20 ? { pageSize: 20 } : false}
            data-testid="hotline-triage-table"
            onRow={(r) => ({ 'data-testid': `triage-${r.workOrderNumber ?? r.id}` }) as never}
            columns={[
              {
                title: t('triage.workOrderNumber'),
                dataIndex: 'workOrderNumber',
                width: 170,
                render: (v: string | null, r) => (
                  <Space orientation="vertical" size={0}>
                    <Typography.Text strong>{v ?? t('triage.none')}</Typography.Text>
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {r.source} · {formatTime(r.order.callTime)}
                    </Typography.Text>
                  </Space>
                ),
              },
              {
                title: t('triage.reason'),
                dataIndex: 'reason',
                width: 130,
                render: (v: HotlineTriageItem['reason']) => (
                  <Tag color={reasonColor[v]}>{t(`reasons.${v}`)}</Tag>
                ),
              },
              {
                title: t('triage.message'),
                dataIndex: 'message',
                width: 260,
                render: (v: string, r) => (
                  <Space orientation="vertical" size={0}>
                    <span>{v}</span>
                    {r.reason === 'invalid' &&
                      r.fields.map((f) => (
                        <Typography.Text key={f.field} type="danger" style={{ fontSize: 12 }}>
                          {f.message}
                        </Typography.Text>
                      ))}
                  </Space>
                ),
              },
              {
                title: t('triage.order'),
                key: 'order',
                render: (_, r) => (
                  <Space orientation="vertical" size={0} style={{ maxWidth: 420 }}>
                    <Typography.Text strong>
                      {r.order.urgent && <Tag color="red">!</Tag>}
                      {r.order.title ?? t('triage.none')}
                    </Typography.Text>
                    {r.order.content && (
                      <Typography.Paragraph
                        type="secondary"
                        ellipsis={{ rows: 2, tooltip: r.order.content }}
                        style={{ marginBottom: 0 }}
                      >
                        {r.order.content}
                      </Typography.Paragraph>
                    )}
                    <Typography.Text style={{ fontSize: 12 }}>
                      {t('triage.address')}：{r.order.address ?? t('triage.none')}
                      {r.order.classificationCode && (
                        <>
                          {' · '}
                          {t('triage.classification')}：{r.order.classificationCode}
                        </>
                      )}
                    </Typography.Text>
                  </Space>
                ),
              },
              {
                title: t('triage.caller'),
                key: 'caller',
                width: 140,
                render: (_, r) => (
                  <Space orientation="vertical" size={0}>
                    <span>{r.order.callerName ?? t('triage.none')}</span>
                    <Typography.Text type="secondary" data-testid="triage-phone">
                      {r.order.callerPhoneMasked ?? t('triage.none')}
                    </Typography.Text>
                  </Space>
                ),
              },
              {
                title: '',
                key: 'actions',
                width: 190,
                render: (_, r) => (
                  <Space>
                    <Button
                      type="primary"
                      size="small"
                      onClick={() => setResolving(r)}
                      data-testid="triage-resolve"
                    >
                      {t('triage.resolve')}
                    </Button>
                    <Button size="small" danger onClick={() => setRejecting(r)} data-testid="triage-reject">
                      {t('triage.reject')}
                    </Button>
                  </Space>
                ),
              },
            ]}
          />
        )}
      </QueryState>
      {resolving && (
        <ResolveModal
          item={resolving}
          onClose={() => setResolving(null)}
          onDone={(answer) => {
            setDone({ number: resolving.workOrderNumber ?? String(resolving.id), answer });
            setResolving(null);
          }}
        />
      )}
      {rejecting && <RejectModal item={rejecting} onClose={() => setRejecting(null)} />}
    </div>
  );
}

interface ResolveValues {
  categoryCode: string;
  gridCode?: string;
}

function ResolveModal({
  item,
  onClose,
  onDone,
}: {
  item: HotlineTriageItem;
  onClose: () => void;
  onDone: (answer: HotlineResolved) => void;
}) {
  const { t } = useTranslation('hotline');
  const queryClient = useQueryClient();
  const [form] = Form.useForm<ResolveValues>();
  const { taxonomy, tree } = useCategoryTree();
  const [point, setPoint] = useState<[number, number] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const orderPoint: [number, number] | undefined =
    item.order.lng !== null && item.order.lat !== null ? [item.order.lng, item.order.lat] : undefined;

  async function submit(values: ResolveValues) {
    setBusy(true);
    setError(null);
    const body: ResolveHotlineTriageRequest = { categoryCode: values.categoryCode };
    if (point) body.location = { lng: point[0], lat: point[1] };
    const grid = values.gridCode?.trim();
    if (grid) body.gridCode = grid;
    try {
      const answer = await api.resolveHotlineTriage({ params: { id: item.id }, body });
      void queryClient.invalidateQueries({ queryKey: ['hotline', 'triage'] });
      onDone(answer);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open
      width={720}
      title={t('triage.resolveTitle', { number: item.workOrderNumber ?? item.id })}
      onCancel={onClose}
      okText={t('triage.submit')}
      cancelText={t('triage.cancel')}
      okButtonProps={{ loading: busy }}
      onOk={() => form.submit()}
      destroyOnHidden
    >
      <Typography.Paragraph type="secondary" style={{ marginBottom: 12 }}>
        {item.order.title ?? ''} {item.order.address ? `（${item.order.address}）` : ''}
      </Typography.Paragraph>
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)}>
        <Form.Item
          label={t('triage.category')}
          name="categoryCode"
          rules={[{ required: true, pattern: /^\d{4}$/, message: t('triage.categoryRequired') }]}
        >
          <TreeSelect
            data-testid="resolve-category"
            treeData={tree}
            showSearch={{ filterTreeNode: filterCategoryNode }}
            placeholder={t('triage.categoryPlaceholder')}
            loading={taxonomy.isPending}
            popupMatchSelectWidth={420}
            allowClear
          />
        </Form.Item>
        <Form.Item
          label={t('triage.gridCode')}
          name="gridCode"
          extra={t('triage.gridCodeHint')}
          rules={[{ pattern: /^\d{15}$/, message: t('triage.gridCodeInvalid') }]}
        >
          <Input maxLength={15} inputMode="numeric" data-testid="resolve-grid" />
        </Form.Item>
        <Form.Item label={t('triage.point')}>
          <div data-testid="resolve-map" style={{ borderRadius: 4, overflow: 'hidden' }}>
            <Suspense fallback={<Loading rows={4} />}>
              <PickPointMap
                value={point}
                onChange={setPoint}
                {...(orderPoint
                  ? { center: orderPoint, markers: [{ point: orderPoint, label: t('triage.orderPoint') }] }
                  : {})}
                height={240}
              />
            </Suspense>
          </div>
          {point && (
            <Space style={{ marginTop: 4 }}>
              <Typography.Text type="secondary">
                {t('triage.pointPicked', { lng: point[0].toFixed(6), lat: point[1].toFixed(6) })}
              </Typography.Text>
              <Button size="small" type="link" onClick={() => setPoint(null)}>
                {t('triage.clearPoint')}
              </Button>
            </Space>
          )}
        </Form.Item>
      </Form>
      {error && <Alert type="error" showIcon title={error} data-testid="resolve-error" />}
    </Modal>
  );
}

function RejectModal({ item, onClose }: { item: HotlineTriageItem; onClose: () => void }) {
  const { t } = useTranslation('hotline');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<{ reason: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const number = item.workOrderNumber ?? String(item.id);

  async function submit(values: { reason: string }) {
    setBusy(true);
    setError(null);
    try {
      await api.rejectHotlineTriage({ params: { id: item.id }, body: { reason: values.reason } });
      void queryClient.invalidateQueries({ queryKey: ['hotline', 'triage'] });
      void message.success(t('triage.rejected', { number }));
      onClose();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open
      title={t('triage.rejectTitle', { number })}
      onCancel={onClose}
      okText={t('triage.rejectSubmit')}
      cancelText={t('triage.cancel')}
      okButtonProps={{ danger: true, loading: busy }}
      onOk={() => form.submit()}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)}>
        <Form.Item
          label={t('triage.rejectReason')}
          name="reason"
          rules={[{ required: true, whitespace: true, message: t('triage.rejectRequired') }]}
        >
          <Input.TextArea rows={3} maxLength={500} showCount />
        </Form.Item>
      </Form>
      {error && <Alert type="error" showIcon title={error} />}
    </Modal>
  );
}

/* ------------------------------------------------------------------------------------------------ mapping */

function MappingTab() {
  const { t, i18n } = useTranslation('hotline');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const { taxonomy, tree } = useCategoryTree();
  const names = useMemo(() => taxonomyNames(taxonomy.data), [taxonomy.data]);
  const [filter, setFilter] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  const [draft, setDraft] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const list = useQuery({
    queryKey: ['hotline', 'classifications'],
    queryFn: () => api.hotlineClassifications({}),
  });

  const itemLabel = (code: string | null) =>
    code ? `${code} ${nameOf(names, code, i18n.language)}` : t('mapping.unmapped');

  async function save(row: HotlineClassification) {
    setBusy(true);
    try {
      await api.putHotlineClassification({
        params: { code: row.code },
        body: { name: row.name, itemCode: draft },
      });
      void message.success(t('mapping.saved', { code: row.code, name: row.name }));
      setEditing(null);
      await queryClient.invalidateQueries({ queryKey: ['hotline', 'classifications'] });
    } catch (e) {
      void message.error(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div data-testid="hotline-mapping">
      <div style={{ display: 'flex', justifyContent: 'space-between', gap: 16, marginBottom: 12 }}>
        <Typography.Text type="secondary">{t('mapping.intro')}</Typography.Text>
        <Input.Search
          allowClear
          placeholder={t('mapping.search')}
          aria-label={t('mapping.search')}
          style={{ width: 240, flex: 'none' }}
          onChange={(e) => setFilter(e.target.value.trim().toLowerCase())}
        />
      </div>
      <QueryState query={list}>
        {(d) => (
          <Table<HotlineClassification>
            size="small"
            rowKey="code"
            data-testid="hotline-mapping-table"
            dataSource={d.items.filter(
              (c) => !filter || c.code.includes(filter) || c.name.toLowerCase().includes(filter),
            )}
            pagination={{ pageSize: 50, hideOnSinglePage: true }}
            columns={[
              { title: t('mapping.code'), dataIndex: 'code', width: 110 },
              {
                title: t('mapping.name'),
                dataIndex: 'name',
                render: (v: string, r) => (
                  <span style={{ paddingLeft: r.level === 'major' ? 0 : r.level === 'middle' ? 16 : 32 }}>
                    {v}
                  </span>
                ),
              },
              {
                title: t('mapping.level'),
                dataIndex: 'level',
                width: 80,
                render: (v: HotlineClassification['level']) => t(`mapping.levels.${v}`),
              },
              {
                title: t('mapping.item'),
                dataIndex: 'itemCode',
                width: 360,
                render: (v: string | null, r) =>
                  editing === r.code ? (
                    <Space>
                      <TreeSelect
                        style={{ width: 220 }}
                        treeData={tree}
                        showSearch={{ filterTreeNode: filterCategoryNode }}
                        placeholder={t('mapping.clear')}
                        popupMatchSelectWidth={420}
                        value={draft ?? undefined}
                        onChange={(code?: string) => setDraft(code ?? null)}
                        allowClear
                        data-testid="mapping-item"
                      />
                      <Button size="small" type="primary" loading={busy} onClick={() => void save(r)}>
                        {t('mapping.save')}
                      </Button>
                      <Button size="small" onClick={() => setEditing(null)} disabled={busy}>
                        {t('mapping.cancel')}
                      </Button>
                    </Space>
                  ) : (
                    <Space>
                      {v ? (
                        <span>{itemLabel(v)}</span>
                      ) : (
                        <Typography.Text type="secondary">—</Typography.Text>
                      )}
                      <Button
                        size="small"
                        type="link"
                        onClick={() => {
                          setEditing(r.code);
                          setDraft(v);
                        }}
                        data-testid={`mapping-edit-${r.code}`}
                      >
                        {t('mapping.edit')}
                      </Button>
                    </Space>
                  ),
              },
              {
                title: t('mapping.effective'),
                dataIndex: 'effectiveItemCode',
                width: 220,
                render: (v: string | null, r) =>
                  v ? (
                    <Space size={4}>
                      <span>{itemLabel(v)}</span>
                      {r.itemCode === null && <Tag>{t('mapping.inherited')}</Tag>}
                    </Space>
                  ) : (
                    <Tag color="orange">{t('mapping.unmapped')}</Tag>
                  ),
              },
            ]}
          />
        )}
      </QueryState>
    </div>
  );
}
