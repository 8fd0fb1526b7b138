import { CameraOutlined, NotificationOutlined } from '@ant-design/icons';
import { useMutation } from '@tanstack/react-query';
import { alertKindValues, noticeLimits, type CreateAlertRequest } from '@wangge/contracts';
import {
  Alert,
  App as AntApp,
  Button,
  Card,
  Col,
  DatePicker,
  Form,
  Input,
  InputNumber,
  Radio,
  Row,
  Space,
  Upload,
} from 'antd';
import type { UploadFile } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { lazy, Suspense, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, errorMessage } from '../../api.ts';
import { can, homeRegion, useMe } from '../../shared/auth.tsx';
import { Loading } from '../../shared/states.tsx';
import { Forbidden, PageHeader, showServerErrors } from '../admin/common.tsx';
import { RegionTreeSelect } from '../admin/RegionTreeSelect.tsx';
import { imageAccept, uploadAlertPhoto } from './uploads.ts';

type AlertKind = (typeof alertKindValues)[number];

const PickPointMap = lazy(() => import('../map/PickPointMap.tsx'));

interface Values {
  kind: AlertKind;
  title: string;
  description: string;
  regionCode?: string;
  photo?: UploadFile[];
  place?: string;
  at?: Dayjs;
  lng?: number | null;
  lat?: number | null;
}

const fieldNames = ['kind', 'title', 'description', 'regionCode'] as const;

/**
 * 发布紧急协查 (`/alerts/new`): missing person or emergency, photo, description, where and when last seen (picked on
 * the map or typed as coordinates), and the area whose every grid receives it. The clientId is fixed for the page
 * (a retry creates nothing twice); the photo is uploaded to the created alert once.
 */
export default function AlertCreatePage() {
  const { t } = useTranslation('notices');
  const me = useMe();
  const navigate = useNavigate();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm<Values>();
  const [clientId] = useState(() => crypto.randomUUID());
  const [problem, setProblem] = useState<string | null>(null);
  const photoSent = useRef<string | null>(null);
  const lng = Form.useWatch('lng', form);
  const lat = Form.useWatch('lat', form);
  const point: [number, number] | null =
    typeof lng === 'number' && typeof lat === 'number' ? [lng, lat] : null;
  const home = homeRegion(me);

  const create = useMutation({
    mutationFn: async (values: Values) => {
      const hasPoint = typeof values.lng === 'number' && typeof values.lat === 'number';
      const lastSeen = {
        ...(values.place?.trim() ? { place: values.place.trim() } : {}),
        ...(values.at ? { at: values.at.toISOString() } : {}),
        ...(hasPoint ? { location: { lng: values.lng!, lat: values.lat! } } : {}),
      };
      const body: CreateAlertRequest = {
        clientId,
        kind: values.kind,
        title: values.title,
        description: values.description,
        regionCode: values.regionCode ?? '',
        ...(Object.keys(lastSeen).length ? { lastSeen } : {}),
      };
      const alert = await api.createAlert({ body });
      const file = values.photo?.[0];
      let photoError: string | null = null;
      if (file?.originFileObj && photoSent.current !== file.uid) {
        try {
          await uploadAlertPhoto(alert.id, file.originFileObj);
          photoSent.current = file.uid;
        } catch (e) {
          photoError = errorMessage(e);
        }
      }
      return { alert, photoError };
    },
    onSuccess: ({ alert, photoError }) => {
      if (photoError) void message.warning(t('alertForm.photoFailed', { message: photoError }));
      else void message.success(t('alertForm.created'));
      void navigate(`/alerts/${alert.id}`);
    },
    onError: (e) => setProblem(showServerErrors(form, e, fieldNames)),
  });

  if (!can(me, 'notice.send')) return <Forbidden />;
  const required = (field: string) => ({
    required: true,
    whitespace: true,
    message: t('alertForm.required', { field }),
  });
  const bothOrNone = ({ getFieldValue }: { getFieldValue: (name: string) => unknown }) => ({
    validator: () => {
      const hasLng = typeof getFieldValue('lng') === 'number';
      const hasLat = typeof getFieldValue('lat') === 'number';
      return hasLng === hasLat ? Promise.resolve() : Promise.reject(new Error(t('alertForm.both')));
    },
  });

  return (
    <div data-testid="alert-create-page" style={{ maxWidth: 1100 }}>
      <PageHeader title={t('alertForm.title')} intro={t('alertForm.intro')} />
      <Form<Values>
        form={form}
        layout="vertical"
        initialValues={{ kind: 'missing_person', regionCode: home?.code, photo: [] }}
        onFinish={(values) => {
          setProblem(null);
          create.mutate(values);
        }}
        onValuesChange={() => problem && setProblem(null)}
      >
        <Row gutter={16}>
          <Col xs={24} lg={11}>
            <Card>
              <Form.Item name="kind" label={t('alertForm.kind')}>
                <Radio.Group
                  optionType="button"
                  buttonStyle="solid"
                  options={alertKindValues.map((k) => ({ value: k, label: t(`alerts.kind.${k}`) }))}
                />
              </Form.Item>
              <Form.Item
                name="title"
                label={t('alertForm.fieldTitle')}
                rules={[required(t('alertForm.fieldTitle'))]}
              >
                <Input
                  maxLength={noticeLimits.titleMax}
                  placeholder={t('alertForm.titlePlaceholder')}
                  data-testid="alert-title"
                />
              </Form.Item>
              <Form.Item
                name="description"
                label={t('alertForm.description')}
                rules={[required(t('alertForm.description'))]}
              >
                <Input.TextArea
                  maxLength={noticeLimits.descriptionMax}
                  showCount
                  autoSize={{ minRows: 4, maxRows: 10 }}
                  placeholder={t('alertForm.descriptionPlaceholder')}
                  data-testid="alert-description"
                />
              </Form.Item>
              <Form.Item
                name="photo"
                label={t('alertForm.photo')}
                extra={t('alertForm.photoHelp')}
                valuePropName="fileList"
                getValueFromEvent={(e: { fileList: UploadFile[] }) => e.fileList.slice(-1)}
              >
                <Upload accept={imageAccept} listType="picture-card" maxCount={1} beforeUpload={() => false}>
                  <button type="button" style={{ border: 0, background: 'none', cursor: 'pointer' }}>
                    <CameraOutlined />
                    <div style={{ marginTop: 6 }}>{t('alertForm.choosePhoto')}</div>
                  </button>
                </Upload>
              </Form.Item>
              <Form.Item
                name="regionCode"
                label={t('alertForm.region')}
                htmlFor="alert-region"
                extra={t('alertForm.regionHelp')}
                rules={[
                  { required: true, message: t('alertForm.required', { field: t('alertForm.region') }) },
                ]}
              >
                <RegionTreeSelect id="alert-region" style={{ width: '100%' }} />
              </Form.Item>
            </Card>
          </Col>
          <Col xs={24} lg={13}>
            <Card title={t('alertForm.lastSeen')}>
              <Row gutter={12}>
                <Col span={14}>
                  <Form.Item name="place" label={t('alertForm.place')}>
                    <Input
                      maxLength={200}
                      placeholder={t('alertForm.placePlaceholder')}
                      data-testid="alert-place"
                    />
                  </Form.Item>
                </Col>
                <Col span={10}>
                  <Form.Item name="at" label={t('alertForm.at')} htmlFor="alert-at">
                    <DatePicker
                      id="alert-at"
                      showTime={{ format: 'HH:mm' }}
                      format="YYYY-MM-DD HH:mm"
                      disabledDate={(d) => d.isAfter(dayjs(), 'day')}
                      style={{ width: '100%' }}
                    />
                  </Form.Item>
                </Col>
              </Row>
              <div style={{ marginBottom: 8 }}>{t('alertForm.pointHelp')}</div>
              <div data-testid="alert-point-map" style={{ borderRadius: 4, overflow: 'hidden' }}>
                <Suspense fallback={<Loading rows={6} />}>
                  <PickPointMap
                    value={point}
                    onChange={([x, y]) =>
                      form.setFieldsValue({ lng: Number(x.toFixed(6)), lat: Number(y.toFixed(6)) })
                    }
                    height={300}
                  />
                </Suspense>
              </div>
              <Space align="start" wrap style={{ marginTop: 12 }}>
                <Form.Item
                  name="lng"
                  label={t('alertForm.lng')}
                  htmlFor="alert-lng"
                  dependencies={['lat']}
                  rules={[bothOrNone]}
                >
                  <InputNumber id="alert-lng" min={-180} max={180} step={0.0001} style={{ width: 160 }} />
                </Form.Item>
                <Form.Item
                  name="lat"
                  label={t('alertForm.lat')}
                  htmlFor="alert-lat"
                  dependencies={['lng']}
                  rules={[bothOrNone]}
                >
                  <InputNumber id="alert-lat" min={-90} max={90} step={0.0001} style={{ width: 160 }} />
                </Form.Item>
                <Form.Item label=" ">
                  <Button disabled={!point} onClick={() => form.setFieldsValue({ lng: null, lat: null })}>
                    {t('alertForm.clearPoint')}
                  </Button>
                </Form.Item>
              </Space>
            </Card>
          </Col>
        </Row>
        {problem && (
          <Alert type="error" showIcon title={problem} style={{ margin: '16px 0 0' }} role="alert" />
        )}
        <Space style={{ marginTop: 16 }}>
          <Button
            type="primary"
            danger
            size="large"
            htmlType="submit"
            icon={<NotificationOutlined />}
            loading={create.isPending}
            data-testid="alert-submit"
          >
            {t('alertForm.submit')}
          </Button>
          <Button size="large" onClick={() => void navigate('/alerts')}>
            {t('alertForm.cancel')}
          </Button>
        </Space>
      </Form>
    </div>
  );
}
