import { useState } from 'react';
import { api, HttpError, storedToken, type Poll } from './api.ts';
import type { Navigate } from './App.tsx';
import { describeError, t, voteCount, when } from './i18n.ts';

const votesKey = 'wangge.resident.votes';

/** The polls this phone voted in from this browser (the server is the judge: a second vote is refused). */
function votedIn(): Record<string, number> {
  try {
    return JSON.parse(localStorage.getItem(votesKey) ?? '{}') as Record<string, number>;
  } catch {
    return {};
  }
}

function rememberVote(pollId: number, option: number): void {
  try {
    localStorage.setItem(votesKey, JSON.stringify({ ...votedIn(), [pollId]: option }));
  } catch {
    // private mode
  }
}

/** 投票: choose one option and vote once; after voting or once closed, the results as bars. */
export function PollCard({
  poll: initial,
  gridCode,
  navigate,
}: {
  poll: Poll;
  gridCode: string;
  navigate: Navigate;
}) {
  const [poll, setPoll] = useState(initial);
  const [choice, setChoice] = useState<number | null>(null);
  const [mine, setMine] = useState<number | null>(() => votedIn()[initial.id] ?? null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'error' | 'ok'; text: string } | null>(null);
  const [refused, setRefused] = useState(false);
  // the page refreshes with newer counts (live)
  const [seen, setSeen] = useState(initial);
  if (initial !== seen) {
    setSeen(initial);
    setPoll(initial);
  }

  const showResults = !poll.open || mine !== null || refused;

  const vote = async () => {
    if (choice === null) return;
    if (!storedToken()) {
      navigate('verify', 'home');
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      const next = await api('residentVote', { params: { id: poll.id }, body: { option: choice, gridCode } });
      rememberVote(poll.id, choice);
      setMine(choice);
      setPoll(next);
      setMessage({ kind: 'ok', text: t('您已投票') });
    } catch (e) {
      if (e instanceof HttpError && e.status === 401) {
        navigate('verify', 'home');
        return;
      }
      setMessage({ kind: 'error', text: describeError(e) });
      if (e instanceof HttpError && e.status === 409) {
        // already voted (or closed): show where the vote stands
        setRefused(true);
        try {
          setPoll(await api('publicPoll', { params: { id: poll.id } }));
        } catch {
          // keep the counts we have
        }
      }
    } finally {
      setBusy(false);
    }
  };

  const titleId = `poll-${poll.id}`;
  return (
    <article className="card poll" data-testid="poll" aria-labelledby={titleId}>
      <h3 id={titleId}>{poll.question}</h3>
      <p className="muted small">
        <span className={`tag ${poll.open ? 'ok' : 'muted'}`}>{t(poll.open ? '进行中' : '已截止')}</span>{' '}
        {t('截止')} {when(poll.openUntil)} · {voteCount(poll.total)}
      </p>
      {showResults ? (
        <ul className="bars" aria-label={poll.question}>
          {poll.options.map((option, i) => {
            const count = poll.counts[i] ?? 0;
            const share = poll.total > 0 ? Math.round((count / poll.total) * 100) : 0;
            return (
              <li key={i} className={mine === i ? 'mine' : undefined}>
                <div className="bar-label">
                  <span>
                    {option}
                    {mine === i ? ' ✓' : ''}
                  </span>
                  <span>
                    {count} · {share}%
                  </span>
                </div>
                <div
                  className="bar"
                  role="meter"
                  aria-label={option}
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={share}
                >
                  <span style={{ width: `${share}%` }} />
                </div>
              </li>
            );
          })}
        </ul>
      ) : (
        <fieldset>
          <legend className="sr-only">{poll.question}</legend>
          {poll.options.map((option, i) => (
            <label key={i} className="choice">
              <input
                type="radio"
                name={`poll-${poll.id}`}
                checked={choice === i}
                onChange={() => setChoice(i)}
              />
              <span>{option}</span>
            </label>
          ))}
          <button
            type="button"
            className="primary big"
            disabled={choice === null || busy}
            onClick={() => void vote()}
          >
            {t('提交投票')}
          </button>
        </fieldset>
      )}
      {message && (
        <p
          className={message.kind === 'error' ? 'error' : 'success'}
          role={message.kind === 'error' ? 'alert' : 'status'}
        >
          {message.text}
        </p>
      )}
    </article>
  );
}
