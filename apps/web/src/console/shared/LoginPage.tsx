import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { api, ApiError, errorMessage } from '../api.ts';
import { useAuth } from './auth.tsx';

export default function LoginPage() {
  const { t } = useTranslation();
  const { me, refresh } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  if (me) return <Navigate to={me.user.mustChangePassword ? '/change-password' : from} replace />;

  async function submit(values: { username: string; password: string }) {
    setBusy(true);
    setError(null);
    try {
      await api.login({ body: values });
      await refresh();
      void navigate(from, { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'AUTH_LOCKED') setError(t('login.locked'));
      else if (e instanceof ApiError && e.status === 401) setError(t('login.failed'));
      else setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login-page">
      <Card className="login-card">
        <Typography.Title level={3} style={{ marginBottom: 4 }}>
          {t('appName')}
        </Typography.Title>
        <Typography.Paragraph type="secondary">{t('login.subtitle')}</Typography.Paragraph>
        {error && <Alert role="alert" type="error" showIcon title={error} style={{ marginBottom: 16 }} />}
        <Form
          layout="vertical"
          onFinish={(v: { username: string; password: string }) => void submit(v)}
          requiredMark={false}
        >
          <Form.Item
            label={t('login.username')}
            name="username"
            rules={[{ required: true, message: t('login.usernameRequired') }]}
          >
            <Input prefix={<UserOutlined />} autoComplete="username" autoFocus />
          </Form.Item>
          <Form.Item
            label={t('login.password')}
            name="password"
            rules={[{ required: true, message: t('login.passwordRequired') }]}
          >
            <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            {t('login.submit')}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
