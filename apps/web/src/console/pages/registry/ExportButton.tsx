import { DownloadOutlined } from '@ant-design/icons';
import { Alert, App, Button, Checkbox, Form, Input, Modal, Radio } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { download, exportUrl, registryKinds, type RegistryKind } from './files.ts';

interface Values {
  kind: RegistryKind;
  reveal?: boolean;
  reason?: string;
}

/**
 * 「导出」: the registry of a region as xlsx, masked; full numbers only for callers with `person.reveal`, with a
 * reason (audited by the server).
 */
export function ExportButton({ regionCode, regionName }: { regionCode: string; regionName: string }) {
  const { t } = useTranslation('registry');
  const me = useMe();
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [form] = Form.useForm<Values>();
  const reveal = Form.useWatch('reveal', form);
  const mayReveal = can(me, 'person.reveal');

  async function submit(values: Values) {
    setBusy(true);
    setError(null);
    try {
      const revealed = mayReveal && values.reveal ? { reason: (values.reason ?? '').trim() } : undefined;
      await download(exportUrl(values.kind, regionCode, revealed), `${values.kind}-${regionCode}.xlsx`);
      void message.success(t('export.started'));
      setOpen(false);
    } catch (e) {
      setError(t('export.failed', { message: errorMessage(e) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <Button icon={<DownloadOutlined />} onClick={() => setOpen(true)} data-testid="registry-export">
        {t('export.button')}
      </Button>
      <Modal
        open={open}
        title={t('export.title', { grid: regionName })}
        okText={t('export.start')}
        cancelText={t('cancel')}
        confirmLoading={busy}
        onOk={() => form.submit()}
        onCancel={() => setOpen(false)}
        destroyOnHidden
      >
        <Form<Values>
          form={form}
          layout="vertical"
          initialValues={{ kind: 'persons', reveal: false }}
          onFinish={(v) => void submit(v)}
          preserve={false}
        >
          <Form.Item name="kind" label={t('export.kind')}>
            <Radio.Group
              options={registryKinds.map((k) => ({ value: k, label: t(`kinds.${k}`) }))}
              optionType="button"
            />
          </Form.Item>
          {mayReveal && (
            <>
              <Form.Item name="reveal" valuePropName="checked" extra={t('export.revealHint')}>
                <Checkbox>{t('export.reveal')}</Checkbox>
              </Form.Item>
              {reveal && (
                <Form.Item
                  name="reason"
                  label={t('export.reason')}
                  rules={[
                    { required: true, whitespace: true, message: t('reveal.reasonRequired') },
                    { min: 4, message: t('reveal.reasonShort') },
                  ]}
                >
                  <Input.TextArea rows={2} maxLength={500} placeholder={t('export.reasonPlaceholder')} />
                </Form.Item>
              )}
            </>
          )}
        </Form>
        {error && <Alert type="error" showIcon title={error} />}
      </Modal>
    </>
  );
}
