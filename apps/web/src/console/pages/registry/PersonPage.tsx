import { ArrowLeftOutlined, EditOutlined, EyeInvisibleOutlined, EyeOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Person, PersonHousehold, UpdatePersonRequest } from '@wangge/contracts';
import { personStatusValues } from '@wangge/contracts';
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
  Modal,
  Row,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ApiError, errorMessage } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, NotFoundResult, QueryState } from '../../shared/states.tsx';
import { formatTime } from '../workbench/caseUi.tsx';
import { ageOf, fieldValue, specialtyColor, TagChips } from './ui.tsx';

type Field = 'idNumber' | 'phone';

/** 人员详情 (`/registry/persons/:id`): masked facts, reveal with a reason, household and building, tags, edit. */
export default function PersonPage() {
  const { id: raw } = useParams();
  const id = Number(raw);
  if (!Number.isInteger(id) || id <= 0) return <NotFoundResult />;
  return <PersonView id={id} key={id} />;
}

function PersonView({ id }: { id: number }) {
  const person = useQuery({ queryKey: ['person', id], queryFn: () => api.person({ params: { id } }) });
  return (
    <QueryState query={person} rows={10}>
      {(p) => <PersonContent person={p} onReload={() => void person.refetch()} />}
    </QueryState>
  );
}

function PersonContent({ person: p, onReload }: { person: Person; onReload: () => void }) {
  const { t } = useTranslation('registry');
  const me = useMe();
  const navigate = useNavigate();
  const household = useQuery({
    queryKey: ['personHousehold', p.id],
    queryFn: () => api.personHousehold({ params: { id: p.id } }),
  });
  // Full values live only in this component's memory: never in the URL, the query cache or storage.
  const [revealed, setRevealed] = useState<Partial<Record<Field, string | null>>>({});
  const [revealing, setRevealing] = useState<Field | null>(null);
  const [editing, setEditing] = useState(false);
  const mayReveal = can(me, 'person.reveal');
  const age = ageOf(p.birthDate);

  const sensitive = (field: Field, masked: string | null) => {
    const shown = field in revealed;
    const value = shown ? revealed[field] : masked;
    return (
      <Space size={8} wrap>
        <Typography.Text
          data-testid={`person-${field}`}
          style={{ fontFamily: 'monospace', fontSize: 15, whiteSpace: 'nowrap' }}
          strong={shown}
          type={value ? undefined : 'secondary'}
        >
          {value ?? (shown ? t('reveal.noValue') : t('person.noPhone'))}
        </Typography.Text>
        {mayReveal &&
          (shown ? (
            <Button
              size="small"
              icon={<EyeInvisibleOutlined />}
              onClick={() =>
                setRevealed((prev) => {
                  const next = { ...prev };
                  delete next[field];
                  return next;
                })
              }
            >
              {t('reveal.hide')}
            </Button>
          ) : (
            (field === 'idNumber' || masked) && (
              <Button
                size="small"
                icon={<EyeOutlined />}
                onClick={() => setRevealing(field)}
                data-testid={`reveal-${field}`}
              >
                {t('reveal.button')}
              </Button>
            )
          ))}
      </Space>
    );
  };

  const facts = [
    { key: 'name', label: t('person.name'), children: p.name },
    { key: 'gender', label: t('person.gender'), children: t(`gender.${p.gender}`) },
    {
      key: 'birthDate',
      label: t('person.birthDate'),
      children: p.birthDate
        ? `${p.birthDate}${age !== null ? `（${t('years', { count: age })}）` : ''}`
        : '—',
    },
    { key: 'ethnicity', label: t('person.ethnicity'), children: p.ethnicity ?? '—' },
    { key: 'idType', label: t('person.idType'), children: t(`idType.${p.idType}`) },
    {
      key: 'status',
      label: t('person.status'),
      children: (
        <Tag color={p.status === 'active' ? 'green' : p.status === 'deceased' ? 'default' : 'orange'}>
          {t(`status.${p.status}`)}
        </Tag>
      ),
    },
    {
      key: 'idNumber',
      label: t('person.idNumber'),
      children: sensitive('idNumber', p.idNumberMasked),
      span: 2,
    },
    { key: 'phone', label: t('person.phone'), children: sensitive('phone', p.phoneMasked), span: 2 },
    {
      key: 'registeredResidence',
      label: t('person.registeredResidence'),
      children: p.registeredResidence ?? '—',
      span: 2,
    },
    { key: 'currentAddress', label: t('person.currentAddress'), children: p.currentAddress ?? '—', span: 2 },
    { key: 'work', label: t('person.work'), children: p.work ?? '—', span: 2 },
    {
      key: 'grid',
      label: t('person.grid'),
      span: 2,
      children: <Link to={`/registry?grid=${p.gridCode}`}>{`${p.gridName}（${p.gridCode}）`}</Link>,
    },
    {
      key: 'createdAt',
      label: t('person.createdAt'),
      children: <span style={{ whiteSpace: 'nowrap' }}>{formatTime(p.createdAt)}</span>,
    },
    ...(p.movedOutAt
      ? [{ key: 'movedOutAt', label: t('person.movedOutAt'), children: formatTime(p.movedOutAt) }]
      : []),
  ];

  return (
    <div data-testid="person-page">
      <Card style={{ marginBottom: 16 }}>
        <Button
          type="link"
          icon={<ArrowLeftOutlined />}
          style={{ paddingInline: 0 }}
          onClick={() => void navigate(`/registry?grid=${p.gridCode}`)}
        >
          {t('person.back')}
        </Button>
        <div style={{ display: 'flex', justifyContent: 'space-between', gap: 16, alignItems: 'flex-start' }}>
          <div>
            <Typography.Title level={3} className="page-title" style={{ marginBottom: 6 }}>
              {p.name}
              <Typography.Text
                type="secondary"
                style={{ fontSize: 16, fontWeight: 400, marginInlineStart: 12 }}
              >
                {t(`gender.${p.gender}`)}
                {age !== null && ` · ${t('years', { count: age })}`} · {p.gridName}
              </Typography.Text>
            </Typography.Title>
            <TagChips tags={p.tags} />
          </div>
          {can(me, 'person.write') && (
            <Button icon={<EditOutlined />} onClick={() => setEditing(true)} data-testid="person-edit">
              {t('person.edit')}
            </Button>
          )}
        </div>
      </Card>
      <Row gutter={16}>
        <Col xs={24} xl={14}>
          <Card title={t('person.facts')} style={{ marginBottom: 16 }}>
            <Descriptions
              bordered
              size="small"
              column={2}
              items={facts}
              styles={{ label: { width: 110, whiteSpace: 'nowrap' } }}
            />
          </Card>
          <Card title={t('person.tags')} style={{ marginBottom: 16 }} data-testid="person-tags">
            {p.tags === undefined ? (
              <Typography.Text type="secondary">{t('person.tagsHidden')}</Typography.Text>
            ) : p.tags.length === 0 ? (
              <EmptyState description={t('person.noTags')} />
            ) : (
              <Space orientation="vertical" style={{ width: '100%' }}>
                {p.tags.map((tag) => (
                  <Descriptions
                    key={tag.kind}
                    size="small"
                    bordered
                    column={2}
                    title={
                      <Space>
                        <Tag color={specialtyColor[tag.specialty]}>{t(`tag.${tag.kind}`)}</Tag>
                        <Typography.Text type="secondary" style={{ fontWeight: 400 }}>
                          {t(`specialty.${tag.specialty}`)}
                        </Typography.Text>
                      </Space>
                    }
                    items={Object.entries(tag.fields).map(([k, v]) => ({
                      key: k,
                      label: t(`tagField.${k}`, { defaultValue: k }),
                      children: fieldValue(v, t('yes'), t('no')),
                    }))}
                  />
                ))}
              </Space>
            )}
          </Card>
        </Col>
        <Col xs={24} xl={10}>
          <Card title={t('person.household')} style={{ marginBottom: 16 }}>
            <QueryState query={household}>{(h) => <HouseholdFacts data={h} personId={p.id} />}</QueryState>
          </Card>
        </Col>
      </Row>
      {revealing && (
        <RevealModal
          personId={p.id}
          field={revealing}
          onClose={() => setRevealing(null)}
          onRevealed={(value) => {
            setRevealed((prev) => ({ ...prev, [revealing]: value }));
            setRevealing(null);
          }}
        />
      )}
      <EditDrawer person={p} open={editing} onClose={() => setEditing(false)} onReload={onReload} />
    </div>
  );
}

function HouseholdFacts({ data, personId }: { data: PersonHousehold; personId: number }) {
  const { t } = useTranslation('registry');
  const navigate = useNavigate();
  const { household: h, building: b } = data;
  if (!h) return <EmptyState description={t('person.noHousehold')} />;
  return (
    <>
      <Descriptions
        size="small"
        column={1}
        items={[
          ...(b
            ? [
                {
                  key: 'building',
                  label: t('person.building'),
                  children: `${b.name}（${t(`building.${b.kind}`)}${b.floors ? `，${t('tree.floors', { count: b.floors })}` : ''}）`,
                },
              ]
            : []),
          {
            key: 'room',
            label: t('person.room'),
            children: [h.unit, h.room].filter(Boolean).join(' ') || t('tree.noRoom'),
          },
          {
            key: 'kind',
            label: t('person.householdKind'),
            children: (
              <Space>
                <Tag>{t(`household.${h.kind}`)}</Tag>
                {t(`householdStatus.${h.status}`)}
              </Space>
            ),
          },
        ]}
      />
      <Typography.Title level={5} style={{ marginTop: 16 }}>
        {t('person.members')}
      </Typography.Title>
      <Table
        size="small"
        rowKey="id"
        pagination={false}
        dataSource={h.members}
        data-testid="household-members"
        locale={{ emptyText: <EmptyState description={t('tree.noMembers')} /> }}
        onRow={(m) => ({
          style: { cursor: m.id === personId ? 'default' : 'pointer' },
          onClick: () => m.id !== personId && void navigate(`/registry/persons/${m.id}`),
        })}
        rowClassName={(m) => (m.id === personId ? 'ant-table-row-selected' : '')}
        columns={[
          {
            title: t('person.name'),
            dataIndex: 'name',
            render: (name: string, m) =>
              m.id === personId ? (
                <strong>{name}</strong>
              ) : (
                <Link to={`/registry/persons/${m.id}`} onClick={(e) => e.stopPropagation()}>
                  {name}
                </Link>
              ),
          },
          {
            title: t('person.relation'),
            dataIndex: 'relationToHead',
            render: (r: string | null) => (r ? t(`relation.${r}`) : '—'),
          },
          {
            title: t('person.age'),
            dataIndex: 'birthDate',
            render: (d: string | null) => ageOf(d) ?? '—',
          },
          {
            title: t('person.idNumber'),
            dataIndex: 'idNumberMasked',
            render: (v: string) => <span style={{ fontFamily: 'monospace' }}>{v}</span>,
          },
        ]}
      />
    </>
  );
}

/** Asks for the reason (≥ 4 characters), then asks the server for the full value (audited there). */
function RevealModal({
  personId,
  field,
  onClose,
  onRevealed,
}: {
  personId: number;
  field: Field;
  onClose: () => void;
  onRevealed: (value: string | null) => void;
}) {
  const { t } = useTranslation('registry');
  const [form] = Form.useForm<{ reason: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const label = t(`person.${field}`);

  async function submit({ reason }: { reason: string }) {
    setBusy(true);
    setError(null);
    try {
      const result = await api.revealPerson({
        params: { id: personId },
        body: { field, reason: reason.trim() },
      });
      onRevealed(result.value);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open
      title={t('reveal.title', { field: label })}
      okText={t('reveal.submit')}
      cancelText={t('cancel')}
      confirmLoading={busy}
      onOk={() => form.submit()}
      onCancel={onClose}
      destroyOnHidden
    >
      <Alert type="warning" showIcon title={t('reveal.hint')} style={{ marginBottom: 16 }} />
      <Form form={form} layout="vertical" onFinish={(v) => void submit(v)} data-testid="reveal-form">
        <Form.Item
          name="reason"
          label={t('reveal.reason')}
          rules={[
            { required: true, whitespace: true, message: t('reveal.reasonRequired') },
            {
              validator: (_, value: string | undefined) =>
                !value?.trim() || value.trim().length >= 4
                  ? Promise.resolve()
                  : Promise.reject(new Error(t('reveal.reasonShort'))),
            },
          ]}
        >
          <Input.TextArea rows={3} maxLength={500} autoFocus placeholder={t('reveal.reasonPlaceholder')} />
        </Form.Item>
      </Form>
      {error && <Alert type="error" showIcon title={error} />}
    </Modal>
  );
}

interface EditValues {
  phone?: string;
  currentAddress?: string;
  work?: string;
  status: Person['status'];
}

/** Phone, current address, work and status; `expectedVersion` so a change by someone else is not overwritten. */
function EditDrawer({
  person: p,
  open,
  onClose,
  onReload,
}: {
  person: Person;
  open: boolean;
  onClose: () => void;
  onReload: () => void;
}) {
  const { t } = useTranslation('registry');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<EditValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ conflict: boolean; text: string } | null>(null);

  async function submit(values: EditValues) {
    const body: UpdatePersonRequest = { expectedVersion: p.version };
    // The phone is shown masked, so the field starts empty: empty keeps the stored phone.
    const phone = values.phone?.trim() ?? '';
    if (phone) body.phone = phone;
    const address = values.currentAddress?.trim() ?? '';
    if (address !== (p.currentAddress ?? '')) body.currentAddress = address || null;
    const work = values.work?.trim() ?? '';
    if (work !== (p.work ?? '')) body.work = work || null;
    if (values.status !== p.status) body.status = values.status;
    if (Object.keys(body).length === 1) {
      onClose();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const updated = await api.updatePerson({ params: { id: p.id }, body });
      queryClient.setQueryData(['person', p.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['personHousehold', p.id] });
      void message.success(t('person.saved'));
      onClose();
    } catch (e) {
      const stale =
        e instanceof ApiError &&
        e.status === 409 &&
        (e.fields ?? []).some((f) => f.field.endsWith('expectedVersion'));
      if (e instanceof ApiError && e.status === 400 && e.fields?.length) {
        form.setFields(
          e.fields
            .map((f) => ({ name: f.field.replace(/^body\./, ''), errors: [f.message] }))
            .filter((f) => ['phone', 'currentAddress', 'work', 'status'].includes(f.name)) as never,
        );
      }
      setError({ conflict: stale, text: stale ? t('person.conflict') : errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Drawer
      open={open}
      onClose={onClose}
      title={t('person.editTitle', { name: p.name })}
      size={460}
      destroyOnHidden
      extra={
        <Space>
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Button type="primary" loading={busy} onClick={() => form.submit()} data-testid="person-save">
            {t('save')}
          </Button>
        </Space>
      }
    >
      {error && (
        <Alert
          type={error.conflict ? 'warning' : 'error'}
          showIcon
          title={error.text}
          style={{ marginBottom: 16 }}
          data-testid="person-edit-error"
          action={
            error.conflict ? (
              <Button
                size="small"
                onClick={() => {
                  setError(null);
                  onReload();
                  onClose();
                }}
              >
                {t('reload')}
              </Button>
            ) : undefined
          }
        />
      )}
      <Form<EditValues>
        form={form}
        layout="vertical"
        preserve={false}
        initialValues={{
          phone: '',
          currentAddress: p.currentAddress ?? '',
          work: p.work ?? '',
          status: p.status,
        }}
        onFinish={(v) => void submit(v)}
      >
        <Form.Item
          name="phone"
          label={t('person.phone')}
          extra={`${p.phoneMasked ?? t('person.noPhone')} · ${t('person.phoneHint')}`}
          rules={[{ pattern: /^[\d\s+-]{5,30}$/, message: t('person.phoneInvalid') }]}
        >
          <Input inputMode="tel" maxLength={30} autoComplete="off" placeholder={p.phoneMasked ?? ''} />
        </Form.Item>
        <Form.Item name="currentAddress" label={t('person.currentAddress')} rules={[{ max: 200 }]}>
          <Input maxLength={200} />
        </Form.Item>
        <Form.Item name="work" label={t('person.work')} rules={[{ max: 200 }]}>
          <Input maxLength={200} />
        </Form.Item>
        <Form.Item name="status" label={t('person.status')}>
          <Select options={personStatusValues.map((s) => ({ value: s, label: t(`status.${s}`) }))} />
        </Form.Item>
      </Form>
    </Drawer>
  );
}
