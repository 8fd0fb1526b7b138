import { PlusOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Department } from '@wangge/contracts';
import { Alert, App, Button, Card, Form, Input, Modal, Space, Table } from 'antd';
import type { TableColumnsType } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader, showServerErrors } from './common.tsx';
import { RegionTreeSelect } from './RegionTreeSelect.tsx';

interface Values {
  code: string;
  name: string;
  nameEn?: string;
  regionCode: string;
}

/** 职能部门: the departments cases are dispatched to, with their handlers; admins create and rename them. */
export default function DepartmentsAdmin() {
  const { t } = useTranslation('admin');
  const me = useMe();
  const [region, setRegion] = useState<string | undefined>();
  const [editing, setEditing] = useState<Department | 'new' | null>(null);
  const writable = can(me, 'department.write');
  const query = useQuery({
    queryKey: ['departments', region ?? null],
    queryFn: () => api.departments({ query: { region } }),
    enabled: can(me, 'department.read'),
  });

  if (!can(me, 'department.read')) return <Forbidden />;

  const columns: TableColumnsType<Department> = [
    { title: t('departments.code'), dataIndex: 'code', width: 200 },
    { title: t('departments.name'), dataIndex: 'name' },
    { title: t('departments.nameEn'), dataIndex: 'nameEn', render: (v: string | null) => v ?? '—' },
    { title: t('departments.region'), dataIndex: 'regionName', width: 180 },
    {
      title: t('departments.handlers'),
      dataIndex: 'handlers',
      width: 110,
      align: 'right',
      sorter: (a, b) => a.handlers - b.handlers,
    },
  ];
  if (writable)
    columns.push({
      title: t('actions'),
      key: 'actions',
      width: 90,
      render: (_, d) => (
        <Button type="link" size="small" onClick={() => setEditing(d)} aria-label={`${t('edit')} ${d.name}`}>
          {t('edit')}
        </Button>
      ),
    });

  return (
    <div>
      <PageHeader
        title={t('departments.title')}
        extra={
          writable && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
              {t('departments.create')}
            </Button>
          )
        }
      />
      {!writable && (
        <Alert type="info" showIcon title={t('departments.readOnly')} style={{ marginBottom: 12 }} />
      )}
      <Card size="small">
        <Space style={{ marginBottom: 12 }}>
          <label htmlFor="departments-region">{t('departments.filterRegion')}</label>
          <RegionTreeSelect
            id="departments-region"
            value={region}
            onChange={(code) => setRegion(code)}
            allowClear
            maxLevel="community"
            placeholder={t('regionFilter')}
            style={{ width: 280 }}
          />
        </Space>
        <QueryState
          query={query}
          isEmpty={(d) => d.items.length === 0}
          empty={<EmptyState description={t('departments.empty')} />}
        >
          {(data) => (
            <Table
              size="small"
              rowKey="id"
              columns={columns}
              dataSource={data.items}
              pagination={data.items.length > 50 ? { pageSize: 50 } : false}
            />
          )}
        </QueryState>
      </Card>
      {editing && (
        <DepartmentForm department={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />
      )}
    </div>
  );
}

function DepartmentForm({ department, onClose }: { department: Department | null; onClose: () => void }) {
  const { t } = useTranslation('admin');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(values: Values) {
    setBusy(true);
    setError(null);
    try {
      const nameEn = values.nameEn?.trim() ? values.nameEn.trim() : null;
      if (department)
        await api.updateDepartment({ params: { id: department.id }, body: { name: values.name, nameEn } });
      else
        await api.createDepartment({
          body: { code: values.code, name: values.name, nameEn, regionCode: values.regionCode },
        });
      await queryClient.invalidateQueries({ queryKey: ['departments'] });
      void message.success(department ? t('saved') : t('created'));
      onClose();
    } catch (e) {
      setError(showServerErrors(form, e, ['code', 'name', 'nameEn', 'regionCode']));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open
      title={department ? t('departments.editTitle', { name: department.name }) : t('departments.create')}
      onCancel={onClose}
      okText={department ? t('save') : t('create')}
      cancelText={t('cancel')}
      confirmLoading={busy}
      onOk={() => form.submit()}
      destroyOnHidden
    >
      {error && <Alert role="alert" type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Form
        form={form}
        layout="vertical"
        initialValues={department ? { name: department.name, nameEn: department.nameEn ?? '' } : undefined}
        onFinish={(v) => void submit(v)}
      >
        {!department && (
          <Form.Item
            label={t('departments.code')}
            name="code"
            extra={t('departments.codeHint')}
            rules={[
              { required: true },
              { pattern: /^[a-z0-9][a-z0-9_-]{1,39}$/, message: t('departments.codeHint') },
            ]}
          >
            <Input autoFocus autoComplete="off" />
          </Form.Item>
        )}
        <Form.Item
          label={t('departments.name')}
          name="name"
          rules={[{ required: true, whitespace: true, max: 64 }]}
        >
          <Input autoFocus={!!department} />
        </Form.Item>
        <Form.Item label={t('departments.nameEn')} name="nameEn" rules={[{ max: 64 }]}>
          <Input />
        </Form.Item>
        {!department && (
          <Form.Item label={t('departments.region')} name="regionCode" rules={[{ required: true }]}>
            <RegionTreeSelect maxLevel="community" placeholder={t('regionPlaceholder')} />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}
