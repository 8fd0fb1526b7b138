import { FileOutlined, PaperClipOutlined, PlusOutlined, SendOutlined } from '@ant-design/icons';
import { useMutation, useQuery } from '@tanstack/react-query';
import {
  noticeLimits,
  noticeRoleValues,
  noticeTargetKindValues,
  type CreateNoticeRequest,
  type NoticeTarget,
} from '@wangge/contracts';
import {
  Alert,
  App as AntApp,
  Button,
  Card,
  Checkbox,
  DatePicker,
  Form,
  Input,
  InputNumber,
  Radio,
  Select,
  Space,
  Upload,
} from 'antd';
import type { UploadFile } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, errorMessage } from '../../api.ts';
import { can, homeRegion, useMe } from '../../shared/auth.tsx';
import { Loading } from '../../shared/states.tsx';
import { Forbidden, PageHeader, showServerErrors } from '../admin/common.tsx';
import { RegionTreeSelect } from '../admin/RegionTreeSelect.tsx';
import { formatTime } from './ui.tsx';
import {
  documentAccept,
  formatBytes,
  imageAccept,
  uploadNoticeDocument,
  uploadNoticeImage,
} from './uploads.ts';

type TargetKind = (typeof noticeTargetKindValues)[number];
type Role = (typeof noticeRoleValues)[number];

interface Values {
  title: string;
  body: string;
  kind: TargetKind;
  regionCode?: string;
  gridCodes?: string[];
  roles?: Role[];
  when: 'now' | 'later';
  publishAt?: Dayjs;
  remindAfterMinutes?: number | null;
  images?: UploadFile[];
  documents?: UploadFile[];
}

// `target.*` errors have no single field on the form: they are shown above the buttons.
const fieldNames = ['title', 'body', 'publishAt', 'remindAfterMinutes'] as const;

/**
 * 发布通知 (`/notices/new`): title, text, images, who (a region subtree, chosen grids, roles in a region, the
 * residents of an area), now or at a time, and the relay reminder. The clientId is fixed for the page, so a retry
 * after a lost answer creates nothing twice; images are uploaded to the created notice, each once.
 */
export default function NoticeComposePage() {
  const { t } = useTranslation('notices');
  const me = useMe();
  const navigate = useNavigate();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm<Values>();
  const [clientId] = useState(() => crypto.randomUUID());
  const [problem, setProblem] = useState<string | null>(null);
  const uploaded = useRef(new Set<string>());
  const kind = Form.useWatch('kind', form) ?? 'region';
  const when = Form.useWatch('when', form) ?? 'now';
  const home = homeRegion(me);

  const create = useMutation({
    mutationFn: async (values: Values) => {
      const target: NoticeTarget =
        values.kind === 'grids'
          ? { kind: 'grids', gridCodes: values.gridCodes ?? [] }
          : values.kind === 'roles'
            ? { kind: 'roles', regionCode: values.regionCode ?? '', roles: values.roles ?? [] }
            : { kind: values.kind, regionCode: values.regionCode ?? '' };
      const body: CreateNoticeRequest = {
        clientId,
        title: values.title,
        body: values.body,
        target,
        ...(values.when === 'later' && values.publishAt ? { publishAt: values.publishAt.toISOString() } : {}),
        ...(values.remindAfterMinutes ? { remindAfterMinutes: values.remindAfterMinutes } : {}),
      };
      const notice = await api.createNotice({ body });
      const failures: string[] = [];
      const files = [
        ...(values.images ?? []).map((file) => ({ file, upload: uploadNoticeImage })),
        ...(values.documents ?? []).map((file) => ({ file, upload: uploadNoticeDocument })),
      ];
      for (const { file, upload } of files) {
        if (uploaded.current.has(file.uid) || !file.originFileObj) continue;
        try {
          await upload(notice.id, file.originFileObj);
          uploaded.current.add(file.uid);
        } catch (e) {
          failures.push(errorMessage(e));
        }
      }
      return { notice, failures };
    },
    onSuccess: ({ notice, failures }) => {
      if (failures.length)
        void message.warning(t('compose.imagesFailed', { count: failures.length, message: failures[0] }));
      else if (notice.status === 'scheduled')
        void message.success(t('compose.scheduled', { at: formatTime(notice.publishAt) }));
      else void message.success(t('compose.sent'));
      void navigate(`/notices/${notice.id}`);
    },
    onError: (e) => setProblem(showServerErrors(form, e, fieldNames)),
  });

  if (!can(me, 'notice.send')) return <Forbidden />;
  const required = (field: string) => ({
    required: true,
    whitespace: true,
    message: t('compose.required', { field }),
  });

  return (
    <div data-testid="notice-compose-page" style={{ maxWidth: 860 }}>
      <PageHeader title={t('compose.title')} intro={t('compose.intro')} />
      <Card>
        <Form<Values>
          form={form}
          layout="vertical"
          requiredMark
          initialValues={{ kind: 'region', when: 'now', regionCode: home?.code, images: [], documents: [] }}
          onFinish={(values) => {
            setProblem(null);
            create.mutate(values);
          }}
          onValuesChange={() => problem && setProblem(null)}
        >
          <Form.Item name="title" label={t('compose.fieldTitle')} rules={[required(t('compose.fieldTitle'))]}>
            <Input maxLength={noticeLimits.titleMax} showCount data-testid="notice-title" />
          </Form.Item>
          <Form.Item name="body" label={t('compose.fieldBody')} rules={[required(t('compose.fieldBody'))]}>
            <Input.TextArea
              maxLength={noticeLimits.bodyMax}
              showCount
              autoSize={{ minRows: 5, maxRows: 14 }}
              data-testid="notice-body"
            />
          </Form.Item>
          <Form.Item
            name="images"
            label={t('compose.images')}
            valuePropName="fileList"
            getValueFromEvent={(e: { fileList: UploadFile[] }) => e.fileList}
          >
            <Upload
              accept={imageAccept}
              listType="picture-card"
              multiple
              maxCount={9}
              beforeUpload={() => false}
            >
              <button type="button" style={{ border: 0, background: 'none', cursor: 'pointer' }}>
                <PlusOutlined />
                <div style={{ marginTop: 6 }}>{t('compose.addImage')}</div>
              </button>
            </Upload>
          </Form.Item>
          <Form.Item
            name="documents"
            label={t('compose.documents')}
            extra={t('compose.documentsHint')}
            valuePropName="fileList"
            getValueFromEvent={(e: { fileList: UploadFile[] }) => e.fileList}
          >
            <Upload
              accept={documentAccept}
              multiple
              maxCount={9}
              beforeUpload={() => false}
              itemRender={(_node, file, _list, actions) => (
                <div
                  data-testid="notice-document-row"
                  style={{ display: 'flex', gap: 8, alignItems: 'center', padding: '4px 0' }}
                >
                  <FileOutlined />
                  <span
                    style={{ flex: 1, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}
                  >
                    {file.name}
                  </span>
                  <span style={{ color: 'rgba(0,0,0,0.45)' }}>{formatBytes(file.size ?? 0)}</span>
                  <Button type="link" size="small" onClick={actions.remove}>
                    {t('compose.removeDocument')}
                  </Button>
                </div>
              )}
            >
              <Button icon={<PaperClipOutlined />} data-testid="notice-add-document">
                {t('compose.addDocument')}
              </Button>
            </Upload>
          </Form.Item>
          <Form.Item name="kind" label={t('compose.targetKind')}>
            <Radio.Group
              optionType="button"
              options={noticeTargetKindValues.map((k) => ({ value: k, label: t(`targetKind.${k}`) }))}
            />
          </Form.Item>
          {kind === 'grids' ? (
            <Form.Item
              name="gridCodes"
              label={t('compose.grids')}
              htmlFor="notice-grids"
              rules={[{ required: true, type: 'array', min: 1, message: t('compose.pickGrids') }]}
            >
              <GridSelect id="notice-grids" />
            </Form.Item>
          ) : (
            <Form.Item
              name="regionCode"
              label={t('compose.region')}
              htmlFor="notice-region"
              extra={
                kind === 'residents'
                  ? t('compose.residentsHelp')
                  : kind === 'region'
                    ? t('compose.regionHelp')
                    : undefined
              }
              rules={[{ required: true, message: t('compose.required', { field: t('compose.region') }) }]}
            >
              <RegionTreeSelect id="notice-region" style={{ width: '100%' }} />
            </Form.Item>
          )}
          {kind === 'roles' && (
            <Form.Item
              name="roles"
              label={t('compose.roles')}
              rules={[{ required: true, type: 'array', min: 1, message: t('compose.pickRoles') }]}
            >
              <Checkbox.Group
                options={noticeRoleValues.map((r) => ({ value: r, label: t(`common:roles.${r}`) }))}
              />
            </Form.Item>
          )}
          <Space size={24} wrap align="start">
            <Form.Item name="when" label={t('compose.when')}>
              <Radio.Group
                options={[
                  { value: 'now', label: t('compose.now') },
                  { value: 'later', label: t('compose.later') },
                ]}
              />
            </Form.Item>
            {when === 'later' && (
              <Form.Item
                name="publishAt"
                label={t('compose.publishAt')}
                htmlFor="notice-publish-at"
                rules={[
                  { required: true, message: t('compose.required', { field: t('compose.publishAt') }) },
                  {
                    validator: (_, v: Dayjs | undefined) =>
                      !v || v.isAfter(dayjs())
                        ? Promise.resolve()
                        : Promise.reject(new Error(t('compose.futureTime'))),
                  },
                ]}
              >
                <DatePicker
                  id="notice-publish-at"
                  showTime={{ format: 'HH:mm' }}
                  format="YYYY-MM-DD HH:mm"
                  disabledDate={(d) => d.isBefore(dayjs(), 'day')}
                />
              </Form.Item>
            )}
            {kind !== 'roles' && (
              <Form.Item
                name="remindAfterMinutes"
                label={t('compose.remindAfter')}
                htmlFor="notice-remind"
                tooltip={t('compose.remindHelp')}
              >
                <InputNumber
                  id="notice-remind"
                  min={1}
                  max={7 * 24 * 60}
                  precision={0}
                  suffix={t('compose.minutes')}
                  style={{ width: 180 }}
                  data-testid="notice-remind"
                />
              </Form.Item>
            )}
          </Space>
          {problem && (
            <Alert type="error" showIcon title={problem} style={{ marginBottom: 16 }} role="alert" />
          )}
          <Space style={{ display: 'flex' }}>
            <Button
              type="primary"
              htmlType="submit"
              icon={<SendOutlined />}
              loading={create.isPending}
              data-testid="notice-submit"
            >
              {when === 'later' ? t('compose.schedule') : t('compose.submit')}
            </Button>
            <Button onClick={() => void navigate('/notices?tab=sent')}>{t('compose.cancel')}</Button>
          </Space>
        </Form>
      </Card>
    </div>
  );
}

/** Several grids, found by name or code (`/api/regions/search`, grids only). */
function GridSelect({
  id,
  value,
  onChange,
}: {
  id?: string;
  value?: string[];
  onChange?: (codes: string[]) => void;
}) {
  const { t } = useTranslation('notices');
  const [term, setTerm] = useState('');
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const found = useQuery({
    queryKey: ['regionSearch', 'grids', term],
    queryFn: () => api.regionSearch({ query: { q: term || '0', limit: 50 } }),
    enabled: term.trim().length > 0,
  });
  const options = (found.data?.items ?? [])
    .filter((r) => r.level === 'grid')
    .map((r) => ({ value: r.code, label: `${r.name}（${r.code}）` }));
  const chosen = (value ?? [])
    .filter((code) => !options.some((o) => o.value === code))
    .map((code) => ({ value: code, label: names.get(code) ?? code }));
  return (
    <Select<string[]>
      id={id}
      mode="multiple"
      value={value ?? []}
      placeholder={t('compose.gridsPlaceholder')}
      showSearch={{ filterOption: false, onSearch: setTerm }}
      notFoundContent={found.isFetching ? <Loading inline /> : undefined}
      options={[...chosen, ...options]}
      onChange={(codes) => {
        setNames((prev) => {
          const next = new Map(prev);
          for (const o of options) next.set(o.value, o.label);
          return next;
        });
        onChange?.(codes);
      }}
      data-testid="notice-grids"
      style={{ width: '100%' }}
    />
  );
}
