import { CheckOutlined, PlusOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { TaxonomyItem, TaxonomyTree } from '@wangge/contracts';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Descriptions,
  Drawer,
  Form,
  Input,
  InputNumber,
  Row,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { TableColumnsType } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader, showServerErrors } from './common.tsx';

type Category = TaxonomyTree['categories'][number];

interface TreeRow {
  key: string;
  code: string;
  nameZh: string;
  nameEn: string;
  active: boolean;
  item?: TaxonomyItem;
  category?: Category;
  children?: TreeRow[];
}

interface Values {
  parentCode: string;
  code: string;
  nameZh: string;
  nameEn: string;
  departmentKey?: string | null;
  fixOnSpot: boolean;
  active: boolean;
  limits: { acceptHours: number; handleWorkingDays: number; inspectWorkingDays: number };
}

/** 事项分类与时限: the two-level case taxonomy with each item's time limits, default department and flags. */
export default function CategoriesAdmin() {
  const { t, i18n } = useTranslation('admin');
  const me = useMe();
  const [search, setSearch] = useState('');
  const [editing, setEditing] = useState<{ item: TaxonomyItem | null; parent: Category } | null>(null);
  const allowed = can(me, 'taxonomy.write');
  const query = useQuery({
    queryKey: ['taxonomy', 'all'],
    queryFn: () => api.taxonomy({ query: { all: '1' } }),
    enabled: allowed,
  });
  const departments = useQuery({
    queryKey: ['departments', null],
    queryFn: () => api.departments({ query: {} }),
    enabled: allowed,
    staleTime: 60_000,
  });
  const departmentNames = useMemo(() => {
    const names = new Map<string, string>();
    for (const d of departments.data?.items ?? []) if (!names.has(d.code)) names.set(d.code, d.name);
    return names;
  }, [departments.data]);

  const rows = useMemo((): TreeRow[] => {
    const q = search.trim().toLowerCase();
    const match = (code: string, zh: string, en: string) =>
      !q || code.startsWith(q) || zh.toLowerCase().includes(q) || en.toLowerCase().includes(q);
    return (query.data?.categories ?? [])
      .map((c) => {
        const items = c.items.filter(
          (i) => match(i.code, i.nameZh, i.nameEn) || match(c.code, c.nameZh, c.nameEn),
        );
        return {
          key: c.code,
          code: c.code,
          nameZh: c.nameZh,
          nameEn: c.nameEn,
          active: c.active,
          category: c,
          children: items.map((i) => ({
            key: i.code,
            code: i.code,
            nameZh: i.nameZh,
            nameEn: i.nameEn,
            active: i.active,
            item: i,
          })),
        };
      })
      .filter((c) => c.children.length > 0 || match(c.code, c.nameZh, c.nameEn));
  }, [query.data, search]);

  if (!allowed) return <Forbidden />;

  const en = i18n.language === 'en';
  const columns: TableColumnsType<TreeRow> = [
    { title: t('categories.code'), dataIndex: 'code', width: 120 },
    {
      title: t('categories.name'),
      key: 'name',
      render: (_, r) =>
        r.category ? (
          <Typography.Text strong>{en ? r.nameEn : r.nameZh}</Typography.Text>
        ) : (
          <span>
            {en ? r.nameEn : r.nameZh}
            {!en && (
              <Typography.Text type="secondary" style={{ marginLeft: 8, fontSize: 12 }}>
                {r.nameEn}
              </Typography.Text>
            )}
          </span>
        ),
    },
    {
      title: t('categories.department'),
      key: 'department',
      width: 170,
      render: (_, r) =>
        r.item
          ? r.item.departmentKey
            ? (departmentNames.get(r.item.departmentKey) ?? r.item.departmentKey)
            : t('categories.none')
          : null,
    },
    {
      title: t('categories.fixOnSpot'),
      key: 'fixOnSpot',
      width: 90,
      align: 'center',
      render: (_, r) =>
        r.item?.fixOnSpot ? <CheckOutlined aria-label={t('yes')} style={{ color: '#389e0d' }} /> : null,
    },
    {
      title: t('categories.acceptHours'),
      key: 'acceptHours',
      width: 130,
      align: 'right',
      render: (_, r) => r.item?.limits.acceptHours,
    },
    {
      title: t('categories.handleWorkingDays'),
      key: 'handle',
      width: 140,
      align: 'right',
      render: (_, r) => r.item?.limits.handleWorkingDays,
    },
    {
      title: t('categories.inspectWorkingDays'),
      key: 'inspect',
      width: 140,
      align: 'right',
      render: (_, r) => r.item?.limits.inspectWorkingDays,
    },
    {
      title: t('status'),
      key: 'active',
      width: 80,
      render: (_, r) => (r.active ? <Tag color="green">{t('active')}</Tag> : <Tag>{t('inactive')}</Tag>),
    },
    {
      title: t('actions'),
      key: 'actions',
      width: 120,
      render: (_, r) =>
        r.category ? (
          <Button
            type="link"
            size="small"
            icon={<PlusOutlined />}
            onClick={() => setEditing({ item: null, parent: r.category! })}
            aria-label={t('categories.addItemTo', { name: r.nameZh })}
          >
            {t('categories.addItem')}
          </Button>
        ) : (
          <Button
            type="link"
            size="small"
            onClick={() => {
              const parent = query.data?.categories.find((c) => c.code === r.item!.parentCode);
              if (parent) setEditing({ item: r.item!, parent });
            }}
            aria-label={`${t('edit')} ${r.code}`}
          >
            {t('edit')}
          </Button>
        ),
    },
  ];

  return (
    <div>
      <PageHeader
        title={t('categories.title')}
        intro={t('categories.intro')}
        extra={
          query.data?.categories[0] && (
            <Button
              type="primary"
              icon={<PlusOutlined />}
              onClick={() => setEditing({ item: null, parent: query.data.categories[0]! })}
            >
              {t('categories.addItem')}
            </Button>
          )
        }
      />
      <Card size="small">
        <Input.Search
          allowClear
          placeholder={t('categories.search')}
          aria-label={t('categories.search')}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          style={{ width: 300, marginBottom: 12 }}
        />
        <QueryState
          query={query}
          isEmpty={(d) => d.categories.length === 0}
          empty={<EmptyState description={t('categories.empty')} />}
        >
          {() =>
            rows.length === 0 ? (
              <EmptyState />
            ) : (
              <Table<TreeRow>
                size="small"
                columns={columns}
                dataSource={rows}
                pagination={false}
                expandable={{ expandedRowKeys: rows.map((r) => r.key), showExpandColumn: false }}
                onRow={(r) => (r.category ? { style: { background: '#fafafa' } } : {})}
              />
            )
          }
        </QueryState>
      </Card>
      {editing && query.data && (
        <ItemForm
          item={editing.item}
          parent={editing.parent}
          categories={query.data.categories}
          departments={[...departmentNames.entries()].map(([code, name]) => ({ code, name }))}
          onClose={() => setEditing(null)}
        />
      )}
    </div>
  );
}

/** The next free item code in a category: its code followed by the next two digits. */
function nextItemCode(category: Category): string {
  const used = new Set(category.items.map((i) => i.code));
  for (let n = 1; n < 100; n++) {
    const code = `${category.code}${String(n).padStart(2, '0')}`;
    if (!used.has(code)) return code;
  }
  return '';
}

function ItemForm({
  item,
  parent,
  categories,
  departments,
  onClose,
}: {
  item: TaxonomyItem | null;
  parent: Category;
  categories: Category[];
  departments: { code: string; name: string }[];
  onClose: () => void;
}) {
  const { t } = useTranslation('admin');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const initialValues: Values = item
    ? {
        parentCode: item.parentCode,
        code: item.code,
        nameZh: item.nameZh,
        nameEn: item.nameEn,
        departmentKey: item.departmentKey,
        fixOnSpot: item.fixOnSpot,
        active: item.active,
        limits: { ...item.limits },
      }
    : {
        parentCode: parent.code,
        code: nextItemCode(parent),
        nameZh: '',
        nameEn: '',
        departmentKey: null,
        fixOnSpot: false,
        active: true,
        limits: { acceptHours: 2, handleWorkingDays: 5, inspectWorkingDays: 1 },
      };

  async function submit(values: Values) {
    setBusy(true);
    setError(null);
    try {
      const common = {
        nameZh: values.nameZh.trim(),
        nameEn: values.nameEn.trim(),
        departmentKey: values.departmentKey ?? null,
        fixOnSpot: values.fixOnSpot,
        active: values.active,
        limits: values.limits,
      };
      if (item) await api.updateTaxonomyItem({ params: { code: item.code }, body: common });
      else
        await api.createTaxonomyItem({
          body: { ...common, code: values.code, parentCode: values.parentCode },
        });
      await queryClient.invalidateQueries({ queryKey: ['taxonomy'] });
      void message.success(item ? t('saved') : t('created'));
      onClose();
    } catch (e) {
      setError(
        showServerErrors(form, e, [
          'code',
          'parentCode',
          'nameZh',
          'nameEn',
          'departmentKey',
          'fixOnSpot',
          'active',
          'limits',
        ]),
      );
    } finally {
      setBusy(false);
    }
  }

  const limitsByLevel = item ? Object.entries(item.limitsByLevel) : [];

  return (
    <Drawer
      open
      size={640}
      title={
        item
          ? t('categories.editTitle', { code: item.code, name: item.nameZh })
          : t('categories.addItemTo', { name: parent.nameZh })
      }
      onClose={onClose}
      extra={
        <Space>
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="primary" loading={busy} onClick={() => form.submit()}>
            {item ? t('save') : t('create')}
          </Button>
        </Space>
      }
    >
      {error && <Alert role="alert" type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Form
        form={form}
        layout="vertical"
        initialValues={initialValues}
        onFinish={(v) => void submit(v)}
        onValuesChange={(changed: Partial<Values>) => {
          const category = changed.parentCode
            ? categories.find((c) => c.code === changed.parentCode)
            : undefined;
          if (!item && category) form.setFieldValue('code', nextItemCode(category));
        }}
      >
        <Row gutter={16}>
          <Col span={12}>
            <Form.Item label={t('categories.parent')} name="parentCode" rules={[{ required: true }]}>
              <Select
                disabled={!!item}
                options={categories.map((c) => ({ value: c.code, label: `${c.code} ${c.nameZh}` }))}
              />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item
              label={t('categories.code')}
              name="code"
              dependencies={['parentCode']}
              rules={[
                { required: true },
                ({ getFieldValue }) => ({
                  validator: (_, value: string) =>
                    !value || (/^\d{4}$/.test(value) && value.startsWith(String(getFieldValue('parentCode'))))
                      ? Promise.resolve()
                      : Promise.reject(new Error(t('categories.itemCodeRule'))),
                }),
              ]}
            >
              <Input disabled={!!item} maxLength={4} />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item
              label={t('categories.nameZh')}
              name="nameZh"
              rules={[{ required: true, whitespace: true, max: 50 }]}
            >
              <Input autoFocus />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item
              label={t('categories.nameEn')}
              name="nameEn"
              rules={[{ required: true, whitespace: true, max: 100 }]}
            >
              <Input />
            </Form.Item>
          </Col>
          <Col span={12}>
            <Form.Item label={t('categories.department')} name="departmentKey">
              <Select
                allowClear
                showSearch={{ optionFilterProp: 'label' }}
                options={departments.map((d) => ({ value: d.code, label: `${d.name}（${d.code}）` }))}
              />
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item
              label={t('categories.fixOnSpot')}
              name="fixOnSpot"
              valuePropName="checked"
              tooltip={t('categories.fixOnSpotHint')}
            >
              <Switch />
            </Form.Item>
          </Col>
          <Col span={6}>
            <Form.Item label={t('categories.active')} name="active" valuePropName="checked">
              <Switch />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item
              label={t('categories.acceptHours')}
              name={['limits', 'acceptHours']}
              rules={[{ required: true }]}
            >
              <InputNumber min={0.5} max={720} step={0.5} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item
              label={t('categories.handleWorkingDays')}
              name={['limits', 'handleWorkingDays']}
              rules={[{ required: true }]}
            >
              <InputNumber min={0} max={365} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col span={8}>
            <Form.Item
              label={t('categories.inspectWorkingDays')}
              name={['limits', 'inspectWorkingDays']}
              rules={[{ required: true }]}
            >
              <InputNumber min={0} max={365} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
        </Row>
      </Form>
      {item && (
        <Descriptions
          size="small"
          column={1}
          bordered
          items={[
            {
              key: 'byLevel',
              label: t('categories.byLevel'),
              children: limitsByLevel.length
                ? limitsByLevel.map(([level, l]) => (
                    <div key={level}>
                      {t(`common:levels.${level}`)}：
                      {[
                        l.acceptHours !== undefined && `${t('categories.acceptHours')} ${l.acceptHours}`,
                        l.handleWorkingDays !== undefined &&
                          `${t('categories.handleWorkingDays')} ${l.handleWorkingDays}`,
                        l.inspectWorkingDays !== undefined &&
                          `${t('categories.inspectWorkingDays')} ${l.inspectWorkingDays}`,
                      ]
                        .filter(Boolean)
                        .join('，')}
                    </div>
                  ))
                : t('categories.byLevelNone'),
            },
            {
              key: 'fields',
              label: t('categories.fields'),
              children: item.fields.length ? item.fields.map((f) => f.zh).join('、') : t('categories.none'),
            },
          ]}
        />
      )}
    </Drawer>
  );
}
