import { EditOutlined, MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { CalendarYear, PutCalendarYearRequest } from '@wangge/contracts';
import {
  Alert,
  App,
  Badge,
  Button,
  Calendar,
  Card,
  Col,
  DatePicker,
  Drawer,
  Form,
  Input,
  Popconfirm,
  Row,
  Segmented,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { TableColumnsType } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { EmptyState, LoadError, Loading, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader, showServerErrors } from './common.tsx';

const chinaYear = () => Number(new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 4));

interface HolidayRange {
  name: string;
  first: string;
  last: string;
  days: number;
}

/** A holiday's days as runs of consecutive dates (one row each), as the notice lists them. */
function rangesOf(year: CalendarYear): HolidayRange[] {
  const ranges: HolidayRange[] = [];
  for (const holiday of year.holidays) {
    const days = [...holiday.days].sort();
    let start = 0;
    for (let i = 1; i <= days.length; i++) {
      const prev = days[i - 1]!;
      const next = days[i];
      if (next && dayjs(next).diff(dayjs(prev), 'day') === 1) continue;
      ranges.push({ name: holiday.name, first: days[start]!, last: prev, days: i - start });
      start = i;
    }
  }
  return ranges.sort((a, b) => a.first.localeCompare(b.first));
}

interface FormValues {
  source?: string;
  holidays: { name: string; range: [Dayjs, Dayjs] }[];
  makeUpWorkdays: { name?: string; day: Dayjs }[];
}

/** 节假日日历: the public holidays and make-up workdays that working-day time limits count with. */
export default function CalendarAdmin() {
  const { t } = useTranslation('admin');
  const me = useMe();
  const allowed = can(me, 'calendar.write');
  const [year, setYear] = useState<number>(chinaYear());
  const [editing, setEditing] = useState(false);
  const summary = useQuery({ queryKey: ['calendar'], queryFn: () => api.calendar({}), enabled: allowed });
  const detail = useQuery({
    queryKey: ['calendar', year],
    queryFn: () => api.calendarYear({ params: { year } }),
    enabled: allowed,
    retry: false,
  });

  if (!allowed) return <Forbidden />;

  const loaded = summary.data?.years.map((y) => y.year) ?? [];
  const thisYear = chinaYear();
  const choices = [...new Set([...loaded, thisYear, thisYear + 1])].sort((a, b) => a - b);
  const missing = detail.error instanceof ApiError && detail.error.status === 404;

  const yearColumns: TableColumnsType<NonNullable<typeof summary.data>['years'][number]> = [
    { title: t('calendar.year'), dataIndex: 'year', width: 80 },
    { title: t('calendar.source'), dataIndex: 'source', ellipsis: true },
    { title: t('calendar.holidayDays'), dataIndex: 'holidays', width: 100, align: 'right' },
    { title: t('calendar.makeUpDays'), dataIndex: 'makeUpWorkdays', width: 110, align: 'right' },
    {
      title: t('calendar.loadedAt'),
      dataIndex: 'loadedAt',
      width: 170,
      render: (v: string) => dayjs(v).format('YYYY-MM-DD HH:mm'),
    },
  ];

  return (
    <div>
      <PageHeader title={t('calendar.title')} intro={t('calendar.intro')} />
      <QueryState query={summary} rows={3}>
        {(data) => (
          <>
            {data.warning && (
              <Alert
                type="warning"
                showIcon
                title={data.warning}
                style={{ marginBottom: 12 }}
                data-testid="calendar-warning"
              />
            )}
            <Card size="small" title={t('calendar.years')} style={{ marginBottom: 12 }}>
              <Table
                size="small"
                rowKey="year"
                columns={yearColumns}
                dataSource={data.years}
                pagination={false}
                onRow={(r) => ({ onClick: () => setYear(r.year), style: { cursor: 'pointer' } })}
                locale={{ emptyText: <EmptyState /> }}
              />
            </Card>
          </>
        )}
      </QueryState>
      <Card
        size="small"
        title={
          <Segmented<number>
            value={year}
            onChange={setYear}
            options={choices.map((y) => ({
              value: y,
              label: loaded.includes(y) ? String(y) : t('calendar.notLoaded', { year: y }),
            }))}
          />
        }
        extra={
          <Button
            type={missing ? 'primary' : 'default'}
            icon={missing ? <PlusOutlined /> : <EditOutlined />}
            onClick={() => setEditing(true)}
            disabled={detail.isPending}
          >
            {missing ? t('calendar.enter', { year }) : t('calendar.editYear', { year })}
          </Button>
        }
      >
        {detail.isPending ? (
          <Loading rows={8} />
        ) : missing ? (
          <EmptyState description={t('calendar.notLoadedBody', { year })}>
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing(true)}>
              {t('calendar.enter', { year })}
            </Button>
          </EmptyState>
        ) : detail.isError ? (
          <LoadError error={detail.error} onRetry={() => void detail.refetch()} />
        ) : (
          <YearView key={detail.data.year} data={detail.data} />
        )}
      </Card>
      {editing && (
        <YearForm
          year={year}
          data={missing ? null : (detail.data ?? null)}
          onClose={() => setEditing(false)}
        />
      )}
    </div>
  );
}

function YearView({ data }: { data: CalendarYear }) {
  const { t } = useTranslation('admin');
  const ranges = useMemo(() => rangesOf(data), [data]);
  const rest = useMemo(
    () => new Map(data.holidays.flatMap((h) => h.days.map((d) => [d, h.name] as const))),
    [data],
  );
  const work = useMemo(() => new Map(data.makeUpWorkdays.map((m) => [m.day, m.name] as const)), [data]);
  const firstMonth = ranges[0]?.first ?? `${data.year}-01-01`;
  const [month, setMonth] = useState<Dayjs>(dayjs(firstMonth));
  const weekday = (d: string) => dayjs(d).format('ddd');

  const holidayColumns: TableColumnsType<HolidayRange> = [
    { title: t('calendar.name'), dataIndex: 'name' },
    {
      title: t('calendar.dates'),
      key: 'dates',
      render: (_, r) => (r.first === r.last ? r.first : `${r.first} ~ ${r.last}`),
    },
    { title: t('calendar.days'), dataIndex: 'days', width: 64, align: 'right' },
  ];
  const makeUpColumns: TableColumnsType<CalendarYear['makeUpWorkdays'][number]> = [
    { title: t('calendar.name'), dataIndex: 'name' },
    { title: t('calendar.dates'), dataIndex: 'day', width: 120 },
    { title: t('calendar.weekday'), key: 'weekday', width: 80, render: (_, r) => weekday(r.day) },
  ];

  return (
    <Row gutter={16}>
      <Col span={10}>
        <Typography.Paragraph type="secondary">
          {t('calendar.source')}：{data.source}
        </Typography.Paragraph>
        <Typography.Title level={5}>{t('calendar.holidays')}</Typography.Title>
        <Table
          size="small"
          rowKey={(r) => r.first}
          columns={holidayColumns}
          dataSource={ranges}
          pagination={false}
          onRow={(r) => ({ onClick: () => setMonth(dayjs(r.first)), style: { cursor: 'pointer' } })}
          locale={{ emptyText: t('calendar.none') }}
        />
        <Typography.Title level={5} style={{ marginTop: 16 }}>
          {t('calendar.makeUp')}
        </Typography.Title>
        <Table
          size="small"
          rowKey="day"
          columns={makeUpColumns}
          dataSource={data.makeUpWorkdays}
          pagination={false}
          onRow={(r) => ({ onClick: () => setMonth(dayjs(r.day)), style: { cursor: 'pointer' } })}
          locale={{ emptyText: t('calendar.none') }}
        />
      </Col>
      <Col span={14}>
        <Space style={{ marginBottom: 8 }}>
          <Tag color="red">{t('calendar.legendRest')}</Tag>
          <Tag color="blue">{t('calendar.legendWork')}</Tag>
        </Space>
        <Calendar
          fullscreen={false}
          value={month}
          onPanelChange={(d) => setMonth(d)}
          onSelect={(d) => setMonth(d)}
          validRange={[dayjs(`${data.year}-01-01`), dayjs(`${data.year}-12-31`)]}
          cellRender={(date, info) => {
            if (info.type !== 'date') return info.originNode;
            const key = date.format('YYYY-MM-DD');
            const holiday = rest.get(key);
            const workday = work.get(key);
            if (!holiday && workday === undefined) return null;
            return (
              <span title={holiday ?? workday}>
                <Badge
                  color={holiday ? '#cf1322' : '#1677ff'}
                  text={
                    <span style={{ fontSize: 11, color: holiday ? '#cf1322' : '#1677ff' }}>
                      {holiday ? t('calendar.rest') : t('calendar.work')}
                    </span>
                  }
                />
              </span>
            );
          }}
        />
      </Col>
    </Row>
  );
}

function YearForm({ year, data, onClose }: { year: number; data: CalendarYear | null; onClose: () => void }) {
  const { t } = useTranslation('admin');
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<FormValues>();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const initialValues: FormValues = data
    ? {
        source: data.source,
        holidays: rangesOf(data).map((r) => ({ name: r.name, range: [dayjs(r.first), dayjs(r.last)] })),
        makeUpWorkdays: data.makeUpWorkdays.map((m) => ({ name: m.name, day: dayjs(m.day) })),
      }
    : { source: '', holidays: [], makeUpWorkdays: [] };

  const inYear = (d: Dayjs | null | undefined) => !d || d.year() === year;

  async function submit() {
    let values: FormValues;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(null);
    // Ranges back to day lists; rows of one holiday (split by a make-up workday) join again under its name.
    const byName = new Map<string, string[]>();
    for (const h of values.holidays ?? []) {
      const days = byName.get(h.name.trim()) ?? [];
      for (let d = h.range[0]; !d.isAfter(h.range[1], 'day'); d = d.add(1, 'day'))
        days.push(d.format('YYYY-MM-DD'));
      byName.set(h.name.trim(), days);
    }
    const body: PutCalendarYearRequest = {
      ...(values.source?.trim() ? { source: values.source.trim() } : {}),
      holidays: [...byName.entries()].map(([name, days]) => ({ name, days: [...new Set(days)].sort() })),
      makeUpWorkdays: (values.makeUpWorkdays ?? []).map((m) => ({
        ...(m.name?.trim() ? { name: m.name.trim() } : {}),
        day: m.day.format('YYYY-MM-DD'),
      })),
    };
    try {
      await api.putCalendarYear({ params: { year }, body });
      await queryClient.invalidateQueries({ queryKey: ['calendar'] });
      void message.success(t('calendar.saved', { year }));
      onClose();
    } catch (e) {
      setError(showServerErrors(form, e, ['source']));
    } finally {
      setBusy(false);
    }
  }

  const yearRule = {
    validator: (_: unknown, v: Dayjs | [Dayjs, Dayjs] | undefined) =>
      (Array.isArray(v) ? v.every(inYear) : inYear(v))
        ? Promise.resolve()
        : Promise.reject(new Error(t('calendar.outOfYear', { year }))),
  };

  return (
    <Drawer
      open
      size={720}
      title={t('calendar.replaceTitle', { year })}
      onClose={onClose}
      extra={
        <Space>
          <Button onClick={onClose}>{t('cancel')}</Button>
          <Popconfirm
            title={t('calendar.replaceConfirm', { year })}
            onConfirm={() => void submit()}
            okText={t('save')}
            cancelText={t('cancel')}
          >
            <Button type="primary" loading={busy}>
              {t('save')}
            </Button>
          </Popconfirm>
        </Space>
      }
    >
      {error && <Alert role="alert" type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Form form={form} layout="vertical" initialValues={initialValues}>
        <Form.Item label={t('calendar.source')} name="source" rules={[{ max: 300 }]}>
          <Input placeholder={t('calendar.sourcePlaceholder')} />
        </Form.Item>
        <Typography.Title level={5}>{t('calendar.holidays')}</Typography.Title>
        <Form.List name="holidays">
          {(fields, { add, remove }) => (
            <>
              {fields.map((field) => (
                <Row key={field.key} gutter={12} align="top">
                  <Col span={9}>
                    <Form.Item
                      label={t('calendar.holidayName')}
                      name={[field.name, 'name']}
                      rules={[{ required: true, whitespace: true, max: 50 }]}
                    >
                      <Input />
                    </Form.Item>
                  </Col>
                  <Col span={13}>
                    <Form.Item
                      label={t('calendar.dateRange')}
                      name={[field.name, 'range']}
                      rules={[{ required: true }, yearRule]}
                    >
                      <DatePicker.RangePicker
                        style={{ width: '100%' }}
                        defaultPickerValue={[dayjs(`${year}-01-01`), dayjs(`${year}-01-01`)]}
                      />
                    </Form.Item>
                  </Col>
                  <Col span={2} style={{ paddingTop: 30 }}>
                    <Button
                      type="text"
                      danger
                      icon={<MinusCircleOutlined />}
                      onClick={() => remove(field.name)}
                      aria-label={t('remove')}
                    />
                  </Col>
                </Row>
              ))}
              <Button
                type="dashed"
                block
                icon={<PlusOutlined />}
                onClick={() => add({ name: '' })}
                style={{ marginBottom: 16 }}
              >
                {t('calendar.addHoliday')}
              </Button>
            </>
          )}
        </Form.List>
        <Typography.Title level={5}>{t('calendar.makeUp')}</Typography.Title>
        <Form.List name="makeUpWorkdays">
          {(fields, { add, remove }) => (
            <>
              {fields.map((field) => (
                <Row key={field.key} gutter={12} align="top">
                  <Col span={13}>
                    <Form.Item
                      label={t('calendar.makeUpName')}
                      name={[field.name, 'name']}
                      rules={[{ max: 50 }]}
                    >
                      <Input />
                    </Form.Item>
                  </Col>
                  <Col span={9}>
                    <Form.Item
                      label={t('calendar.makeUpDate')}
                      name={[field.name, 'day']}
                      rules={[{ required: true }, yearRule]}
                    >
                      <DatePicker style={{ width: '100%' }} defaultPickerValue={dayjs(`${year}-01-01`)} />
                    </Form.Item>
                  </Col>
                  <Col span={2} style={{ paddingTop: 30 }}>
                    <Button
                      type="text"
                      danger
                      icon={<MinusCircleOutlined />}
                      onClick={() => remove(field.name)}
                      aria-label={t('remove')}
                    />
                  </Col>
                </Row>
              ))}
              <Button type="dashed" block icon={<PlusOutlined />} onClick={() => add({})}>
                {t('calendar.addMakeUp')}
              </Button>
            </>
          )}
        </Form.List>
      </Form>
    </Drawer>
  );
}
