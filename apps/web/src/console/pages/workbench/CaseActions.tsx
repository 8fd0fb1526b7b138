import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CaseAction, CaseDetail, CasePhoto } from '@wangge/contracts';
import {
  Alert,
  App,
  Button,
  Descriptions,
  Form,
  Input,
  InputNumber,
  Modal,
  Radio,
  Select,
  Space,
  Switch,
  TreeSelect,
  Typography,
} from 'antd';
import type { FormInstance, UploadFile } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, errorMessage, fieldErrors } from '../../api.ts';
import { hasRole, useMe } from '../../shared/auth.tsx';
import { categoryTree, filterCategoryNode, formatTime, formFields, useTaxonomy } from './caseUi.tsx';
import { PhotoUpload, uploadedIds } from './PhotoUpload.tsx';

/** The main steps of the loop stand out; overlays (督办, 批示, 加急, 上报) sit beside them. */
const primaryActions: ReadonlySet<CaseAction> = new Set([
  'verify',
  'file',
  'dispatch',
  'accept',
  'respond',
  'startInspection',
  'inspect',
  'evaluate',
  'fixOnSpot',
  'resume',
  'approveExtension',
]);
const dangerActions: ReadonlySet<CaseAction> = new Set(['notFile', 'returnCase', 'rejectExtension']);
const withPhotos: ReadonlySet<CaseAction> = new Set(['respond', 'fixOnSpot', 'inspect']);

/** The buttons for what the server says this user may do now (`allowedActions`), each opening its form. */
export function CaseActions({ detail }: { detail: CaseDetail }) {
  const { t } = useTranslation('workbench');
  const [open, setOpen] = useState<CaseAction | null>(null);
  const actions = detail.allowedActions;
  if (actions.length === 0)
    return (
      <Typography.Text type="secondary" style={{ lineHeight: '32px' }}>
        {t('case.noActions')}
      </Typography.Text>
    );
  const main = actions.filter((a) => primaryActions.has(a));
  const other = actions.filter((a) => !primaryActions.has(a));
  return (
    <>
      <Space wrap size={8} data-testid="case-actions">
        {main.map((a) => (
          <Button key={a} type="primary" data-testid={`action-${a}`} onClick={() => setOpen(a)}>
            {t(`action.${a}`)}
          </Button>
        ))}
        {other.map((a) => (
          <Button
            key={a}
            danger={dangerActions.has(a)}
            data-testid={`action-${a}`}
            onClick={() => setOpen(a)}
          >
            {t(`action.${a}`)}
          </Button>
        ))}
      </Space>
      {open && <ActionModal action={open} detail={detail} onClose={() => setOpen(null)} />}
    </>
  );
}

type Values = Record<string, unknown> & {
  comment?: string;
  reason?: string;
  attachments?: UploadFile<CasePhoto>[];
};

function ActionModal({
  action,
  detail,
  onClose,
}: {
  action: CaseAction;
  detail: CaseDetail;
  onClose: () => void;
}) {
  const { t } = useTranslation('workbench');
  const me = useMe();
  const { message, modal } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The version the user saw when opening the form: a change meanwhile (live updates) answers 409, not a blind write.
  const [version] = useState(detail.version);
  const label = t(`action.${action}`);
  const operator = hasRole(me, 'centre_operator', 'hotline_operator', 'admin');

  async function submit(values: Values) {
    setError(null);
    const { attachments: files, ...rest } = values;
    const input: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) {
      if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) continue;
      input[k] = typeof v === 'string' ? v.trim() : v;
    }
    if (withPhotos.has(action)) {
      const ids = uploadedIds(files);
      if (ids === null) {
        setError(t('form.uploading'));
        return;
      }
      if (ids.length > 0) input.attachments = ids;
    }
    if (action === 'dispatch') {
      input.coDepartmentIds ??= [];
      input.ccDepartmentIds ??= [];
    }
    setBusy(true);
    try {
      const updated = await api.act(detail.id, action, {
        ...(input as Record<string, never>),
        expectedVersion: version,
      });
      queryClient.setQueryData(['case', detail.id], updated);
      void queryClient.invalidateQueries({ queryKey: ['case', detail.id] });
      void queryClient.invalidateQueries({ queryKey: ['queue'] });
      void queryClient.invalidateQueries({ queryKey: ['cases'] });
      void message.success(t('case.done', { action: label }));
      onClose();
    } catch (e) {
      if (e instanceof ApiError && (e.status === 409 || e.status === 404)) {
        onClose();
        void queryClient.invalidateQueries({ queryKey: ['case', detail.id] });
        void queryClient.invalidateQueries({ queryKey: ['queue'] });
        modal.warning({
          title: errorMessage(e),
          content: e.status === 409 ? t('case.versionConflict') : undefined,
        });
        return;
      }
      const fields = formFields(fieldErrors(e));
      const registered = new Set(form.getFieldsError().map((f) => f.name.join('.')));
      const known = fields.filter((f) => registered.has(f.name.join('.')));
      if (known.length > 0) form.setFields(known);
      if (known.length !== fields.length || fields.length === 0) setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open
      title={label}
      width={action === 'dispatch' ? 640 : 560}
      onCancel={onClose}
      onOk={() => form.submit()}
      okText={t('form.confirm', { action: label })}
      cancelText={t('form.cancel')}
      okButtonProps={{ loading: busy, danger: dangerActions.has(action) }}
      destroyOnHidden
      mask={{ closable: false }}
    >
      <Typography.Paragraph type="secondary">{t(`actionHint.${action}`)}</Typography.Paragraph>
      {error && <Alert type="error" showIcon title={error} role="alert" style={{ marginBottom: 12 }} />}
      <Form<Values>
        form={form}
        layout="vertical"
        name={`action-${action}`}
        onFinish={(v) => void submit(v)}
        initialValues={initialValues(action, operator)}
        requiredMark
      >
        <ActionFields action={action} detail={detail} form={form} operator={operator} />
      </Form>
    </Modal>
  );
}

function initialValues(action: CaseAction, operator: boolean): Partial<Values> {
  switch (action) {
    case 'inspect':
      return { result: 'pass' };
    case 'evaluate':
      return { method: operator ? 'callback' : 'self' };
    case 'escalate':
      return { skipLevel: false };
    case 'requestExtension':
      return { days: 3 };
    case 'dispatch':
      return { coDepartmentIds: [], ccDepartmentIds: [] };
    case 'verify':
    case 'file':
    case 'notFile':
    case 'mergeDuplicate':
    case 'fixOnSpot':
    case 'accept':
    case 'returnCase':
    case 'suspend':
    case 'resume':
    case 'approveExtension':
    case 'rejectExtension':
    case 'respond':
    case 'startInspection':
    case 'reopen':
    case 'supervise':
    case 'instruct':
    case 'markUrgent':
      return {};
  }
}

function ActionFields({
  action,
  detail,
  form,
  operator,
}: {
  action: CaseAction;
  detail: CaseDetail;
  form: FormInstance<Values>;
  operator: boolean;
}) {
  const { t, i18n } = useTranslation('workbench');
  const taxonomy = useTaxonomy();
  const tree = useMemo(() => categoryTree(taxonomy.data, i18n.language), [taxonomy.data, i18n.language]);
  const inspectResult = Form.useWatch('result', form) as string | undefined;
  const reason = (
    <Form.Item
      label={t('form.reason')}
      name="reason"
      rules={[{ required: true, whitespace: true, message: t('form.reasonRequired') }]}
    >
      <Input.TextArea rows={3} maxLength={500} showCount autoFocus />
    </Form.Item>
  );
  const comment = (
    <Form.Item label={t('form.comment')} name="comment">
      <Input.TextArea rows={2} maxLength={2000} placeholder={t('form.commentPlaceholder')} />
    </Form.Item>
  );
  const photos = (
    <Form.Item label={t('form.photos')} name="attachments">
      <PhotoUpload caseId={detail.id} />
    </Form.Item>
  );

  switch (action) {
    case 'file':
      return (
        <>
          <Form.Item label={t('form.categoryCode')} name="categoryCode">
            <TreeSelect
              allowClear
              treeData={tree}
              showSearch={{ filterTreeNode: filterCategoryNode }}
              placeholder={t('form.categoryKeep', {
                name: i18n.language === 'en' ? detail.category.nameEn : detail.category.nameZh,
              })}
              loading={taxonomy.isPending}
            />
          </Form.Item>
          {comment}
        </>
      );
    case 'mergeDuplicate':
      return (
        <>
          <Form.Item
            label={t('form.parentCaseId')}
            name="parentCaseId"
            rules={[{ required: true, message: t('form.parentCaseIdRequired') }]}
          >
            <InputNumber min={1} precision={0} style={{ width: '100%' }} autoFocus />
          </Form.Item>
          {comment}
        </>
      );
    case 'fixOnSpot':
    case 'respond':
      return (
        <>
          <Form.Item
            label={t('form.result')}
            name="result"
            rules={[{ required: true, whitespace: true, message: t('form.resultRequired') }]}
          >
            <Input.TextArea rows={4} maxLength={2000} showCount autoFocus />
          </Form.Item>
          {photos}
          {comment}
        </>
      );
    case 'escalate': {
      const skipAllowed = detail.urgent || detail.category.code.startsWith('09');
      return (
        <>
          {reason}
          <Form.Item
            label={t('form.skipLevel')}
            name="skipLevel"
            valuePropName="checked"
            extra={t('form.skipLevelHint')}
          >
            <Switch disabled={!skipAllowed} />
          </Form.Item>
          {comment}
        </>
      );
    }
    case 'dispatch':
      return (
        <>
          <DispatchFields caseId={detail.id} form={form} />
          {comment}
        </>
      );
    case 'requestExtension':
      return (
        <>
          <Form.Item
            label={t('form.days')}
            name="days"
            rules={[{ required: true, type: 'integer', min: 1, max: 30, message: t('form.daysRequired') }]}
          >
            <InputNumber min={1} max={30} precision={0} style={{ width: 160 }} />
          </Form.Item>
          {reason}
          {comment}
        </>
      );
    case 'inspect':
      return (
        <>
          <Form.Item label={t('form.inspectResult')} name="result" rules={[{ required: true }]}>
            <Radio.Group
              optionType="button"
              buttonStyle="solid"
              options={[
                { value: 'pass', label: t('form.pass') },
                { value: 'fail', label: t('form.fail') },
              ]}
            />
          </Form.Item>
          <Form.Item
            label={inspectResult === 'fail' ? t('form.failComment') : t('form.comment')}
            name="comment"
            rules={[
              {
                required: inspectResult === 'fail',
                whitespace: true,
                message: t('form.failCommentRequired'),
              },
            ]}
          >
            <Input.TextArea rows={3} maxLength={2000} />
          </Form.Item>
          {photos}
        </>
      );
    case 'evaluate':
      return (
        <>
          <Form.Item
            label={t('form.evaluation')}
            name="evaluation"
            rules={[{ required: true, message: t('form.evaluationRequired') }]}
          >
            <Radio.Group
              optionType="button"
              buttonStyle="solid"
              options={(['satisfied', 'basically_satisfied', 'dissatisfied'] as const).map((v) => ({
                value: v,
                label: t(`evaluation.${v}`),
              }))}
            />
          </Form.Item>
          {operator && (
            <Form.Item label={t('form.method')} name="method">
              <Radio.Group
                options={(['callback', 'self'] as const).map((v) => ({ value: v, label: t(`method.${v}`) }))}
              />
            </Form.Item>
          )}
          {comment}
        </>
      );
    case 'supervise':
      return (
        <>
          <Form.Item
            label={t('form.level')}
            name="level"
            rules={[{ required: true, message: t('form.levelRequired') }]}
          >
            <Radio.Group
              optionType="button"
              buttonStyle="solid"
              options={(['normal', 'yellow', 'red'] as const).map((v) => ({
                value: v,
                label: t(`level.${v}`),
              }))}
            />
          </Form.Item>
          <Form.Item
            label={t('form.superviseComment')}
            name="comment"
            rules={[{ required: true, whitespace: true, message: t('form.superviseCommentRequired') }]}
          >
            <Input.TextArea rows={3} maxLength={2000} showCount />
          </Form.Item>
        </>
      );
    case 'instruct':
      return (
        <Form.Item
          label={t('form.instruction')}
          name="comment"
          rules={[{ required: true, whitespace: true, message: t('form.instructionRequired') }]}
        >
          <Input.TextArea rows={4} maxLength={2000} showCount autoFocus />
        </Form.Item>
      );
    case 'notFile':
    case 'returnCase':
    case 'suspend':
    case 'rejectExtension':
    case 'reopen':
      return (
        <>
          {reason}
          {comment}
        </>
      );
    case 'verify':
    case 'accept':
    case 'resume':
    case 'approveExtension':
    case 'startInspection':
    case 'markUrgent':
      return comment;
  }
}

/**
 * 派遣 / 吹哨: the lead department (the item's default for the place preselected), co-handling (协办) and copied
 * (抄告) departments, and the deadlines the case will get — asked again whenever the lead department changes.
 */
function DispatchFields({ caseId, form }: { caseId: number; form: FormInstance<Values> }) {
  const { t } = useTranslation('workbench');
  const lead = Form.useWatch('leadDepartmentId', form) as number | undefined;
  const co = (Form.useWatch('coDepartmentIds', form) as number[] | undefined) ?? [];
  const cc = (Form.useWatch('ccDepartmentIds', form) as number[] | undefined) ?? [];
  const preview = useQuery({
    queryKey: ['dispatchPreview', caseId, lead ?? null],
    queryFn: () => api.dispatchPreview({ params: { id: caseId }, query: lead ? { departmentId: lead } : {} }),
    placeholderData: keepPreviousData,
    staleTime: 0,
    retry: false,
  });
  // Without the preview (older server), any department in scope may still be chosen.
  const fallback = useQuery({
    queryKey: ['departments', 'all'],
    queryFn: () => api.departments({}),
    enabled: preview.isError,
  });
  const defaultId = preview.data?.defaultDepartmentId ?? null;
  useEffect(() => {
    if (defaultId !== null && form.getFieldValue('leadDepartmentId') === undefined)
      form.setFieldValue('leadDepartmentId', defaultId);
  }, [defaultId, form]);

  const departments = preview.data?.departments ?? fallback.data?.items ?? [];
  const option = (d: { id: number; name: string }, exclude: number[]) => ({
    value: d.id,
    label: d.id === defaultId ? `${d.name}（${t('form.defaultDepartment')}）` : d.name,
    disabled: exclude.includes(d.id),
  });
  const loading = preview.isPending || (preview.isError && fallback.isPending);
  return (
    <>
      <Form.Item
        label={t('form.leadDepartment')}
        name="leadDepartmentId"
        rules={[{ required: true, message: t('form.leadRequired') }]}
      >
        <Select
          showSearch={{ optionFilterProp: 'label' }}
          loading={loading}
          options={departments.map((d) => option(d, [...co, ...cc]))}
          data-testid="dispatch-lead"
        />
      </Form.Item>
      <Form.Item label={t('form.coDepartments')} name="coDepartmentIds">
        <Select
          mode="multiple"
          allowClear
          placeholder={t('form.optional')}
          showSearch={{ optionFilterProp: 'label' }}
          options={departments.map((d) => option(d, [...(lead ? [lead] : []), ...cc]))}
        />
      </Form.Item>
      <Form.Item label={t('form.ccDepartments')} name="ccDepartmentIds">
        <Select
          mode="multiple"
          allowClear
          placeholder={t('form.optional')}
          showSearch={{ optionFilterProp: 'label' }}
          options={departments.map((d) => option(d, [...(lead ? [lead] : []), ...co]))}
        />
      </Form.Item>
      {preview.data ? (
        <Descriptions
          size="small"
          bordered
          column={1}
          title={t('form.willGetDue')}
          data-testid="dispatch-due"
          style={{ marginBottom: 16, opacity: preview.isFetching ? 0.6 : 1 }}
          items={[
            {
              key: 'accept',
              label: t('case.dueAccept'),
              children: t('form.acceptWithin', {
                time: formatTime(preview.data.acceptDueAt),
                hours: preview.data.limits.acceptHours,
              }),
            },
            {
              key: 'handle',
              label: t('case.dueHandle'),
              children: t('form.handleWithin', {
                time: formatTime(preview.data.handleDueAt),
                days: preview.data.limits.handleWorkingDays,
              }),
            },
          ]}
        />
      ) : preview.isError ? (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          title={t('form.previewFailed', { message: errorMessage(preview.error) })}
        />
      ) : null}
    </>
  );
}
