import { Alert, Button, Empty, Result, Skeleton, Spin } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, errorMessage } from '../api.ts';

/** Loading, error and empty states: designed, never a blank area (issue 4). */
export function Loading({ rows = 4, inline = false }: { rows?: number; inline?: boolean }) {
  const { t } = useTranslation();
  if (inline) return <Spin size="small" aria-label={t('loading')} />;
  return (
    <div role="status" aria-label={t('loading')}>
      <Skeleton active paragraph={{ rows }} />
    </div>
  );
}

export function LoadError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  if (error instanceof ApiError && error.status === 404) return <NotFoundResult />;
  return (
    <Alert
      type="error"
      showIcon
      title={t('loadFailed')}
      description={errorMessage(error)}
      action={
        onRetry ? (
          <Button size="small" onClick={onRetry}>
            {t('retry')}
          </Button>
        ) : undefined
      }
    />
  );
}

export function EmptyState({ description, children }: { description?: ReactNode; children?: ReactNode }) {
  const { t } = useTranslation();
  return (
    <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={description ?? t('empty')}>
      {children}
    </Empty>
  );
}

export function NotFoundResult() {
  const { t } = useTranslation();
  return (
    <Result
      status="404"
      title={t('notFound.title')}
      subTitle={t('notFound.body')}
      extra={
        <Link to="/workbench">
          <Button type="primary">{t('notFound.back')}</Button>
        </Link>
      }
    />
  );
}

/** Renders a TanStack query's three states; `isEmpty` decides when the data counts as empty. */
export function QueryState<T>({
  query,
  isEmpty,
  empty,
  children,
  rows,
}: {
  query: {
    isPending: boolean;
    isError: boolean;
    error: unknown;
    data: T | undefined;
    refetch: () => unknown;
  };
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
  rows?: number;
}) {
  if (query.isPending) return <Loading rows={rows ?? 4} />;
  if (query.isError) return <LoadError error={query.error} onRetry={() => void query.refetch()} />;
  const data = query.data as T;
  if (isEmpty?.(data)) return <>{empty ?? <EmptyState />}</>;
  return <>{children(data)}</>;
}
