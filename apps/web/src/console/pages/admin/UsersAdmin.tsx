import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { roleValues, type UserSchema } from '@wangge/contracts';
import {
  Alert,
  App,
  AutoComplete,
  Button,
  Card,
  Col,
  Drawer,
  Form,
  Input,
  Row,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { TableColumnsType } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { z } from 'zod';
import { api } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader, showServerErrors } from './common.tsx';
import { RegionTreeSelect } from './RegionTreeSelect.tsx';

type User = z.output<typeof UserSchema>;
type Role = (typeof roleValues)[number];

/** Roles that hold for the whole system, without a region. */
const systemWide: readonly Role[] = ['admin', 'auditor'];
const specialties = [
  'party-building',
  'mediation',
  'livelihood',
  'public-order',
  'construction',
  'enforcement',
  'environment',
  'emergency',
  'market',
] as const;

interface GrantValues {
  role?: Role;
  regionCode?: string | null;
  departmentId?: number | null;
  specialty?: string | null;
}

interface Values {
  username: string;
  displayName: string;
  password?: string;
  mustChangePassword?: boolean;
  active?: boolean;
  resetPassword?: string;
  grants: GrantValues[];
}

function useDepartments() {
  const me = useMe();
  return useQuery({
    queryKey: ['departments', null],
    queryFn: () => api.departments({ query: {} }),
    enabled: can(me, 'department.read'),
    staleTime: 60_000,
  });
}

/** 用户与角色: who may sign in, with which roles where (grants); create, edit, disable, reset the password. */
export default function UsersAdmin() {
  const { t } = useTranslation('admin');
  const me = useMe();
  const [region, setRegion] = useState<string | undefined>();
  const [role, setRole] = useState<Role | undefined>();
  const [editing, setEditing] = useState<User | 'new' | null>(null);
  // Users created here stay on top of the list (it pages through hundreds, oldest first).
  const [recent, setRecent] = useState<User[]>([]);
  const recentIds = new Set(recent.map((u) => u.id));
  const writable = can(me, 'user.write');
  const departments = useDepartments();
  const query = useInfiniteQuery({
    queryKey: ['users', region ?? null, role ?? null],
    enabled: can(me, 'user.read'),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => api.users({ query: { region, role, limit: 50, cursor: pageParam } }),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });

  if (!can(me, 'user.read')) return <Forbidden />;

  const departmentName = (id: number | null) =>
    id === null ? null : (departments.data?.items.find((d) => d.id === id)?.name ?? `#${id}`);

  const columns: TableColumnsType<User> = [
    {
      title: t('users.username'),
      dataIndex: 'username',
      width: 220,
      render: (name: string, u) => (
        <Space size={4}>
          {name}
          {recentIds.has(u.id) && <Tag color="gold">{t('users.justSaved')}</Tag>}
        </Space>
      ),
    },
    { title: t('users.displayName'), dataIndex: 'displayName', width: 160 },
    {
      title: t('status'),
      dataIndex: 'status',
      width: 90,
      render: (status: string) =>
        status === 'active' ? <Tag color="green">{t('active')}</Tag> : <Tag>{t('users.disabled')}</Tag>,
    },
    {
      title: t('users.grants'),
      key: 'grants',
      render: (_, u) => (
        <Space size={[4, 4]} wrap>
          {u.grants.map((g, i) => {
            const specialty = g.specialty
              ? t(`users.specialties.${g.specialty}`, { defaultValue: g.specialty })
              : null;
            const extra = [departmentName(g.departmentId), specialty].filter(Boolean).join(' · ');
            return (
              <Tag key={i} color={g.role === 'admin' ? 'red' : 'blue'}>
                {t(`common:roles.${g.role}`)} · {g.regionName ?? t('users.wholeSystem')}
                {extra && ` · ${extra}`}
              </Tag>
            );
          })}
        </Space>
      ),
    },
  ];
  if (writable)
    columns.push({
      title: t('actions'),
      key: 'actions',
      width: 90,
      render: (_, u) => (
        <Button
          type="link"
          size="small"
          onClick={() => setEditing(u)}
          aria-label={`${t('edit')} ${u.username}`}
        >
          {t('edit')}
        </Button>
      ),
    });

  const users = [
    ...recent,
    ...(query.data?.pages.flatMap((p) => p.items) ?? []).filter((u) => !recentIds.has(u.id)),
  ];

  return (
    <div>
      <PageHeader
        title={t('users.title')}
        extra={
          writable && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
              {t('users.create')}
            </Button>
          )
        }
      />
      <Card size="small">
        <Space style={{ marginBottom: 12 }} wrap size="middle">
          <Space size={6}>
            <label htmlFor="users-region">{t('users.region')}</label>
            <RegionTreeSelect
              id="users-region"
              value={region}
              onChange={(code) => setRegion(code)}
              allowClear
              placeholder={t('regionFilter')}
              style={{ width: 260 }}
            />
          </Space>
          <Space size={6}>
            <label htmlFor="users-role">{t('users.role')}</label>
            <Select<Role>
              id="users-role"
              allowClear
              placeholder={t('all')}
              value={role}
              onChange={(v) => setRole(v)}
              style={{ width: 180 }}
              options={roleValues.map((r) => ({ value: r, label: t(`common:roles.${r}`) }))}
            />
          </Space>
        </Space>
        <QueryState
          query={{ ...query, data: query.data }}
          isEmpty={() => users.length === 0}
          empty={<EmptyState description={t('users.empty')} />}
        >
          {() => (
            <>
              <Table size="small" rowKey="id" columns={columns} dataSource={users} pagination={false} />
              {query.hasNextPage && (
                <div style={{ textAlign: 'center', marginTop: 12 }}>
                  <Button onClick={() => void query.fetchNextPage()} loading={query.isFetchingNextPage}>
                    {t('loadMore')}
                  </Button>
                </div>
              )}
            </>
          )}
        </QueryState>
      </Card>
      {editing && (
        <UserForm
          user={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(saved, created) =>
            setRecent((prev) =>
              created ? [saved, ...prev] : prev.map((u) => (u.id === saved.id ? saved : u)),
            )
          }
        />
      )}
    </div>
  );
}

function UserForm({
  user,
  onClose,
  onSaved,
}: {
  user: User | null;
  onClose: () => void;
  onSaved: (user: User, created: boolean) => void;
}) {
  const { t } = useTranslation('admin');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const departments = useDepartments();
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const initialValues: Partial<Values> = user
    ? {
        displayName: user.displayName,
        active: user.status === 'active',
        grants: user.grants.map((g) => ({
          role: g.role,
          regionCode: g.regionCode,
          departmentId: g.departmentId,
          specialty: g.specialty,
        })),
      }
    : { mustChangePassword: true, grants: [{}] };

  function grantsOf(values: Values) {
    return values.grants.map((g) => ({
      role: g.role!,
      regionCode: g.role && systemWide.includes(g.role) ? null : (g.regionCode ?? null),
      departmentId: g.role === 'department_handler' ? (g.departmentId ?? null) : null,
      specialty: g.role === 'professional_worker' && g.specialty?.trim() ? g.specialty.trim() : null,
    }));
  }

  async function submit(values: Values) {
    setBusy(true);
    setError(null);
    try {
      if (user) {
        const saved = await api.updateUser({
          params: { id: user.id },
          body: {
            displayName: values.displayName,
            status: values.active ? 'active' : 'disabled',
            grants: grantsOf(values),
            ...(values.resetPassword ? { resetPassword: values.resetPassword } : {}),
          },
        });
        onSaved(saved, false);
      } else {
        const saved = await api.createUser({
          body: {
            username: values.username.trim(),
            displayName: values.displayName.trim(),
            password: values.password ?? '',
            mustChangePassword: values.mustChangePassword ?? true,
            grants: grantsOf(values),
          },
        });
        onSaved(saved, true);
      }
      await queryClient.invalidateQueries({ queryKey: ['users'] });
      void message.success(user ? t('saved') : t('created'));
      onClose();
    } catch (e) {
      setError(
        showServerErrors(form, e, [
          'username',
          'displayName',
          'password',
          'mustChangePassword',
          'grants',
          'resetPassword',
        ]),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <Drawer
      open
      size={720}
      title={
        user ? t('users.editTitle', { name: `${user.displayName}（${user.username}）` }) : t('users.create')
      }
      onClose={onClose}
      extra={
        <Space>
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="primary" loading={busy} onClick={() => form.submit()}>
            {user ? t('save') : t('create')}
          </Button>
        </Space>
      }
    >
      {error && <Alert role="alert" type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Form form={form} layout="vertical" initialValues={initialValues} onFinish={(v) => void submit(v)}>
        <Row gutter={16}>
          {!user && (
            <Col span={12}>
              <Form.Item
                label={t('users.username')}
                name="username"
                rules={[
                  { required: true, whitespace: true },
                  { min: 3, max: 64, message: t('users.usernameRule') },
                ]}
              >
                <Input autoComplete="off" autoFocus />
              </Form.Item>
            </Col>
          )}
          <Col span={12}>
            <Form.Item
              label={t('users.displayName')}
              name="displayName"
              rules={[{ required: true, whitespace: true, max: 64 }]}
            >
              <Input autoComplete="off" autoFocus={!!user} />
            </Form.Item>
          </Col>
          {user && (
            <Col span={12}>
              <Form.Item label={t('users.statusActive')} name="active" valuePropName="checked">
                <Switch checkedChildren={t('active')} unCheckedChildren={t('users.disabled')} />
              </Form.Item>
            </Col>
          )}
        </Row>
        {!user ? (
          <Row gutter={16}>
            <Col span={12}>
              <Form.Item
                label={t('users.password')}
                name="password"
                extra={t('users.passwordHint')}
                rules={[{ required: true }, { min: 8, message: t('users.minPassword') }]}
              >
                <Input.Password autoComplete="new-password" />
              </Form.Item>
            </Col>
            <Col span={12}>
              <Form.Item
                label={t('users.mustChangePassword')}
                name="mustChangePassword"
                valuePropName="checked"
              >
                <Switch />
              </Form.Item>
            </Col>
          </Row>
        ) : (
          <Form.Item
            label={t('users.resetPassword')}
            name="resetPassword"
            extra={t('users.resetPasswordHint')}
            rules={[{ min: 8, message: t('users.minPassword') }]}
          >
            <Input.Password autoComplete="new-password" style={{ maxWidth: 320 }} />
          </Form.Item>
        )}

        <Typography.Title level={5} style={{ marginTop: 8 }}>
          {t('users.grants')}
        </Typography.Title>
        <Typography.Paragraph type="secondary">{t('users.grantsHint')}</Typography.Paragraph>
        <Form.List
          name="grants"
          rules={[
            {
              validator: (_, v: unknown[]) =>
                v?.length ? Promise.resolve() : Promise.reject(new Error(t('users.roleRequired'))),
            },
          ]}
        >
          {(fields, { add, remove }, { errors }) => (
            <>
              {fields.map((field) => (
                <Card key={field.key} size="small" style={{ marginBottom: 8 }}>
                  <GrantFields
                    name={field.name}
                    departments={departments.data?.items ?? []}
                    onRemove={fields.length > 1 ? () => remove(field.name) : undefined}
                  />
                </Card>
              ))}
              <Button type="dashed" onClick={() => add({})} icon={<PlusOutlined />} block>
                {t('users.addGrant')}
              </Button>
              <Form.ErrorList errors={errors} />
            </>
          )}
        </Form.List>
      </Form>
    </Drawer>
  );
}

function GrantFields({
  name,
  departments,
  onRemove,
}: {
  name: number;
  departments: { id: number; name: string; regionName: string }[];
  onRemove?: () => void;
}) {
  const { t } = useTranslation('admin');
  const role = Form.useWatch<Role | undefined>(['grants', name, 'role']);
  return (
    <Row gutter={12} align="top">
      <Col span={7}>
        <Form.Item
          label={t('users.role')}
          name={[name, 'role']}
          rules={[{ required: true, message: t('users.roleRequired') }]}
        >
          <Select<Role> options={roleValues.map((r) => ({ value: r, label: t(`common:roles.${r}`) }))} />
        </Form.Item>
      </Col>
      {!(role && systemWide.includes(role)) && (
        <Col span={role === 'department_handler' || role === 'professional_worker' ? 8 : 15}>
          <Form.Item
            label={t('users.grantRegion')}
            name={[name, 'regionCode']}
            rules={[{ required: true, message: t('users.regionRequired') }]}
          >
            <RegionTreeSelect maxLevel="microgrid" placeholder={t('regionPlaceholder')} />
          </Form.Item>
        </Col>
      )}
      {role === 'department_handler' && (
        <Col span={7}>
          <Form.Item
            label={t('users.department')}
            name={[name, 'departmentId']}
            rules={[{ required: true, message: t('users.departmentRequired') }]}
          >
            <Select<number>
              showSearch={{ optionFilterProp: 'label' }}
              options={departments.map((d) => ({ value: d.id, label: `${d.name}（${d.regionName}）` }))}
            />
          </Form.Item>
        </Col>
      )}
      {role === 'professional_worker' && (
        <Col span={7}>
          <Form.Item label={t('users.specialty')} name={[name, 'specialty']} rules={[{ max: 40 }]}>
            <AutoComplete
              placeholder={t('users.specialtyPlaceholder')}
              options={specialties.map((s) => ({
                value: s,
                label: `${t(`users.specialties.${s}`)}（${s}）`,
              }))}
            />
          </Form.Item>
        </Col>
      )}
      {onRemove && (
        <Col span={2} style={{ paddingTop: 30 }}>
          <Button
            type="text"
            danger
            icon={<MinusCircleOutlined />}
            onClick={onRemove}
            aria-label={t('remove')}
          />
        </Col>
      )}
    </Row>
  );
}
