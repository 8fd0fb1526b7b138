import { Alert, App, Button, Card, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, errorMessage, fieldErrors } from '../api.ts';
import { useAuth } from './auth.tsx';

interface Values {
  currentPassword: string;
  newPassword: string;
  confirm: string;
}

/** Password change; forced on first login for imported or reset accounts (`mustChangePassword`). */
export default function ChangePasswordPage() {
  const { t } = useTranslation();
  const { me, refresh } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(values: Values) {
    setBusy(true);
    setError(null);
    try {
      await api.changePassword({
        body: { currentPassword: values.currentPassword, newPassword: values.newPassword },
      });
      await refresh();
      void message.success(t('changePassword.done'));
      void navigate('/', { replace: true });
    } catch (e) {
      const fields = fieldErrors(e);
      if (fields.length) form.setFields(fields as never);
      else setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login-page">
      <Card className="login-card">
        <Typography.Title level={3}>{t('changePassword.title')}</Typography.Title>
        {me?.user.mustChangePassword && (
          <Alert
            type="warning"
            showIcon
            title={t('changePassword.firstLogin')}
            style={{ marginBottom: 16 }}
          />
        )}
        {error && <Alert role="alert" type="error" showIcon title={error} style={{ marginBottom: 16 }} />}
        <Form form={form} layout="vertical" onFinish={(v) => void submit(v)}>
          <Form.Item label={t('changePassword.current')} name="currentPassword" rules={[{ required: true }]}>
            <Input.Password autoComplete="current-password" autoFocus />
          </Form.Item>
          <Form.Item
            label={t('changePassword.next')}
            name="newPassword"
            rules={[{ required: true, min: 8, message: t('changePassword.minLength') }]}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item
            label={t('changePassword.confirm')}
            name="confirm"
            dependencies={['newPassword']}
            rules={[
              { required: true },
              ({ getFieldValue }) => ({
                validator: (_, value) =>
                  !value || getFieldValue('newPassword') === value
                    ? Promise.resolve()
                    : Promise.reject(new Error(t('changePassword.mismatch'))),
              }),
            ]}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            {t('changePassword.submit')}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
