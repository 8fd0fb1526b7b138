import { useCallback, useEffect, useState } from 'react';
import { storedToken } from './api.ts';
import { GridPage } from './GridPage.tsx';
import { language, setLanguage, t } from './i18n.ts';
import { Icon } from './icons.tsx';
import { MyReports } from './MyReports.tsx';
import { ReportForm } from './ReportForm.tsx';
import { Verify } from './Verify.tsx';

/** The screens, as paths under /r/ (a QR code links `/r/<grid code>`). */
export type Screen = 'home' | 'verify' | 'report' | 'wish' | 'mine';
const screens: readonly Screen[] = ['home', 'verify', 'report', 'wish', 'mine'];

export interface Route {
  gridCode: string | null;
  screen: Screen;
  /** verify: where to go once verified */
  next: Screen | null;
}

export function parseRoute(pathname: string, search: string): Route {
  const parts = pathname
    .replace(/^\/r\/?/, '')
    .split('/')
    .filter(Boolean);
  const code = parts[0] && /^\d{6,18}$/.test(parts[0]) ? parts[0] : null;
  const screen = (screens as readonly string[]).includes(parts[1] ?? '') ? (parts[1] as Screen) : 'home';
  const nextValue = new URLSearchParams(search).get('next');
  const next = nextValue && (screens as readonly string[]).includes(nextValue) ? (nextValue as Screen) : null;
  return { gridCode: code, screen: code ? screen : 'home', next };
}

export function pathOf(gridCode: string, screen: Screen, next?: Screen): string {
  return `/r/${gridCode}${screen === 'home' ? '' : `/${screen}`}${next ? `?next=${next}` : ''}`;
}

export type Navigate = (screen: Screen, next?: Screen) => void;

export function App() {
  const [route, setRoute] = useState(() => parseRoute(location.pathname, location.search));
  const [, setLang] = useState(language());
  const [gridName, setGridName] = useState<string | null>(null);

  useEffect(() => {
    const onPop = () => setRoute(parseRoute(location.pathname, location.search));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const navigate = useCallback<Navigate>(
    (screen, next) => {
      if (!route.gridCode) return;
      // screens that need a verified phone go through verification first
      const needsPhone = screen === 'report' || screen === 'wish' || screen === 'mine';
      const target =
        needsPhone && !storedToken()
          ? pathOf(route.gridCode, 'verify', screen)
          : pathOf(route.gridCode, screen, next);
      history.pushState(null, '', target);
      setRoute(parseRoute(location.pathname, location.search));
      window.scrollTo(0, 0);
    },
    [route.gridCode],
  );

  useEffect(() => {
    document.title = gridName ? `${gridName} · ${t('网格主页')}` : t('网格主页');
  }, [gridName, route]);

  const toggleLanguage = () => {
    const next = language() === 'en' ? 'zh-CN' : 'en';
    setLanguage(next);
    setLang(next);
  };

  if (!route.gridCode) return <NoGrid onLanguage={toggleLanguage} />;
  const code = route.gridCode;
  const screen = route.screen;
  return (
    <div className="shell">
      <header className="top">
        {screen === 'home' ? (
          <span className="title">{t('网格主页')}</span>
        ) : (
          <button type="button" className="back" onClick={() => navigate('home')}>
            ‹ {t('返回')}
          </button>
        )}
        <button
          type="button"
          className="lang"
          onClick={toggleLanguage}
          aria-label={`${t('语言')}: ${language() === 'en' ? 'English' : '中文'}`}
        >
          {language() === 'en' ? '中文' : 'EN'}
        </button>
      </header>
      <main className="content">
        {screen === 'home' && <GridPage code={code} navigate={navigate} onGrid={setGridName} />}
        {screen === 'verify' && <Verify navigate={navigate} next={route.next ?? 'home'} />}
        {(screen === 'report' || screen === 'wish') && (
          <ReportForm
            key={screen}
            kind={screen === 'report' ? 'report' : 'wish'}
            gridCode={code}
            navigate={navigate}
          />
        )}
        {screen === 'mine' && <MyReports navigate={navigate} />}
      </main>
      <nav className="tabs" aria-label={t('网格主页')}>
        {(
          [
            { screen: 'home', zh: '网格主页', en: 'Home', icon: 'home' },
            { screen: 'report', zh: '随手拍', en: 'Report', icon: 'camera' },
            { screen: 'wish', zh: '我的心愿', en: 'Wish', icon: 'heart' },
            { screen: 'mine', zh: '我的上报', en: 'Mine', icon: 'list' },
          ] as const
        ).map((item) => (
          <button
            key={item.screen}
            type="button"
            className={
              screen === item.screen || (screen === 'verify' && route.next === item.screen)
                ? 'tab active'
                : 'tab'
            }
            aria-current={screen === item.screen ? 'page' : undefined}
            onClick={() => navigate(item.screen)}
          >
            <Icon name={item.icon} />
            {language() === 'en' ? item.en : item.zh}
          </button>
        ))}
      </nav>
    </div>
  );
}

function NoGrid({ onLanguage }: { onLanguage: () => void }) {
  const [code, setCode] = useState('');
  return (
    <div className="shell">
      <header className="top">
        <span className="title">{t('网格主页')}</span>
        <button type="button" className="lang" onClick={onLanguage} aria-label={t('语言')}>
          {language() === 'en' ? '中文' : 'EN'}
        </button>
      </header>
      <main className="content">
        <form
          className="card"
          onSubmit={(e) => {
            e.preventDefault();
            if (/^\d{6,18}$/.test(code.trim())) location.assign(`/r/${code.trim()}`);
          }}
        >
          <label htmlFor="grid-code">{t('输入网格编码')}</label>
          <input id="grid-code" inputMode="numeric" value={code} onChange={(e) => setCode(e.target.value)} />
          <button type="submit" className="primary big">
            {t('打开')}
          </button>
        </form>
      </main>
    </div>
  );
}
