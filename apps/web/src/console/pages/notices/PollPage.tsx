import { ArrowLeftOutlined, LinkOutlined, StopOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { StaffPoll } from '@wangge/contracts';
import {
  App as AntApp,
  Button,
  Card,
  Col,
  Descriptions,
  Popconfirm,
  Progress,
  Row,
  Space,
  Typography,
} from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, errorMessage } from '../../api.ts';
import { can, useMe } from '../../shared/auth.tsx';
import { QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader } from '../admin/common.tsx';
import { PollStateTag } from './PollsPage.tsx';
import { formatTime } from './ui.tsx';

/** While a poll is open its results are fetched again every 10 s. */
const openRefetchMs = 10_000;

/**
 * 投票结果 (`/polls/:id`): the question, counts per option as bars, the total, the link residents vote from, and
 * 结束投票 for a centre over the poll's area. Results refresh every 10 s while the poll is open.
 */
export default function PollPage() {
  const { t } = useTranslation('notices');
  const me = useMe();
  const id = Number(useParams().id);
  const poll = useQuery({
    queryKey: ['polls', 'one', id],
    queryFn: () => api.poll({ params: { id } }),
    refetchInterval: (query) => (query.state.data?.open ? openRefetchMs : false),
    enabled: can(me, 'notice.send') && Number.isInteger(id),
  });
  if (!can(me, 'notice.send')) return <Forbidden />;
  return (
    <div data-testid="poll-page" style={{ maxWidth: 1100 }}>
      <Link to="/polls">
        <Button type="link" icon={<ArrowLeftOutlined />} style={{ paddingInline: 0 }}>
          {t('polls.back')}
        </Button>
      </Link>
      <QueryState query={poll} rows={8}>
        {(p) => <PollView poll={p} />}
      </QueryState>
    </div>
  );
}

function PollView({ poll }: { poll: StaffPoll }) {
  const { t } = useTranslation('notices');
  const queryClient = useQueryClient();
  const { message } = AntApp.useApp();
  const close = useMutation({
    mutationFn: () => api.closePoll({ params: { id: poll.id } }),
    onSuccess: (closed) => {
      queryClient.setQueryData(['polls', 'one', poll.id], closed);
      void queryClient.invalidateQueries({ queryKey: ['polls'] });
      void message.success(t('polls.closedDone'));
    },
    onError: (e) => void message.error(errorMessage(e)),
  });
  return (
    <>
      <PageHeader
        title={poll.question}
        extra={
          poll.canClose && (
            <Popconfirm
              title={t('polls.close')}
              description={t('polls.closeConfirm')}
              okText={t('polls.close')}
              cancelText={t('polls.cancel')}
              okButtonProps={{ danger: true }}
              onConfirm={() => close.mutate()}
            >
              <Button danger icon={<StopOutlined />} loading={close.isPending} data-testid="poll-close">
                {t('polls.close')}
              </Button>
            </Popconfirm>
          )
        }
      />
      <Row gutter={16}>
        <Col xs={24} lg={15}>
          <Card
            title={
              <Space>
                {t('polls.results')}
                <PollStateTag poll={poll} />
              </Space>
            }
            extra={
              <Typography.Text strong data-testid="poll-total">
                {t('polls.totalVotes', { count: poll.total })}
              </Typography.Text>
            }
          >
            <Space orientation="vertical" size={14} style={{ width: '100%' }} data-testid="poll-results">
              {poll.options.map((option, i) => {
                const count = poll.counts[i] ?? 0;
                const percent = poll.total ? Math.round((count / poll.total) * 1000) / 10 : 0;
                return (
                  <div key={i} data-testid="poll-option" data-count={count}>
                    <div style={{ display: 'flex', justifyContent: 'space-between', gap: 12 }}>
                      <Typography.Text>{option}</Typography.Text>
                      <Typography.Text type="secondary" data-testid="poll-option-count">
                        {t('polls.votes', { count })}
                      </Typography.Text>
                    </div>
                    <Progress
                      percent={percent}
                      format={(value) => `${value ?? 0}%`}
                      strokeColor={poll.open ? undefined : '#8c8c8c'}
                      aria-label={option}
                    />
                  </div>
                );
              })}
            </Space>
            <Typography.Text type="secondary" style={{ display: 'block', marginTop: 12, fontSize: 12 }}>
              {poll.open
                ? t('polls.refreshing')
                : poll.closedAt
                  ? t('polls.closedAt', { at: formatTime(poll.closedAt) })
                  : t('polls.until', { at: formatTime(poll.openUntil) })}
            </Typography.Text>
          </Card>
        </Col>
        <Col xs={24} lg={9}>
          <Card size="small" style={{ marginBottom: 16 }}>
            <Descriptions
              column={1}
              size="small"
              items={[
                { key: 'region', label: t('polls.region'), children: poll.regionName },
                { key: 'until', label: t('polls.openUntil'), children: formatTime(poll.openUntil) },
                { key: 'createdAt', label: t('polls.createdAt'), children: formatTime(poll.createdAt) },
                { key: 'createdBy', label: t('polls.createdBy'), children: poll.createdBy },
              ]}
            />
          </Card>
          <ResidentLink poll={poll} />
        </Col>
      </Row>
    </>
  );
}

/** The first grid at or below a region (walking first children), for an example link. */
function useExampleGrid(regionCode: string) {
  return useQuery({
    queryKey: ['polls', 'exampleGrid', regionCode],
    staleTime: 5 * 60_000,
    queryFn: async () => {
      let region = await api.region({ params: { code: regionCode } });
      for (let depth = 0; depth < 5 && region.level !== 'grid'; depth++) {
        const children = await api.regionChildren({ params: { code: region.code } });
        const next = children.items[0];
        if (!next) return null;
        region = next;
      }
      return region.level === 'grid' ? region : null;
    },
  });
}

function ResidentLink({ poll }: { poll: StaffPoll }) {
  const { t } = useTranslation('notices');
  const example = useExampleGrid(poll.regionCode);
  const grid = example.data;
  const url = grid ? `${location.origin}/r/${grid.code}` : null;
  return (
    <Card size="small" title={t('polls.residentLink')} data-testid="poll-resident-link">
      <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
        {t('polls.residentLinkHelp')}
      </Typography.Paragraph>
      {grid && url && (
        <Typography.Paragraph style={{ marginBottom: 0 }}>
          <LinkOutlined /> {t('polls.example', { grid: grid.name })}
          <br />
          <Typography.Link
            href={url}
            target="_blank"
            copyable={{ text: url }}
            data-testid="poll-example-link"
          >
            {url}
          </Typography.Link>
        </Typography.Paragraph>
      )}
    </Card>
  );
}
