import { ArrowLeftOutlined, ClockCircleOutlined, PhoneOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import type { CaseDetail, CaseTimelineEntry } from '@wangge/contracts';
import { Alert, Button, Card, Col, Descriptions, Image, Row, Space, Tag, Timeline, Typography } from 'antd';
import { lazy, Suspense, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router';
import { api } from '../../api.ts';
import { EmptyState, Loading, NotFoundResult, QueryState } from '../../shared/states.tsx';
import { CaseActions } from './CaseActions.tsx';
import { formatTime, OverdueTag, remaining, StatusTag, SupervisionTag, UrgentTag } from './caseUi.tsx';

const CaseMiniMap = lazy(() => import('../map/CaseMiniMap.tsx'));

/** Hotline work-order fields, when the server includes them with the case (masked phone). */
interface HotlineFacts {
  callerName?: string | null;
  callerPhone?: string | null;
  callerPhoneMasked?: string | null;
  callTime?: string | null;
  workOrderNumber?: string | null;
}

/** 案件详情: the facts, the deadlines, where, photos, the history, and what this user may do now. */
export default function CasePage() {
  const { id: raw } = useParams();
  const id = Number(raw);
  if (!Number.isInteger(id) || id <= 0) return <NotFoundResult />;
  return <CaseView id={id} />;
}

function CaseView({ id }: { id: number }) {
  const detail = useQuery({ queryKey: ['case', id], queryFn: () => api.case({ params: { id } }) });
  const timeline = useQuery({
    queryKey: ['case', id, 'timeline'],
    queryFn: () => api.caseTimeline({ params: { id } }),
    enabled: detail.isSuccess,
  });
  return (
    <QueryState query={detail} rows={10}>
      {(c) => <CaseContent detail={c} timeline={timeline} />}
    </QueryState>
  );
}

function CaseContent({
  detail: c,
  timeline,
}: {
  detail: CaseDetail;
  timeline: {
    isPending: boolean;
    isError: boolean;
    error: unknown;
    data: { items: CaseTimelineEntry[] } | undefined;
    refetch: () => unknown;
  };
}) {
  const { t, i18n } = useTranslation('workbench');
  const navigate = useNavigate();
  const en = i18n.language === 'en';
  const hotline = (c as CaseDetail & { hotline?: HotlineFacts | null }).hotline ?? null;
  const photos = useMemo(
    () =>
      (timeline.data?.items ?? []).flatMap((e) =>
        e.attachments.map((a) => ({ ...a, at: e.at, action: e.action })),
      ),
    [timeline.data],
  );
  const departmentName = (departmentId: number) =>
    c.departments.find((d) => d.id === departmentId)?.name ?? `#${departmentId}`;

  const facts = [
    {
      key: 'serial',
      label: t('case.serial'),
      children: <Typography.Text copyable>{c.serial}</Typography.Text>,
    },
    { key: 'status', label: t('case.status'), children: <StatusTag status={c.status} /> },
    {
      key: 'category',
      label: t('case.category'),
      children: `${c.category.code} ${en ? c.category.nameEn : c.category.nameZh}`,
    },
    { key: 'channel', label: t('case.channel'), children: t(`common:channel.${c.channel}`) },
    {
      key: 'urgent',
      label: t('case.urgent'),
      children: c.urgent ? <UrgentTag /> : t('case.urgentNo'),
    },
    {
      key: 'supervision',
      label: t('case.supervision'),
      children:
        c.supervision === 'none' ? t('common:supervision.none') : <SupervisionTag level={c.supervision} />,
    },
    { key: 'grid', label: t('case.grid'), children: `${c.grid.name}（${c.grid.code}）` },
    {
      key: 'owner',
      label: t('case.owner'),
      children: `${c.owner.name}（${t(`common:levels.${c.owner.level}`)}）`,
    },
    { key: 'address', label: t('case.address'), children: c.address || t('case.noAddress'), span: 2 },
    {
      key: 'description',
      label: t('case.description'),
      span: 2,
      children: <div style={{ whiteSpace: 'pre-wrap' }}>{c.description || '—'}</div>,
    },
    {
      key: 'reportedAt',
      label: t('case.reportedAt'),
      children: <span style={{ whiteSpace: 'nowrap' }}>{formatTime(c.reportedAt)}</span>,
    },
    {
      key: 'filedAt',
      label: t('case.filedAt'),
      children: <span style={{ whiteSpace: 'nowrap' }}>{formatTime(c.filedAt)}</span>,
    },
    ...(c.closedAt
      ? [
          {
            key: 'closedAt',
            label: t('case.closedAt'),
            children: <span style={{ whiteSpace: 'nowrap' }}>{formatTime(c.closedAt)}</span>,
          },
        ]
      : []),
    ...(c.evaluation
      ? [
          {
            key: 'evaluation',
            label: t('case.evaluation'),
            children: (
              <Tag color={c.evaluation === 'dissatisfied' ? 'red' : 'green'} data-testid="evaluation">
                {t(`evaluation.${c.evaluation}`)}
              </Tag>
            ),
          },
        ]
      : []),
    ...(c.reworkCount > 0 ? [{ key: 'rework', label: t('case.reworkCount'), children: c.reworkCount }] : []),
    ...(c.parentCaseId
      ? [
          {
            key: 'parent',
            label: t('case.parentCase'),
            children: (
              <Button type="link" size="small" onClick={() => void navigate(`/cases/${c.parentCaseId}`)}>
                #{c.parentCaseId}
              </Button>
            ),
          },
        ]
      : []),
  ];

  const stage = (key: 'accept' | 'handle' | 'inspect', label: string) => {
    const at = c.due[key];
    const current = at !== null && at === c.due.current;
    const left = current ? remaining(at, t) : null;
    return {
      key,
      label,
      children: at ? (
        <Space size={6} wrap>
          <span>{formatTime(at)}</span>
          {left &&
            (left.over || c.overdue ? (
              <Tag color="red">{left.over ? left.text : t('tag.overdue')}</Tag>
            ) : (
              <Tag color={left.soon ? 'orange' : 'blue'} icon={<ClockCircleOutlined />}>
                {left.text}
              </Tag>
            ))}
        </Space>
      ) : (
        <Typography.Text type="secondary">{t('case.notSet')}</Typography.Text>
      ),
    };
  };

  return (
    <div data-testid="case-page">
      <Card style={{ marginBottom: 16 }}>
        <Button
          type="link"
          icon={<ArrowLeftOutlined />}
          style={{ paddingInline: 0 }}
          onClick={() => void navigate('/workbench')}
        >
          {t('case.back')}
        </Button>
        <div style={{ display: 'flex', gap: 24, alignItems: 'flex-start', justifyContent: 'space-between' }}>
          <div style={{ minWidth: 0 }}>
            <Typography.Title level={3} className="page-title" style={{ marginBottom: 6 }}>
              <span style={{ color: '#8c8c8c', fontWeight: 400, marginInlineEnd: 12 }}>{c.serial}</span>
              {c.title}
            </Typography.Title>
            <Space size={4} wrap data-testid="case-flags">
              <StatusTag status={c.status} />
              <SupervisionTag level={c.supervision} />
              {c.urgent && <UrgentTag />}
              {c.overdue && <OverdueTag />}
              {c.instructed && <Tag color="magenta">{t('tag.instructed')}</Tag>}
              {c.extensionRequested && <Tag color="gold">{t('tag.extension')}</Tag>}
            </Space>
          </div>
        </div>
        <div style={{ marginTop: 16, paddingTop: 12, borderTop: '1px solid #f0f0f0' }}>
          <Space align="start" size={12}>
            <Typography.Text strong style={{ lineHeight: '32px', whiteSpace: 'nowrap' }}>
              {t('case.actions')}：
            </Typography.Text>
            <CaseActions detail={c} />
          </Space>
        </div>
      </Card>

      <Row gutter={16}>
        <Col span={14}>
          <Card title={t('case.facts')} style={{ marginBottom: 16 }}>
            <Descriptions
              bordered
              size="small"
              column={2}
              items={facts}
              styles={{ label: { width: 100, whiteSpace: 'nowrap' } }}
            />
          </Card>
          <Card title={t('case.timeline')} style={{ marginBottom: 16 }}>
            <QueryState
              query={timeline}
              isEmpty={(d) => d.items.length === 0}
              empty={<EmptyState description={t('case.noTimeline')} />}
            >
              {(d) => (
                <Timeline
                  data-testid="case-timeline"
                  items={d.items.map((e) => ({
                    key: e.id,
                    color: timelineColor(e),
                    content: <TimelineEntry caseId={c.id} entry={e} departmentName={departmentName} />,
                  }))}
                />
              )}
            </QueryState>
          </Card>
        </Col>
        <Col span={10}>
          <Card title={t('case.location')} style={{ marginBottom: 16 }} styles={{ body: { padding: 12 } }}>
            {c.location ? (
              <Suspense fallback={<Loading rows={5} />}>
                <CaseMiniMap point={c.location} gridCode={c.grid.code} height={260} />
              </Suspense>
            ) : (
              <EmptyState description={t('case.noLocation')} />
            )}
            <div style={{ marginTop: 8 }}>
              <Typography.Text strong>{c.grid.name}</Typography.Text>
              <br />
              <Typography.Text type="secondary">{c.address || t('case.noAddress')}</Typography.Text>
            </div>
          </Card>
          <Card title={t('case.due')} style={{ marginBottom: 16 }}>
            {c.overdue && (
              <Alert type="error" showIcon title={t('case.overdueNow')} style={{ marginBottom: 12 }} />
            )}
            {c.due.beyondCalendar && (
              <Alert type="warning" showIcon title={t('case.beyondCalendar')} style={{ marginBottom: 12 }} />
            )}
            <Descriptions
              bordered
              size="small"
              column={1}
              styles={{ label: { width: 100, whiteSpace: 'nowrap' } }}
              items={[
                stage('accept', t('case.dueAccept')),
                stage('handle', t('case.dueHandle')),
                stage('inspect', t('case.dueInspect')),
              ]}
            />
            <Typography.Paragraph type="secondary" style={{ marginTop: 8, marginBottom: 0, fontSize: 12 }}>
              {t('case.dueNote')}
            </Typography.Paragraph>
          </Card>
          <Card title={t('case.departments')} style={{ marginBottom: 16 }}>
            {c.departments.length === 0 ? (
              <Typography.Text type="secondary">{t('case.noDepartments')}</Typography.Text>
            ) : (
              <Space orientation="vertical" size={8} style={{ width: '100%' }} data-testid="case-departments">
                {(['lead', 'co', 'cc'] as const).flatMap((role) =>
                  c.departments
                    .filter((d) => d.role === role)
                    .map((d) => (
                      <div
                        key={`${role}-${d.id}`}
                        style={{ display: 'flex', justifyContent: 'space-between' }}
                      >
                        <Space size={6}>
                          <Tag color={role === 'lead' ? 'red' : role === 'co' ? 'blue' : 'default'}>
                            {t(`case.${role}`)}
                          </Tag>
                          <span>{d.name}</span>
                        </Space>
                        {role !== 'cc' && (
                          <Typography.Text type={d.status === 'returned' ? 'danger' : 'secondary'}>
                            {t(`case.deptStatus.${d.status}`)}
                          </Typography.Text>
                        )}
                      </div>
                    )),
                )}
              </Space>
            )}
          </Card>
          <Card title={t('case.reporter')} style={{ marginBottom: 16 }}>
            <Descriptions
              size="small"
              column={1}
              items={[
                {
                  key: 'name',
                  label: t('case.reporter'),
                  children: c.reporter.anonymous ? t('case.anonymous') : (c.reporter.name ?? '—'),
                },
                ...(c.reporter.contact
                  ? [{ key: 'contact', label: t('case.contact'), children: c.reporter.contact }]
                  : []),
              ]}
            />
            {hotline && (
              <>
                <Typography.Title level={5} style={{ marginTop: 8 }}>
                  <PhoneOutlined /> {t('case.hotline')}
                </Typography.Title>
                <Descriptions
                  size="small"
                  column={1}
                  items={[
                    { key: 'wo', label: t('case.workOrderNumber'), children: hotline.workOrderNumber ?? '—' },
                    { key: 'caller', label: t('case.callerName'), children: hotline.callerName ?? '—' },
                    {
                      key: 'phone',
                      label: t('case.callerPhone'),
                      children: hotline.callerPhoneMasked ?? hotline.callerPhone ?? '—',
                    },
                    { key: 'time', label: t('case.callTime'), children: formatTime(hotline.callTime) },
                  ]}
                />
              </>
            )}
          </Card>
          <Card title={t('case.photos')} style={{ marginBottom: 16 }}>
            {photos.length === 0 ? (
              <Typography.Text type="secondary">{t('case.noPhotos')}</Typography.Text>
            ) : (
              <Image.PreviewGroup>
                <Space wrap size={8} data-testid="case-photos">
                  {photos.map((p) => (
                    <Image
                      key={p.photoId}
                      width={96}
                      height={96}
                      style={{ objectFit: 'cover', borderRadius: 4 }}
                      src={api.url(`/api/cases/${c.id}/photos/${p.photoId}`)}
                      alt={`${t(`timelineAction.${p.action}`, { defaultValue: p.action })} ${formatTime(p.at)}`}
                    />
                  ))}
                </Space>
              </Image.PreviewGroup>
            )}
          </Card>
        </Col>
      </Row>
    </div>
  );
}

function timelineColor(e: CaseTimelineEntry): string {
  if (e.action === 'inspect') return e.data.result === 'fail' ? '#cf1322' : '#389e0d';
  if (['overdue', 'returnCase', 'notFile', 'reopen', 'auto_escalated'].includes(e.action)) return '#cf1322';
  if (['supervise', 'supervised', 'markUrgent', 'instruct', 'suspend'].includes(e.action)) return '#d46b08';
  if (['evaluate', 'fixOnSpot'].includes(e.action) || e.toStatus === 'closed') return '#389e0d';
  if (e.role === 'system') return '#8c8c8c';
  return '#1677ff';
}

function TimelineEntry({
  caseId,
  entry: e,
  departmentName,
}: {
  caseId: number;
  entry: CaseTimelineEntry;
  departmentName: (id: number) => string;
}) {
  const { t } = useTranslation('workbench');
  const details = dataSummary(e, t, departmentName);
  return (
    <div data-testid={`timeline-${e.action}`}>
      <Space size={8} wrap>
        <Typography.Text strong>
          {t(`timelineAction.${e.action}`, { defaultValue: e.action })}
        </Typography.Text>
        <Typography.Text>{e.actor?.name ?? t('case.system')}</Typography.Text>
        {e.role && e.role !== 'system' && (
          <Typography.Text type="secondary">
            {t(`common:roles.${e.role}`, {
              defaultValue: t(`actorRole.${e.role}`, {
                defaultValue: t(`common:channel.${e.role}`, { defaultValue: e.role }),
              }),
            })}
          </Typography.Text>
        )}
        {e.fromStatus && e.toStatus && e.fromStatus !== e.toStatus && (
          <Typography.Text type="secondary">
            {t(`common:status.${e.fromStatus}`)} → {t(`common:status.${e.toStatus}`)}
          </Typography.Text>
        )}
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {formatTime(e.at)}
        </Typography.Text>
      </Space>
      {details.length > 0 && (
        <div style={{ marginTop: 4 }}>
          {details.map((d) => (
            <Tag key={d}>{d}</Tag>
          ))}
        </div>
      )}
      {e.comment && (
        <div
          style={{ marginTop: 4, whiteSpace: 'pre-wrap', color: '#434343' }}
          data-testid="timeline-comment"
        >
          {e.comment}
        </div>
      )}
      {e.attachments.length > 0 && (
        <Space size={6} style={{ marginTop: 6 }}>
          {e.attachments.map((a) => (
            <Image
              key={a.photoId}
              width={56}
              height={56}
              style={{ objectFit: 'cover', borderRadius: 4 }}
              src={api.url(`/api/cases/${caseId}/photos/${a.photoId}`)}
              alt={t('case.photos')}
            />
          ))}
        </Space>
      )}
    </div>
  );
}

/** The structured part of a step, in words (inspection result, rating, card level, departments…). */
function dataSummary(
  e: CaseTimelineEntry,
  t: (key: string, options?: Record<string, unknown>) => string,
  departmentName: (id: number) => string,
): string[] {
  const d = e.data;
  const out: string[] = [];
  switch (e.action) {
    case 'inspect':
      out.push(d.result === 'fail' ? t('timelineData.inspectFail') : t('timelineData.inspectPass'));
      break;
    case 'evaluate':
      if (typeof d.evaluation === 'string')
        out.push(
          t('timelineData.evaluation', {
            value: t(`evaluation.${d.evaluation}`),
            method: t(`method.${typeof d.method === 'string' ? d.method : 'self'}`),
          }),
        );
      break;
    case 'supervise':
    case 'supervised': {
      const level = typeof d.level === 'object' && d.level ? (d.level as { to?: string }).to : d.level;
      if (typeof level === 'string') out.push(t('timelineData.level', { level: t(`level.${level}`) }));
      break;
    }
    case 'requestExtension':
    case 'approveExtension':
      if (typeof d.days === 'number') out.push(t('timelineData.days', { count: d.days }));
      break;
    case 'file':
      if (d.categoryCode && typeof d.categoryCode === 'object')
        out.push(t('timelineData.category', { to: (d.categoryCode as { to?: string }).to ?? '' }));
      break;
    case 'mergeDuplicate':
      if (typeof d.parentCaseId === 'number') out.push(t('timelineData.parent', { id: d.parentCaseId }));
      break;
    case 'dispatch':
    case 'reopen': {
      const ids = d.departmentIds as { lead?: number; co?: number[]; cc?: number[] } | undefined;
      if (ids?.lead) out.push(`${t('case.lead')}：${departmentName(ids.lead)}`);
      for (const id of ids?.co ?? []) out.push(`${t('case.co')}：${departmentName(id)}`);
      for (const id of ids?.cc ?? []) out.push(`${t('case.cc')}：${departmentName(id)}`);
      break;
    }
    default:
      break;
  }
  return out;
}
