import { EnvironmentOutlined, SearchOutlined } from '@ant-design/icons';
import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CaseChannel, CreateCaseRequest, ExtraFieldValue, RegionView } from '@wangge/contracts';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Form,
  Input,
  InputNumber,
  Result,
  Row,
  Select,
  Space,
  Switch,
  Tag,
  TreeSelect,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { lazy, Suspense, useDeferredValue, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api, ApiError, errorMessage, fieldErrors } from '../../api.ts';
import { can, useMe, type Me } from '../../shared/auth.tsx';
import { Loading } from '../../shared/states.tsx';
import { categoryTree, filterCategoryNode, formFields, StatusTag, useTaxonomy } from './caseUi.tsx';

const PickPointMap = lazy(() => import('../map/PickPointMap.tsx'));

/** The channels each role may report through (mirrors the server's table; the server decides). */
const channelsByRole: Record<string, readonly CaseChannel[]> = {
  admin: ['hotline', 'department', 'leader', 'system', 'resident', 'wish', 'grid_worker'],
  centre_operator: ['hotline', 'department', 'leader', 'system', 'resident', 'wish'],
  hotline_operator: ['hotline'],
};
const phonePattern = /^(?:\+?86)?1\d{10}$|^0\d{2,3}-?\d{7,8}$/;

function channelsOf(me: Me): CaseChannel[] {
  const set = new Set<CaseChannel>();
  for (const r of me.roles) for (const c of channelsByRole[r.role] ?? []) set.add(c);
  return [...set];
}

/** A v4 UUID, also where `crypto.randomUUID` is missing (plain-HTTP intranet hosts are not a secure context). */
function newClientId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

interface Values {
  channel: CaseChannel;
  title: string;
  description?: string;
  categoryCode?: string;
  urgent: boolean;
  address?: string;
  contact?: string;
  extra?: Record<string, unknown>;
  hotline?: { callerName: string; callerPhone: string; callTime: Dayjs; workOrderNumber: string };
}

/**
 * 新建案件 (hotline 12345 work orders first): the caller, the request, the item, the place — searched, then picked
 * on the map and routed to its grid — with possible duplicates nearby shown before saving. The client id is made
 * once per form, so a double click or a retry after a lost answer creates one case.
 */
export default function NewCasePage() {
  const { t } = useTranslation('workbench');
  const me = useMe();
  const channels = channelsOf(me);
  if (!can(me, 'case.report') || channels.length === 0)
    return <Result status="403" title={t('newCase.forbidden')} />;
  return <NewCaseForm channels={channels} />;
}

function NewCaseForm({ channels }: { channels: CaseChannel[] }) {
  const { t, i18n } = useTranslation('workbench');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<Values>();
  const [clientId] = useState(newClientId);
  const [point, setPoint] = useState<[number, number] | null>(null);
  const [pointError, setPointError] = useState<string | null>(null);
  const [place, setPlace] = useState<RegionView | null>(null);
  const [search, setSearch] = useState('');
  const term = useDeferredValue(search.trim());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const channel = Form.useWatch<CaseChannel | undefined>('channel', form) ?? channels[0]!;
  const categoryCode = Form.useWatch<string | undefined>('categoryCode', form);
  const taxonomy = useTaxonomy();
  const tree = useMemo(() => categoryTree(taxonomy.data, i18n.language), [taxonomy.data, i18n.language]);
  const item = useMemo(
    () => taxonomy.data?.categories.flatMap((c) => c.items).find((i) => i.code === categoryCode),
    [taxonomy.data, categoryCode],
  );

  const places = useQuery({
    queryKey: ['regionSearch', term],
    queryFn: () => api.regionSearch({ query: { q: term, limit: 20 } }),
    enabled: term.length > 0,
    staleTime: 60_000,
  });
  const located = useQuery({
    queryKey: ['locate', point?.[0], point?.[1]],
    queryFn: () => api.locateGrid({ query: { lng: point![0], lat: point![1] } }),
    enabled: !!point,
    retry: false,
    staleTime: Infinity,
  });
  const nearby = useQuery({
    queryKey: ['cases', 'nearby', categoryCode, point?.[0], point?.[1]],
    queryFn: () =>
      api.nearbyCases({ query: { categoryCode: categoryCode!, lng: point![0], lat: point![1] } }),
    enabled: !!point && !!categoryCode && /^\d{4}$/.test(categoryCode),
    retry: false,
  });
  const duplicates = nearby.data?.items ?? [];
  // Their points, for markers on the map (the case reads are cached for the case page too).
  const duplicatePoints = useQueries({
    queries: duplicates.slice(0, 10).map((d) => ({
      queryKey: ['case', d.id],
      queryFn: () => api.case({ params: { id: d.id } }),
      staleTime: 60_000,
    })),
  });
  const markers = duplicatePoints.flatMap((q) =>
    q.data?.location ? [{ point: q.data.location, label: q.data.serial }] : [],
  );

  const center = place?.centroid ?? undefined;
  const placeOptions = [
    ...(place ? [place] : []),
    ...(places.data?.items ?? []).filter((r) => r.code !== place?.code),
  ];

  function pick(p: [number, number]) {
    setPoint([Number(p[0].toFixed(7)), Number(p[1].toFixed(7))]);
    setPointError(null);
  }

  async function submit(values: Values) {
    setError(null);
    if (!point) {
      setPointError(t('newCase.pointRequired'));
      return;
    }
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values.extra ?? {})) {
      if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) continue;
      extra[k] = dayjs.isDayjs(v) ? v.format('YYYY-MM-DD') : v;
    }
    const body: CreateCaseRequest = {
      clientId,
      title: values.title.trim(),
      description: values.description?.trim() ?? '',
      categoryCode: values.categoryCode ?? '',
      location: { lng: point[0], lat: point[1], crs: 'wgs84' },
      channel: values.channel,
      urgent: values.urgent,
      anonymous: false,
      extra,
      ...(values.address?.trim() ? { address: values.address.trim() } : {}),
      ...(values.channel !== 'hotline' && values.contact?.trim() ? { contact: values.contact.trim() } : {}),
      ...(values.channel === 'hotline' && values.hotline
        ? {
            hotline: {
              callerName: values.hotline.callerName.trim(),
              callerPhone: values.hotline.callerPhone.trim(),
              callTime: values.hotline.callTime.toISOString(),
              workOrderNumber: values.hotline.workOrderNumber.trim(),
            },
          }
        : {}),
    };
    setBusy(true);
    try {
      const created = await api.createCase({ body });
      void queryClient.invalidateQueries({ queryKey: ['queue'] });
      void queryClient.invalidateQueries({ queryKey: ['cases'] });
      void message.success(
        t(created.created ? 'newCase.created' : 'newCase.createdAgain', { serial: created.serial }),
      );
      void navigate(`/cases/${created.id}`);
    } catch (e) {
      const fields = formFields(fieldErrors(e));
      const pointFields = fields.filter((f) => f.name[0] === 'location' || f.name[0] === 'gridCode');
      const outside =
        e instanceof ApiError && (e.code === 'CASE_OUTSIDE_GRIDS' || e.code === 'GRID_NOT_FOUND');
      if (pointFields.length > 0) setPointError(pointFields.flatMap((f) => f.errors).join('；'));
      else if (outside) setPointError(errorMessage(e));
      const rest = fields.filter((f) => !pointFields.includes(f));
      if (rest.length > 0) form.setFields(rest);
      const known = [
        'title',
        'description',
        'categoryCode',
        'channel',
        'address',
        'contact',
        'extra',
        'hotline',
      ];
      const unknown = rest.some((f) => !known.includes(String(f.name[0])));
      if ((fields.length === 0 && !outside) || unknown) setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  const gridStatus = !point ? null : located.isPending ? (
    <Typography.Text type="secondary">{t('newCase.locating')}</Typography.Text>
  ) : located.isError ? (
    <Typography.Text type="danger">{t('newCase.outsideGrids')}</Typography.Text>
  ) : (
    <Tag color="red" data-testid="routed-grid">
      {located.data.name}（{located.data.code}）
    </Tag>
  );

  return (
    <Form<Values>
      form={form}
      layout="vertical"
      name="newCase"
      onFinish={(v) => void submit(v)}
      onFinishFailed={() => {
        if (!point) setPointError(t('newCase.pointRequired'));
      }}
      initialValues={{
        channel: channels.includes('hotline') ? 'hotline' : channels[0],
        urgent: false,
        hotline: { callTime: dayjs() },
      }}
      scrollToFirstError
    >
      <Typography.Title level={3} className="page-title" style={{ marginBottom: 0 }}>
        {t('newCase.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('newCase.subtitle')}</Typography.Paragraph>
      {error && <Alert type="error" showIcon role="alert" title={error} style={{ marginBottom: 16 }} />}
      <Row gutter={16}>
        <Col span={13}>
          {channels.length > 1 && (
            <Card style={{ marginBottom: 16 }}>
              <Form.Item label={t('newCase.channel')} name="channel" style={{ marginBottom: 0 }}>
                <Select
                  options={channels.map((c) => ({ value: c, label: t(`common:channel.${c}`) }))}
                  style={{ width: 240 }}
                />
              </Form.Item>
            </Card>
          )}
          {channels.length === 1 && (
            <Form.Item name="channel" hidden>
              <Input />
            </Form.Item>
          )}
          {channel === 'hotline' && (
            <Card title={t('newCase.caller')} style={{ marginBottom: 16 }}>
              <Row gutter={16}>
                <Col span={12}>
                  <Form.Item
                    label={t('newCase.callerName')}
                    name={['hotline', 'callerName']}
                    rules={[{ required: true, whitespace: true, message: t('newCase.callerNameRequired') }]}
                  >
                    <Input maxLength={100} autoFocus />
                  </Form.Item>
                </Col>
                <Col span={12}>
                  <Form.Item
                    label={t('newCase.callerPhone')}
                    name={['hotline', 'callerPhone']}
                    rules={[
                      { required: true, whitespace: true, message: t('newCase.callerPhoneRequired') },
                      { pattern: phonePattern, message: t('newCase.callerPhoneInvalid') },
                    ]}
                  >
                    <Input maxLength={20} inputMode="tel" />
                  </Form.Item>
                </Col>
                <Col span={12}>
                  <Form.Item
                    label={t('newCase.callTime')}
                    name={['hotline', 'callTime']}
                    rules={[{ required: true, message: t('newCase.callTimeRequired') }]}
                  >
                    <DatePicker showTime format="YYYY-MM-DD HH:mm" style={{ width: '100%' }} />
                  </Form.Item>
                </Col>
                <Col span={12}>
                  <Form.Item
                    label={t('newCase.workOrderNumber')}
                    name={['hotline', 'workOrderNumber']}
                    rules={[
                      { required: true, whitespace: true, message: t('newCase.workOrderNumberRequired') },
                    ]}
                  >
                    <Input maxLength={64} />
                  </Form.Item>
                </Col>
              </Row>
            </Card>
          )}
          <Card title={t('newCase.facts')} style={{ marginBottom: 16 }}>
            <Form.Item
              label={t('newCase.titleLabel')}
              name="title"
              rules={[{ required: true, whitespace: true, message: t('newCase.titleRequired') }]}
            >
              <Input maxLength={200} showCount placeholder={t('newCase.titlePlaceholder')} />
            </Form.Item>
            <Form.Item label={t('newCase.description')} name="description">
              <Input.TextArea
                rows={4}
                maxLength={5000}
                showCount
                placeholder={t('newCase.descriptionPlaceholder')}
              />
            </Form.Item>
            <Row gutter={16}>
              <Col span={16}>
                <Form.Item
                  label={t('newCase.category')}
                  name="categoryCode"
                  rules={[{ required: true, pattern: /^\d{4}$/, message: t('newCase.categoryRequired') }]}
                >
                  <TreeSelect
                    treeData={tree}
                    showSearch={{ filterTreeNode: filterCategoryNode }}
                    placeholder={t('newCase.categoryPlaceholder')}
                    loading={taxonomy.isPending}
                    treeDefaultExpandAll={false}
                    popupMatchSelectWidth={420}
                    allowClear
                  />
                </Form.Item>
              </Col>
              <Col span={8}>
                <Form.Item label={t('newCase.urgent')} name="urgent" valuePropName="checked">
                  <Switch />
                </Form.Item>
              </Col>
            </Row>
            {item && item.fields.length > 0 && (
              <Row gutter={16}>
                {item.fields.map((f) => (
                  <Col span={12} key={f.code}>
                    <ExtraField field={f} />
                  </Col>
                ))}
              </Row>
            )}
            {channel !== 'hotline' && (
              <Form.Item
                label={t('newCase.contact')}
                name="contact"
                rules={[{ pattern: phonePattern, message: t('newCase.callerPhoneInvalid') }]}
              >
                <Input maxLength={20} inputMode="tel" placeholder={t('newCase.contactPlaceholder')} />
              </Form.Item>
            )}
          </Card>
        </Col>
        <Col span={11}>
          <Card title={t('newCase.location')} style={{ marginBottom: 16 }}>
            <Form.Item label={t('newCase.place')} htmlFor="place-search" style={{ marginBottom: 12 }}>
              <Select<string>
                id="place-search"
                data-testid="place-search"
                style={{ width: '100%' }}
                placeholder={t('newCase.placePlaceholder')}
                suffixIcon={<SearchOutlined />}
                showSearch={{ filterOption: false, onSearch: setSearch }}
                value={place?.code}
                onChange={(code) => {
                  const found = placeOptions.find((r) => r.code === code) ?? null;
                  setPlace(found);
                  setPoint(null);
                }}
                notFoundContent={
                  term && !places.isFetching ? (
                    t('newCase.placeNone')
                  ) : places.isFetching ? (
                    <Loading inline />
                  ) : null
                }
                options={placeOptions.map((r) => ({
                  value: r.code,
                  label: `${r.name}（${t(`common:levels.${r.level}`)} ${r.code}）`,
                }))}
              />
            </Form.Item>
            <div data-testid="pick-point-map" style={{ borderRadius: 4, overflow: 'hidden' }}>
              <Suspense fallback={<Loading rows={6} />}>
                <PickPointMap
                  key={place?.code ?? 'home'}
                  value={point}
                  onChange={pick}
                  {...(center ? { center } : {})}
                  markers={markers}
                  height={340}
                />
              </Suspense>
            </div>
            <div style={{ margin: '8px 0 12px' }} aria-live="polite">
              {point && (
                <Space size={8} wrap>
                  <EnvironmentOutlined />
                  <span>{t('newCase.routedGrid')}：</span>
                  {gridStatus}
                </Space>
              )}
              {pointError && (
                <div role="alert" style={{ color: '#cf1322', marginTop: 4 }}>
                  {pointError}
                </div>
              )}
            </div>
            <Form.Item label={t('newCase.address')} name="address">
              <Input maxLength={300} placeholder={t('newCase.addressPlaceholder')} />
            </Form.Item>
            {point && categoryCode && nearby.isSuccess && (
              <Alert
                data-testid="duplicate-hints"
                type={duplicates.length > 0 ? 'warning' : 'success'}
                showIcon
                title={
                  duplicates.length > 0
                    ? t('newCase.duplicates', { count: duplicates.length })
                    : t('newCase.noDuplicates')
                }
                description={
                  duplicates.length > 0 ? (
                    <>
                      <ul style={{ paddingInlineStart: 18, margin: '4px 0' }}>
                        {duplicates.map((d) => (
                          <li key={d.id}>
                            <Space size={6} wrap>
                              <Link to={`/cases/${d.id}`} target="_blank">
                                {d.serial}
                              </Link>
                              <span>{d.title}</span>
                              <StatusTag status={d.status} />
                              <Typography.Text type="secondary">
                                {t('newCase.distance', { meters: Math.round(d.distanceM) })}
                              </Typography.Text>
                            </Space>
                          </li>
                        ))}
                      </ul>
                      <Typography.Text type="secondary">{t('newCase.duplicatesHint')}</Typography.Text>
                    </>
                  ) : undefined
                }
              />
            )}
          </Card>
        </Col>
      </Row>
      <Card
        className="new-case-actions"
        styles={{
          body: { display: 'flex', justifyContent: 'flex-end', alignItems: 'center', gap: 12, padding: 12 },
        }}
        style={{ position: 'sticky', bottom: 0, zIndex: 5, boxShadow: '0 -2px 8px rgba(0,0,0,0.06)' }}
      >
        <Button onClick={() => void navigate('/workbench')}>{t('form.cancel')}</Button>
        <Button type="primary" htmlType="submit" loading={busy} size="large">
          {t('newCase.submit')}
        </Button>
      </Card>
    </Form>
  );
}

/** A taxonomy item's extra field (涉及人数, 金额…), by type. */
function ExtraField({ field }: { field: ExtraFieldValue }) {
  const { i18n } = useTranslation();
  const en = i18n.language === 'en';
  const label = en ? (field.en ?? field.zh) : field.zh;
  const options = (field.options ?? []).map((o) => ({ value: o.value, label: en ? (o.en ?? o.zh) : o.zh }));
  const input =
    field.type === 'number' ? (
      <InputNumber style={{ width: '100%' }} />
    ) : field.type === 'date' ? (
      <DatePicker style={{ width: '100%' }} />
    ) : field.type === 'single' ? (
      <Select options={options} allowClear />
    ) : field.type === 'multi' ? (
      <Select mode="multiple" options={options} allowClear />
    ) : (
      <Input maxLength={200} />
    );
  return (
    <Form.Item label={label} name={['extra', field.code]} rules={[{ required: !!field.required }]}>
      {input}
    </Form.Item>
  );
}
