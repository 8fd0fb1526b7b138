import { useEffect, useRef, useState } from 'react';
import { api, HttpError, uploadPhoto, type ResidentReport } from './api.ts';
import type { Navigate } from './App.tsx';
import { compressPhoto, currentPosition, newClientId, type Fix } from './device.ts';
import { colon, describeError, t } from './i18n.ts';
import { Icon } from './icons.tsx';

/**
 * 随手拍 (a problem, channel resident) and 我的心愿 (a wish, channel wish): text, place (GPS with its accuracy, and an
 * address), a photo shrunk on the phone. One client id per form: a double tap or a retry makes one case. GPS comes
 * first; when the phone gives none (denied, indoors) the typed address is required and the case is placed in the
 * grid of the page.
 */
export function ReportForm({
  kind,
  gridCode,
  navigate,
}: {
  kind: 'report' | 'wish';
  gridCode: string;
  navigate: Navigate;
}) {
  const clientId = useRef(newClientId());
  // one id per chosen photo: a retried upload after a lost answer returns the first photo
  const photoClientId = useRef(newClientId());
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [address, setAddress] = useState('');
  const [fix, setFix] = useState<Fix | null>(null);
  const [locating, setLocating] = useState(false);
  const [locateError, setLocateError] = useState(false);
  const [photo, setPhoto] = useState<{ blob: Blob; url: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // the case once created (a retry then only sends what is missing)
  const [done, setDone] = useState<ResidentReport | null>(null);
  const [photoSent, setPhotoSent] = useState(false);
  const [photoFailed, setPhotoFailed] = useState(false);
  const sending = useRef(false);

  const locate = async () => {
    setLocating(true);
    setLocateError(false);
    try {
      setFix(await currentPosition());
    } catch {
      setLocateError(true);
    } finally {
      setLocating(false);
    }
  };

  useEffect(() => {
    void locate();
  }, []);

  useEffect(() => () => (photo ? URL.revokeObjectURL(photo.url) : undefined), [photo]);

  const choosePhoto = async (file: File | undefined) => {
    if (!file) return;
    const blob = await compressPhoto(file);
    setPhoto({ blob, url: URL.createObjectURL(blob) });
    photoClientId.current = newClientId();
    setPhotoSent(false);
  };

  const submit = async () => {
    if (sending.current) return; // a double tap sends once
    setError(null);
    if (!title.trim()) return setError(t('请填写标题'));
    if (!description.trim()) return setError(t('请填写描述'));
    // without a fix: the typed address in the page's grid (only once locating has failed: GPS first)
    const byAddress = !fix && locateError;
    if (!fix && !byAddress) return setError(t('需要定位'));
    if (byAddress && address.trim().length < 4) return setError(t('未定位时请填写详细地址（至少 4 个字）'));
    sending.current = true;
    setBusy(true);
    try {
      const body = {
        clientId: clientId.current,
        title: title.trim(),
        description: description.trim(),
        ...(fix
          ? { location: { lng: fix.lng, lat: fix.lat, crs: 'wgs84' as const, accuracy: fix.accuracy } }
          : { gridCode }),
        ...(address.trim() ? { address: address.trim() } : {}),
      };
      // the same clientId again answers the first case
      const report = await api(kind === 'report' ? 'residentReport' : 'residentWish', { body });
      if (photo && !photoSent) {
        try {
          await uploadPhoto(report.caseId, photo.blob, photoClientId.current);
          setPhotoSent(true);
          setPhotoFailed(false);
        } catch {
          setPhotoFailed(true);
        }
      }
      setDone(report);
    } catch (e) {
      if (e instanceof HttpError && e.status === 401) navigate('verify', kind);
      else setError(describeError(e));
    } finally {
      sending.current = false;
      setBusy(false);
    }
  };

  if (done && !photoFailed)
    return (
      <div className="card done" data-testid="report-done" role="status">
        <p className="big-check" aria-hidden="true">
          ✓
        </p>
        <h1>{t(kind === 'report' ? '上报成功' : '心愿已提交')}</h1>
        <p>
          {t('编号')}
          {colon()}
          <strong data-testid="serial">{done.serial}</strong>
        </p>
        <p className="muted">{done.title}</p>
        <button type="button" className="primary big" onClick={() => navigate('mine')}>
          {t('查看我的上报')}
        </button>
        <button type="button" className="secondary big" onClick={() => navigate('home')}>
          {t('返回')}
        </button>
      </div>
    );

  const prefix = kind === 'report' ? 'report' : 'wish';
  return (
    <form
      className="card"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h1>{t(kind === 'report' ? '随手拍' : '我的心愿')}</h1>
      {kind === 'report' && (
        <div className="photo-field">
          <span className="label">{t('照片')}</span>
          {photo && <img src={photo.url} alt={t('照片')} className="preview" />}
          <label className="secondary big file-button" htmlFor={`${prefix}-photo`}>
            <Icon name="camera" /> {t(photo ? '更换照片' : '拍照或选择照片')}
          </label>
          <input
            id={`${prefix}-photo`}
            className="sr-only"
            type="file"
            accept="image/*"
            capture="environment"
            onChange={(e) => void choosePhoto(e.target.files?.[0])}
          />
        </div>
      )}
      <label htmlFor={`${prefix}-title`}>{t('标题')}</label>
      <input
        id={`${prefix}-title`}
        maxLength={100}
        value={title}
        onChange={(e) => setTitle(e.target.value)}
      />
      <label htmlFor={`${prefix}-description`}>{t(kind === 'report' ? '问题描述' : '心愿内容')}</label>
      <textarea
        id={`${prefix}-description`}
        rows={4}
        maxLength={2000}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
      />
      <span className="label">{t('位置')}</span>
      <div className="row location">
        <span data-testid="fix" className={fix ? 'fix ok' : 'fix'} aria-live="polite">
          {locating
            ? t('定位中')
            : fix
              ? `${fix.lat.toFixed(5)}, ${fix.lng.toFixed(5)} · ${t('精度')} ±${fix.accuracy} ${t('米')}`
              : locateError
                ? t('无法定位')
                : ''}
        </span>
        <button type="button" className="secondary nowrap" disabled={locating} onClick={() => void locate()}>
          {t('获取定位')}
        </button>
      </div>
      {!fix && locateError && (
        <p className="hint" data-testid="no-fix" role="status">
          {t('没有获取到定位也没关系：请填写详细地址，将按本网格登记位置')}
        </p>
      )}
      <label htmlFor={`${prefix}-address`}>
        {t('详细地址')}
        {!fix && locateError && <span className="required"> *</span>}
      </label>
      <input
        id={`${prefix}-address`}
        maxLength={200}
        required={!fix && locateError}
        aria-describedby={!fix && locateError ? `${prefix}-address-grid` : undefined}
        placeholder={t('如：3 号楼东侧、光复路口')}
        value={address}
        onChange={(e) => {
          setAddress(e.target.value);
          if (!fix) setError(null);
        }}
      />
      {!fix && locateError && (
        <p className="muted" id={`${prefix}-address-grid`} data-testid="by-grid">
          {t('将按本网格登记位置')}
        </p>
      )}
      {photoFailed && (
        <p className="error" role="alert">
          {t('照片上传失败')}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary big" disabled={busy}>
        {busy ? t('提交中') : t('提交')}
      </button>
    </form>
  );
}
