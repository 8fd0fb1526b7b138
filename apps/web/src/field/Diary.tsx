import { useEffect, useState } from 'react';
import type { Diary as DiaryData } from '@wangge/contracts';
import { api, describeError } from './api.ts';
import { t } from './i18n.ts';
import { chinaToday, db, useLive } from './store.ts';

/** HH:mm in China time, whatever the phone's zone. */
function chinaTime(iso: string): string {
  return new Date(new Date(iso).getTime() + 8 * 3600_000).toISOString().slice(11, 16);
}

export default function Diary() {
  const date = chinaToday();
  const [diary, setDiary] = useState<DiaryData | null>(null);
  const [notes, setNotes] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const local = useLive(
    async () => {
      const start = new Date(`${date}T00:00:00+08:00`).getTime();
      return (await db.outbox.where('createdAt').aboveOrEqual(start).toArray()).filter(
        (i) => i.status !== 'sent',
      );
    },
    [date],
    [],
  );
  useEffect(() => {
    void db.getCache<DiaryData>(`diary:${date}`).then((d) => {
      if (d) {
        setDiary(d);
        setNotes(d.notes);
      }
    });
    api('diary', { params: { date } })
      .then(async (d) => {
        setDiary(d);
        setNotes(d.notes);
        setLoadError(null);
        await db.setCache(`diary:${date}`, d);
      })
      .catch((e: unknown) => setLoadError(describeError(e)))
      .finally(() => setLoading(false));
  }, [date]);
  const save = async () => {
    try {
      const d = await api('putDiaryNotes', {
        params: { date },
        body: { notes, expectedVersion: diary?.version ?? 0 },
      });
      setDiary(d);
      setMessage('✓');
    } catch (e) {
      setMessage(describeError(e));
    }
  };
  return (
    <div className="stack">
      <section className="card">
        <h2>
          {t('今日日志')} · {date}
        </h2>
        {diary ? (
          <>
            <div className="stats">
              <div>
                <span className="muted small">{t('巡查')}</span>
                <b>
                  {Math.round(diary.patrols.seconds / 60)} {t('分钟')}
                </b>
              </div>
              <div>
                <span className="muted small">{t('走访')}</span>
                <b>{diary.visits.count}</b>
              </div>
              <div>
                <span className="muted small">{t('上报')}</span>
                <b>{diary.cases.reported}</b>
              </div>
            </div>
            <ul className="list">
              {diary.entries.map((e, i) => (
                <li key={i} data-testid="diary-entry">
                  <span className="muted small">{chinaTime(e.at)}</span> {e.text}
                </li>
              ))}
            </ul>
          </>
        ) : loading ? (
          <p className="muted" role="status">
            {t('加载中…')}
          </p>
        ) : (
          <p className="muted">{t('无数据')}</p>
        )}
        {loadError && (
          <p className="muted small" role="alert">
            {t('未能更新')}：{loadError}
          </p>
        )}
      </section>
      <section className="card">
        <h2>
          {t('今日待同步')} <span className="count">{local.length}</span>
        </h2>
        <ul className="list">
          {local.map((i) => (
            <li key={i.id}>{i.label}</li>
          ))}
        </ul>
      </section>
      <section className="card">
        <label htmlFor="diary-notes">{t('备注')}</label>
        <textarea
          id="diary-notes"
          rows={5}
          maxLength={2000}
          value={notes}
          onChange={(e) => setNotes(e.target.value)}
        />
        {message && <p role="status">{message}</p>}
        <button type="button" className="primary big" onClick={() => void save()}>
          {t('保存备注')}
        </button>
      </section>
    </div>
  );
}
