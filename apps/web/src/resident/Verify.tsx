import { useEffect, useState } from 'react';
import { api, storedToken, storeToken } from './api.ts';
import type { Navigate, Screen } from './App.tsx';
import { colon, describeError, t } from './i18n.ts';

/** A new code for the same phone no sooner than this (noticeLimits.codeResendSeconds; checked by api.test.ts). */
export const resendSeconds = 60;

const phonePattern = /^(?:\+?86)?1\d{10}$/;

/**
 * 验证手机号: phone → 获取验证码 (a countdown before the next one) → the 6-digit code → verified. The token is kept
 * in localStorage; the phone itself only masked.
 */
export function Verify({ navigate, next }: { navigate: Navigate; next: Screen }) {
  const [verified, setVerified] = useState(() => storedToken());
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [left, setLeft] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (left <= 0) return;
    const timer = setTimeout(() => setLeft(left - 1), 1000);
    return () => clearTimeout(timer);
  }, [left]);

  const cleanPhone = phone.replace(/[\s-]/g, '');

  const requestCode = async () => {
    setError(null);
    if (!phonePattern.test(cleanPhone)) {
      setError(t('请输入正确的手机号'));
      return;
    }
    setBusy(true);
    try {
      const sent = await api('residentCode', { body: { phone: cleanPhone } });
      setSentTo(sent.phone);
      setLeft(resendSeconds);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const verify = async () => {
    setError(null);
    if (!/^\d{6}$/.test(code.trim())) {
      setError(t('请输入6位验证码'));
      return;
    }
    setBusy(true);
    try {
      const token = await api('residentVerify', { body: { phone: cleanPhone, code: code.trim() } });
      storeToken(token);
      setVerified(token);
      navigate(next === 'verify' ? 'home' : next);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  if (verified)
    return (
      <div className="card" data-testid="verified">
        <h1>{t('已验证')}</h1>
        <p>
          {t('手机号')}
          {colon()}
          <strong>{verified.phone}</strong>
        </p>
        <button
          type="button"
          className="primary big"
          onClick={() => navigate(next === 'verify' ? 'home' : next)}
        >
          {t('返回')}
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            storeToken(null);
            setVerified(null);
          }}
        >
          {t('退出验证')}
        </button>
      </div>
    );

  return (
    <form
      className="card"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void verify();
      }}
    >
      <h1>{t('验证手机号')}</h1>
      <p className="muted">{t('上报问题、提交心愿或投票前，请先验证手机号。号码只用于联系您，不会公开。')}</p>
      <label htmlFor="phone">{t('手机号')}</label>
      <div className="row">
        <input
          id="phone"
          type="tel"
          inputMode="tel"
          autoComplete="tel"
          maxLength={14}
          value={phone}
          onChange={(e) => setPhone(e.target.value)}
        />
        <button
          type="button"
          className="secondary nowrap"
          disabled={busy || left > 0}
          onClick={() => void requestCode()}
        >
          {left > 0 ? `${left} ${t('秒后重发')}` : t('获取验证码')}
        </button>
      </div>
      {sentTo && (
        <p className="success" role="status">
          {t('验证码已发送至')} {sentTo}
        </p>
      )}
      <label htmlFor="code">{t('验证码')}</label>
      <input
        id="code"
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={6}
        value={code}
        onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary big" disabled={busy || code.length !== 6}>
        {t('验证')}
      </button>
    </form>
  );
}
