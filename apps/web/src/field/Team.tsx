import { useEffect, useState } from 'react';
import type { ComplianceReport } from '@wangge/contracts';
import { api, describeError } from './api.ts';
import { t } from './i18n.ts';
import { db } from './store.ts';

const pct = (r: number) => `${Math.round(r * 100)}%`;

export default function Team() {
  const [report, setReport] = useState<ComplianceReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void db.getCache<ComplianceReport>('compliance').then((r) => r && setReport(r));
    api('compliance', { query: { period: 'month' } })
      .then(async (r) => {
        setReport(r);
        await db.setCache('compliance', r);
      })
      .catch((e) => setError(describeError(e)));
  }, []);
  return (
    <div className="stack">
      {error && <p className="error">{error}</p>}
      <section className="card">
        <h2>
          {t('合规')}{' '}
          {report && (
            <span className="muted small">
              {report.from} – {report.to}
            </span>
          )}
        </h2>
        <ul className="list">
          {(report?.rows ?? []).map((r) => {
            const flags = r.flags.outsideGrid + r.flags.impossibleSpeed + r.flags.repeatedCoordinates;
            return (
              <li key={`${r.userId}-${r.gridCode}`} data-testid="compliance-row">
                <div className="row">
                  <strong>{r.userName}</strong>
                  <span className="muted small">{r.gridName}</span>
                </div>
                <div className="grid3 small">
                  <span>
                    {t('巡查达标天数')}{' '}
                    <b className={r.patrol.ratio < 1 ? 'bad' : ''}>
                      {r.patrol.daysMet}/{r.patrol.workingDays}
                    </b>
                  </span>
                  <span>
                    {t('走访覆盖')} <b>{pct(r.visits.ratio)}</b>
                  </span>
                  <span>
                    {t('重点覆盖')} <b>{pct(r.vulnerable.ratio)}</b>
                  </span>
                  {flags > 0 && (
                    <span className="bad">
                      {t('异常')} {flags}
                    </span>
                  )}
                </div>
              </li>
            );
          })}
          {report?.rows.length === 0 && <li className="muted">{t('暂无')}</li>}
        </ul>
      </section>
    </div>
  );
}
