import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { noticeLimits } from '@wangge/contracts';
import { Alert, App as AntApp, Button, Card, DatePicker, Form, Input, Space } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api } from '../../api.ts';
import { can, homeRegion, useMe } from '../../shared/auth.tsx';
import { Forbidden, PageHeader, showServerErrors } from '../admin/common.tsx';
import { RegionTreeSelect } from '../admin/RegionTreeSelect.tsx';

interface Values {
  question: string;
  options: string[];
  regionCode?: string;
  openUntil?: Dayjs;
}

const fieldNames = ['question', 'options', 'regionCode', 'openUntil'] as const;

/**
 * 发起投票 (`/polls/new`): a question, 2–10 options, the area whose residents vote and the deadline. The clientId is
 * fixed for the page (a retry creates nothing twice); on success the poll's page shows the results and the link.
 */
export default function PollCreatePage() {
  const { t } = useTranslation('notices');
  const me = useMe();
  const navigate = useNavigate();
  const { message } = AntApp.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<Values>();
  const [clientId] = useState(() => crypto.randomUUID());
  const [problem, setProblem] = useState<string | null>(null);
  const home = homeRegion(me);

  const create = useMutation({
    mutationFn: (values: Values) =>
      api.createPoll({
        body: {
          clientId,
          question: values.question,
          options: values.options.map((o) => o.trim()),
          regionCode: values.regionCode ?? '',
          openUntil: (values.openUntil ?? dayjs()).toISOString(),
        },
      }),
    onSuccess: (poll) => {
      void queryClient.invalidateQueries({ queryKey: ['polls'] });
      void message.success(t('polls.created'));
      void navigate(`/polls/${poll.id}`);
    },
    onError: (e) => setProblem(showServerErrors(form, e, fieldNames)),
  });

  if (!can(me, 'notice.send')) return <Forbidden />;
  const required = (field: string) => ({
    required: true,
    whitespace: true,
    message: t('polls.required', { field }),
  });

  return (
    <div data-testid="poll-create-page" style={{ maxWidth: 760 }}>
      <PageHeader title={t('polls.formTitle')} intro={t('polls.formIntro')} />
      <Form<Values>
        form={form}
        layout="vertical"
        initialValues={{
          options: ['', ''],
          regionCode: home?.code,
          openUntil: dayjs().add(7, 'day').endOf('day').startOf('minute'),
        }}
        onFinish={(values) => {
          setProblem(null);
          create.mutate(values);
        }}
        onValuesChange={() => problem && setProblem(null)}
      >
        <Card>
          <Form.Item name="question" label={t('polls.question')} rules={[required(t('polls.question'))]}>
            <Input
              maxLength={200}
              placeholder={t('polls.questionPlaceholder')}
              data-testid="poll-question-input"
            />
          </Form.Item>
          <Form.List
            name="options"
            rules={[
              {
                validator: (_, options: string[] | undefined) =>
                  !options || options.length < 2
                    ? Promise.reject(new Error(t('polls.optionsHelp')))
                    : Promise.resolve(),
              },
            ]}
          >
            {(fields, { add, remove }, { errors }) => (
              <Form.Item label={t('polls.options')} required extra={t('polls.optionsHelp')}>
                {fields.map((field, index) => (
                  <Space key={field.key} align="baseline" style={{ display: 'flex' }}>
                    <Form.Item
                      name={field.name}
                      rules={[required(t('polls.option', { n: index + 1 }))]}
                      style={{ marginBottom: 8 }}
                    >
                      <Input
                        maxLength={100}
                        placeholder={t('polls.option', { n: index + 1 })}
                        aria-label={t('polls.option', { n: index + 1 })}
                        style={{ width: 420 }}
                        data-testid="poll-option-input"
                      />
                    </Form.Item>
                    {fields.length > 2 && (
                      <Button
                        type="text"
                        icon={<DeleteOutlined />}
                        aria-label={t('polls.removeOption', { n: index + 1 })}
                        onClick={() => remove(field.name)}
                      />
                    )}
                  </Space>
                ))}
                <Button
                  type="dashed"
                  icon={<PlusOutlined />}
                  disabled={fields.length >= noticeLimits.pollOptionsMax}
                  onClick={() => add('')}
                  data-testid="poll-add-option"
                >
                  {t('polls.addOption')}
                </Button>
                <Form.ErrorList errors={errors} />
              </Form.Item>
            )}
          </Form.List>
          <Form.Item
            name="regionCode"
            label={t('polls.region')}
            htmlFor="poll-region"
            extra={t('polls.regionHelp')}
            rules={[{ required: true, message: t('polls.required', { field: t('polls.region') }) }]}
          >
            <RegionTreeSelect id="poll-region" style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item
            name="openUntil"
            label={t('polls.openUntil')}
            htmlFor="poll-open-until"
            rules={[
              { required: true, message: t('polls.required', { field: t('polls.openUntil') }) },
              {
                validator: (_, value: Dayjs | undefined) =>
                  value && !value.isAfter(dayjs())
                    ? Promise.reject(new Error(t('polls.future')))
                    : Promise.resolve(),
              },
            ]}
          >
            <DatePicker
              id="poll-open-until"
              showTime={{ format: 'HH:mm' }}
              format="YYYY-MM-DD HH:mm"
              disabledDate={(d) => d.isBefore(dayjs(), 'day')}
              style={{ width: 240 }}
            />
          </Form.Item>
        </Card>
        {problem && (
          <Alert type="error" showIcon title={problem} style={{ margin: '16px 0 0' }} role="alert" />
        )}
        <Space style={{ marginTop: 16 }}>
          <Button
            type="primary"
            size="large"
            htmlType="submit"
            loading={create.isPending}
            data-testid="poll-submit"
          >
            {t('polls.submit')}
          </Button>
          <Button size="large" onClick={() => void navigate('/polls')}>
            {t('polls.cancel')}
          </Button>
        </Space>
      </Form>
    </div>
  );
}
