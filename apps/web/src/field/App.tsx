import { lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { AlertBanners, LiveDot } from './AlertBanner.tsx';
import { api, describeError } from './api.ts';
import { t } from './i18n.ts';
import { Report } from './Report.tsx';
import {
  cacheKeys,
  getToken,
  isLeader,
  outbox,
  refreshCaches,
  setToken,
  useCache,
  useCounts,
  useSyncState,
  db,
  forgetPreviousUser,
  type Me,
} from './store.ts';
import { startLive, stopLive } from './live.ts';
import { SyncScreen } from './SyncScreen.tsx';
import { Tasks } from './Tasks.tsx';
import { Visits } from './Visits.tsx';

const Patrol = lazy(() => import('./Patrol.tsx'));
const Diary = lazy(() => import('./Diary.tsx'));
const Team = lazy(() => import('./Team.tsx'));
const AlertPage = lazy(() => import('./AlertPage.tsx'));
const NoticePage = lazy(() => import('./NoticePage.tsx'));

const titles: Partial<Record<string, string>> = {
  tasks: '我的任务',
  report: '上报',
  patrol: '巡查',
  visits: '走访',
  diary: '日志',
  team: '团队',
  sync: '同步',
  alert: '紧急协查',
  notice: '通知',
};

export type Route =
  'tasks' | 'report' | 'patrol' | 'visits' | 'diary' | 'team' | 'sync' | 'login' | 'alert' | 'notice';

const routeNames: Route[] = [
  'tasks',
  'report',
  'patrol',
  'visits',
  'diary',
  'team',
  'sync',
  'login',
  'alert',
  'notice',
];

function routeOf(hash: string): Route {
  const r = hash.replace(/^#\/?/, '').split('/')[0] as Route;
  return routeNames.includes(r) ? r : 'tasks';
}

/** The id in `#/alert/12`, `#/notice/7`. */
function routeId(hash: string): number | null {
  const id = Number(hash.replace(/^#\/?/, '').split('/')[1]);
  return Number.isInteger(id) && id > 0 ? id : null;
}

export function go(route: Route): void {
  location.hash = `#/${route}`;
}

function useRoute(): Route {
  const [hash, setHash] = useState(() => location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return routeOf(hash);
}

export function App() {
  const [, rerender] = useState(0);
  const route = useRoute();
  const signedIn = getToken() !== null;
  if (!signedIn || route === 'login')
    return (
      <Login
        onDone={() => {
          rerender((n) => n + 1);
          go('tasks');
        }}
      />
    );
  return <Shell route={route} id={routeId(location.hash)} />;
}

function Login({ onDone }: { onDone: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Another account signed in on this phone while the previous one still has unsent items: never send them as
  // the new account; the previous user syncs them, or they are deleted on purpose.
  const [handover, setHandover] = useState<{ token: string; previous: string; unsent: number } | null>(null);
  const proceed = async (token: string) => {
    setToken(token);
    outbox.resume();
    await refreshCaches();
    void outbox.sync();
    onDone();
  };
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { token } = await api('login', { body: { username, password } });
      const me = await api('me', {}, { token });
      const previous = await db.getCache<Me>(cacheKeys.me);
      if (previous && previous.user.id !== me.user.id) {
        const unsent = await db.outbox.where('status').anyOf('pending', 'failed', 'conflict').count();
        if (unsent > 0) {
          setHandover({ token, previous: previous.user.displayName, unsent });
          return;
        }
        await forgetPreviousUser();
      }
      await proceed(token);
    } catch (err) {
      setError(navigator.onLine ? describeError(err) : t('离线'));
    } finally {
      setBusy(false);
    }
  };
  if (handover)
    return (
      <main className="login" data-testid="handover">
        <div className="brand">
          <h1>{t('网格通')}</h1>
        </div>
        <p role="alert" className="error">
          {t('上一位用户')} {handover.previous} {t('还有')} {handover.unsent} {t('条记录未同步。')}
          {t('请由该用户登录同步；或者删除这些记录后继续。')}
        </p>
        <button
          type="button"
          className="primary big"
          onClick={() => {
            setHandover(null);
            setPassword('');
          }}
        >
          {t('返回，由该用户登录')}
        </button>
        <button
          type="button"
          className="danger big"
          onClick={() => {
            if (!window.confirm(t('确定删除上一位用户未同步的记录？删除后无法恢复。'))) return;
            void forgetPreviousUser().then(() => proceed(handover.token));
          }}
        >
          {t('删除这些记录并继续')}
        </button>
      </main>
    );
  return (
    <main className="login">
      <div className="brand">
        <img src="/field/icon-192.png" alt="" width={64} height={64} />
        <h1>{t('网格通')}</h1>
      </div>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="username">{t('用户名')}</label>
        <input
          id="username"
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          required
        />
        <label htmlFor="password">{t('密码')}</label>
        <input
          id="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary big" disabled={busy}>
          {busy ? t('登录中') : t('登录')}
        </button>
      </form>
    </main>
  );
}

export function SyncBadge() {
  const state = useSyncState();
  const counts = useCounts();
  let text: string;
  let tone: string;
  if (state.needLogin) {
    text = t('需要重新登录');
    tone = 'bad';
  } else if (counts === null) {
    text = t('检查中…');
    tone = 'warn';
  } else if (counts.conflict > 0) {
    text = `${counts.conflict} ${t('条冲突')}`;
    tone = 'bad';
  } else if (counts.failed > 0) {
    text = `${counts.failed} ${t('条失败')}`;
    tone = 'bad';
  } else if (counts.pending > 0) {
    text = `${counts.pending} ${t('条待同步')}`;
    tone = 'warn';
  } else {
    text = t('已全部同步');
    tone = 'ok';
  }
  const offline = !state.online || !navigator.onLine;
  return (
    <button
      type="button"
      className={`badge ${offline ? 'offline' : tone}`}
      data-testid="sync-state"
      onClick={() => go('sync')}
    >
      {offline ? `${t('离线')} · ` : ''}
      {text}
    </button>
  );
}

function Shell({ route, id }: { route: Route; id: number | null }) {
  const me = useCache<Me>(cacheKeys.me);
  const state = useSyncState();
  const leader = isLeader(me);
  useEffect(() => {
    if (navigator.onLine) void refreshCaches();
    // the staff stream: alerts and notices arrive live while signed in and online
    startLive();
    return stopLive;
  }, []);
  useEffect(() => {
    window.scrollTo(0, 0);
  }, [route, id]);
  const tabs: [Route, string][] = [
    ['tasks', '任务'],
    ['report', '上报'],
    ['patrol', '巡查'],
    ['visits', '走访'],
    ['diary', '日志'],
    ...(leader ? ([['team', '团队']] as [Route, string][]) : []),
    ['sync', '同步'],
  ];
  let screen: ReactNode;
  switch (route) {
    case 'report':
      screen = <Report />;
      break;
    case 'patrol':
      screen = <Patrol />;
      break;
    case 'visits':
      screen = <Visits />;
      break;
    case 'diary':
      screen = <Diary />;
      break;
    case 'team':
      screen = <Team />;
      break;
    case 'sync':
      screen = <SyncScreen />;
      break;
    case 'alert':
      screen = id ? <AlertPage key={id} id={id} /> : <Tasks />;
      break;
    case 'notice':
      screen = id ? <NoticePage key={id} id={id} /> : <Tasks />;
      break;
    case 'tasks':
    case 'login':
      screen = <Tasks />;
  }
  return (
    <div className="shell">
      <header className="top">
        <span className="title">{t(titles[route] ?? '网格通')}</span>
        <span className="top-right">
          <LiveDot />
          <SyncBadge />
        </span>
      </header>
      <AlertBanners current={route === 'alert' ? id : null} />
      {state.needLogin && (
        <div className="banner" role="alert">
          {t('需要重新登录')}
          <button type="button" onClick={() => go('login')}>
            {t('登录')}
          </button>
        </div>
      )}
      <main className="content">
        <Suspense fallback={<p className="muted">…</p>}>{screen}</Suspense>
      </main>
      <nav className="tabs">
        {tabs.map(([r, label]) => (
          <a
            key={r}
            href={`#/${r}`}
            className={r === route ? 'active' : ''}
            aria-current={r === route ? 'page' : undefined}
          >
            {t(label)}
          </a>
        ))}
      </nav>
    </div>
  );
}
