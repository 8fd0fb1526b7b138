import { useEffect, useState } from 'react';
import { api, HttpError, storedToken, type Evaluation, type ResidentReport } from './api.ts';
import type { Navigate } from './App.tsx';
import { colon, describeError, statusLabel, t, when } from './i18n.ts';

const evaluations: readonly { value: Evaluation; zh: string }[] = [
  { value: 'satisfied', zh: '满意' },
  { value: 'basically_satisfied', zh: '基本满意' },
  { value: 'dissatisfied', zh: '不满意' },
];

/** 我的上报: the reports and wishes of this phone with their status; closed ones can be rated once. */
export function MyReports({ navigate }: { navigate: Navigate }) {
  const [items, setItems] = useState<ResidentReport[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    try {
      setItems((await api('residentReports')).items);
      setError(null);
    } catch (e) {
      if (e instanceof HttpError && e.status === 401) navigate('verify', 'mine');
      else setError(describeError(e));
    }
  };

  useEffect(() => {
    void load();
  }, []);

  const phone = storedToken()?.phone;
  return (
    <div>
      <h1>{t('我的上报')}</h1>
      {phone && (
        <p className="muted small">
          {t('手机号')}
          {colon()}
          {phone}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && <p className="muted">{t('加载中')}</p>}
      {items?.length === 0 && <p className="muted">{t('暂无上报')}</p>}
      <ul className="list" data-testid="my-reports">
        {items?.map((item) => (
          <ReportItem
            key={item.caseId}
            item={item}
            onRated={(next) =>
              setItems((list) => list?.map((x) => (x.caseId === next.caseId ? next : x)) ?? null)
            }
          />
        ))}
      </ul>
    </div>
  );
}

function ReportItem({ item, onRated }: { item: ResidentReport; onRated: (r: ResidentReport) => void }) {
  const evaluation = evaluations.find((e) => e.value === item.evaluation);
  return (
    <li className="report" data-testid="my-report" data-case={item.caseId}>
      <div className="report-head">
        <span className="tag">{t(item.kind === 'report' ? '上报' : '心愿')}</span>
        <span className={`status s-${item.status}`}>{statusLabel(item.status)}</span>
      </div>
      <h3>{item.title}</h3>
      <p className="muted small">
        {t('编号')} {item.serial} · {when(item.reportedAt)}
      </p>
      {evaluation && (
        <p className="success">
          {t('已评价')}
          {colon()}
          {t(evaluation.zh)}
        </p>
      )}
      {item.status === 'closed' && !item.evaluation && <RateForm item={item} onRated={onRated} />}
    </li>
  );
}

function RateForm({ item, onRated }: { item: ResidentReport; onRated: (r: ResidentReport) => void }) {
  const [value, setValue] = useState<Evaluation | null>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async () => {
    if (!value) return;
    setBusy(true);
    setError(null);
    try {
      const next = await api('residentRate', {
        params: { id: item.caseId },
        body: { evaluation: value, ...(comment.trim() ? { comment: comment.trim() } : {}) },
      });
      onRated(next);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="rate"
      data-testid="rate-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <fieldset>
        <legend>{t('评价')}</legend>
        <div className="segmented">
          {evaluations.map((e) => (
            <label key={e.value} className={value === e.value ? 'seg on' : 'seg'}>
              <input
                type="radio"
                className="sr-only"
                name={`rate-${item.caseId}`}
                checked={value === e.value}
                onChange={() => setValue(e.value)}
              />
              {t(e.zh)}
            </label>
          ))}
        </div>
      </fieldset>
      <label htmlFor={`comment-${item.caseId}`}>{t('评价内容')}</label>
      <textarea
        id={`comment-${item.caseId}`}
        rows={2}
        maxLength={1000}
        value={comment}
        onChange={(e) => setComment(e.target.value)}
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary big" disabled={!value || busy}>
        {t('提交评价')}
      </button>
    </form>
  );
}
