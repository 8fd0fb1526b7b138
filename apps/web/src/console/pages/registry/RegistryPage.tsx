import { HomeOutlined, SearchOutlined, TeamOutlined, UserOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
  personTagSpecialty,
  type Building,
  type Household,
  type PersonSummary,
  type RegionView,
} from '@wangge/contracts';
import {
  Alert,
  Button,
  Card,
  Col,
  Form,
  Input,
  List,
  Row,
  Space,
  Statistic,
  Tag,
  Tree,
  Typography,
} from 'antd';
import type { TreeDataNode } from 'antd';
import { useEffect, useMemo, useState, type Key, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useSearchParams } from 'react-router';
import { api, errorMessage } from '../../api.ts';
import { can, homeRegion, useMe } from '../../shared/auth.tsx';
import { EmptyState, LoadError, Loading, QueryState } from '../../shared/states.tsx';
import { Forbidden, PageHeader } from '../admin/common.tsx';
import { RegionTreeSelect } from '../admin/RegionTreeSelect.tsx';
import { ExportButton } from './ExportButton.tsx';
import { PersonLine, specialtyColor } from './ui.tsx';

/**
 * 楼栋与人口 (`/registry?grid=`): choose a grid, then building → unit → household → people. The grid's counts on
 * top, a search by name / ID number / phone, and the export of the grid's registry.
 */
export default function RegistryPage() {
  const { t } = useTranslation('registry');
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const chosen = params.get('grid');
  // A grid worker starts in their own grid; a centre in its region, to pick one of its grids.
  const ownGrid = me.scope.length === 1 && me.scope[0]!.level === 'grid' ? me.scope[0]!.regionCode : null;
  useEffect(() => {
    if (!chosen && ownGrid) setParams({ grid: ownGrid }, { replace: true });
  }, [chosen, ownGrid, setParams]);
  const code = chosen ?? homeRegion(me)?.code ?? null;

  const region = useQuery({
    queryKey: ['region', code],
    enabled: !!code,
    queryFn: () => api.region({ params: { code: code! } }),
    staleTime: 5 * 60_000,
  });

  if (!can(me, 'person.read')) return <Forbidden />;
  const grid = region.data?.level === 'grid' ? region.data : null;

  return (
    <div data-testid="registry-page">
      <PageHeader
        title={t('tree.title')}
        intro={t('tree.intro')}
        extra={grid ? <ExportButton regionCode={grid.code} regionName={grid.name} /> : undefined}
      />
      <Card size="small" style={{ marginBottom: 16 }}>
        <Row gutter={16} align="top">
          <Col flex="420px">
            <Form layout="vertical" component="div">
              <Form.Item label={t('tree.grid')} htmlFor="registry-grid" style={{ marginBottom: 0 }}>
                <RegionTreeSelect
                  id="registry-grid"
                  value={code}
                  onChange={(next) => setParams(next ? { grid: next } : {})}
                  placeholder={t('tree.gridPlaceholder')}
                  style={{ width: '100%' }}
                />
              </Form.Item>
            </Form>
          </Col>
          <Col flex="auto">
            <PersonSearch />
          </Col>
        </Row>
      </Card>
      {!code ? (
        <Card>
          <EmptyState description={t('tree.pickGrid')} />
        </Card>
      ) : (
        <QueryState query={region}>
          {(r) =>
            r.level === 'grid' ? (
              <GridView grid={r} key={r.code} />
            ) : (
              <ChildRegions region={r} onPick={(c) => setParams({ grid: c })} />
            )
          }
        </QueryState>
      )}
    </div>
  );
}

/** A region above the grid level: its children to drill into, until a grid is reached. */
function ChildRegions({ region, onPick }: { region: RegionView; onPick: (code: string) => void }) {
  const { t } = useTranslation('registry');
  const { t: tc, i18n } = useTranslation();
  const level = tc(`levels.${region.level}`);
  const children = useQuery({
    queryKey: ['regionChildren', region.code],
    queryFn: () => api.regionChildren({ params: { code: region.code } }),
    staleTime: 5 * 60_000,
  });
  return (
    <Card title={i18n.language === 'en' ? `${region.name} (${level})` : `${region.name}（${level}）`}>
      <Typography.Paragraph type="secondary">{t('tree.pickGrid')}</Typography.Paragraph>
      <QueryState query={children} isEmpty={(d) => d.items.length === 0}>
        {(d) => (
          <Space wrap>
            {d.items.map((c) => (
              <Button key={c.code} onClick={() => onPick(c.code)}>
                {c.name}
                <Typography.Text type="secondary" style={{ marginInlineStart: 6 }}>
                  {tc(`levels.${c.level}`)}
                </Typography.Text>
              </Button>
            ))}
          </Space>
        )}
      </QueryState>
    </Card>
  );
}

function GridView({ grid }: { grid: RegionView }) {
  return (
    <Row gutter={16}>
      <Col span={24}>
        <GridCounts code={grid.code} />
      </Col>
      <Col span={24}>
        <BuildingTree gridCode={grid.code} />
      </Col>
    </Row>
  );
}

/** The grid's registry counts: households, people and (when visible to the user) people by key-group tag. */
function GridCounts({ code }: { code: string }) {
  const { t } = useTranslation('registry');
  const me = useMe();
  const stats = useQuery({
    queryKey: ['registryStats', code],
    enabled: can(me, 'region.stats'),
    queryFn: () => api.registryStats({ params: { code } }),
  });
  if (!can(me, 'region.stats')) return null;
  return (
    <Card size="small" style={{ marginBottom: 16 }} data-testid="registry-counts">
      <QueryState query={stats} rows={1}>
        {(s) => (
          <div style={{ display: 'flex', gap: 40, alignItems: 'flex-start', flexWrap: 'wrap' }}>
            <Statistic title={t('tree.households')} value={s.households} prefix={<HomeOutlined />} />
            <Statistic title={t('tree.people')} value={s.people} prefix={<TeamOutlined />} />
            {s.byTag && (
              <div style={{ flex: 1, minWidth: 280 }}>
                <div style={{ color: 'rgba(0,0,0,0.45)', marginBottom: 8 }}>{t('tree.byTag')}</div>
                {s.byTag.filter((x) => x.count > 0).length === 0 ? (
                  <Typography.Text type="secondary">{t('tree.noTags')}</Typography.Text>
                ) : (
                  <Space size={[6, 6]} wrap>
                    {s.byTag
                      .filter((x) => x.count > 0)
                      .map((x) => (
                        <Tag key={x.kind} color={specialtyColor[personTagSpecialty[x.kind]]}>
                          {t(`tag.${x.kind}`)} {x.count}
                        </Tag>
                      ))}
                  </Space>
                )}
              </div>
            )}
          </div>
        )}
      </QueryState>
    </Card>
  );
}

const unitLabel = (unit: string | null, t: (k: string, o?: Record<string, unknown>) => string) =>
  unit === null ? t('tree.noUnit') : /^\d+$/.test(unit) ? t('tree.unit', { unit }) : unit;

/** Households of a building grouped by unit, in the building's order (units and rooms sorted naturally). */
function byUnit(households: Household[]): [string | null, Household[]][] {
  const groups = new Map<string | null, Household[]>();
  for (const h of households) groups.set(h.unit, [...(groups.get(h.unit) ?? []), h]);
  const natural = (a: string | null, b: string | null) =>
    (a ?? '').localeCompare(b ?? '', 'zh-CN', { numeric: true });
  return [...groups.entries()]
    .sort(([a], [b]) => natural(a, b))
    .map(([u, hs]) => [u, [...hs].sort((a, b) => natural(a.room, b.room))]);
}

type Node = TreeDataNode & { children?: Node[] };

function BuildingTree({ gridCode }: { gridCode: string }) {
  const { t } = useTranslation('registry');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const buildings = useQuery({
    queryKey: ['gridBuildings', gridCode],
    queryFn: () => api.gridBuildings({ params: { code: gridCode } }),
  });
  const [loaded, setLoaded] = useState<Map<number, Household[]>>(new Map());
  const [expanded, setExpanded] = useState<Key[]>([]);
  const [loadError, setLoadError] = useState<unknown>(null);

  async function loadBuilding(id: number): Promise<void> {
    if (loaded.has(id)) return;
    try {
      const result = await queryClient.fetchQuery({
        queryKey: ['buildingHouseholds', id],
        queryFn: () => api.buildingHouseholds({ params: { id } }),
      });
      setLoadError(null);
      setLoaded((prev) => new Map(prev).set(id, result.items));
    } catch (error) {
      setLoadError(error);
      throw error;
    }
  }

  const treeData = useMemo(
    (): Node[] => (buildings.data?.items ?? []).map((b) => buildingNode(b, loaded.get(b.id), t)),
    [buildings.data, loaded, t],
  );

  function toggle(key: Key) {
    setExpanded((prev) => (prev.includes(key) ? prev.filter((k) => k !== key) : [...prev, key]));
  }

  return (
    <Card
      title={
        <span>
          {t('tree.buildings')}
          {buildings.data && (
            <Typography.Text type="secondary" style={{ marginInlineStart: 8, fontWeight: 400 }}>
              {buildings.data.items.length}
            </Typography.Text>
          )}
        </span>
      }
    >
      {loadError !== null && (
        <div style={{ marginBottom: 12 }}>
          <LoadError error={loadError} onRetry={() => setLoadError(null)} />
        </div>
      )}
      <QueryState
        query={buildings}
        rows={8}
        isEmpty={(d) => d.items.length === 0}
        empty={<EmptyState description={t('tree.noBuildings')} />}
      >
        {() => (
          <Tree
            aria-label={t('tree.treeLabel')}
            data-testid="building-tree"
            blockNode
            showLine
            treeData={treeData}
            expandedKeys={expanded}
            onExpand={(keys) => setExpanded(keys)}
            loadData={async (node) => {
              const key = String(node.key);
              if (key.startsWith('b:')) await loadBuilding(Number(key.slice(2)));
            }}
            selectedKeys={[]}
            onSelect={(_, info) => {
              const key = String(info.node.key);
              if (key.startsWith('p:')) void navigate(`/registry/persons/${key.slice(2)}`);
              else if (key.startsWith('b:'))
                void loadBuilding(Number(key.slice(2))).then(
                  () => toggle(key),
                  () => undefined,
                );
              else if (!info.node.isLeaf) toggle(key);
            }}
          />
        )}
      </QueryState>
    </Card>
  );
}

type T = (k: string, o?: Record<string, unknown>) => string;

function title(testId: string, main: ReactNode, ...details: ReactNode[]) {
  return (
    <span
      data-testid={testId}
      style={{ display: 'inline-flex', gap: 10, alignItems: 'center', flexWrap: 'wrap' }}
    >
      <strong style={{ fontWeight: 500 }}>{main}</strong>
      {details.map((d, i) => (
        <Typography.Text key={i} type="secondary">
          {d}
        </Typography.Text>
      ))}
    </span>
  );
}

function buildingNode(b: Building, households: Household[] | undefined, t: T): Node {
  const key = `b:${b.id}`;
  const node: Node = {
    key,
    isLeaf: false,
    title: title(
      `building-${b.id}`,
      b.name,
      t(`building.${b.kind}`),
      ...(b.floors ? [t('tree.floors', { count: b.floors })] : []),
      t('tree.householdCount', { count: b.households }),
    ),
  };
  if (!households) return node;
  if (!households.length)
    return {
      ...node,
      children: [
        { key: `${key}:none`, isLeaf: true, selectable: false, title: placeholder(t('tree.noHouseholds')) },
      ],
    };
  const groups = byUnit(households);
  // A bungalow or a building without units: its households straight under it.
  if (groups.length === 1 && groups[0]![0] === null)
    return { ...node, children: groups[0]![1].map((h) => householdNode(h, t)) };
  return {
    ...node,
    children: groups.map(([unit, hs]) => ({
      key: `u:${b.id}:${unit ?? ''}`,
      isLeaf: false,
      title: title(
        `unit-${b.id}-${unit ?? ''}`,
        unitLabel(unit, t),
        t('tree.householdCount', { count: hs.length }),
      ),
      children: hs.map((h) => householdNode(h, t)),
    })),
  };
}

function householdNode(h: Household, t: T): Node {
  const key = `h:${h.id}`;
  return {
    key,
    isLeaf: false,
    icon: <HomeOutlined />,
    title: title(
      `household-${h.id}`,
      h.room ?? t('tree.noRoom'),
      t(`household.${h.kind}`),
      t('tree.memberCount', { count: h.members.length }),
      ...(h.status !== 'active' ? [t(`householdStatus.${h.status}`)] : []),
    ),
    children: h.members.length
      ? h.members.map((p) => personNode(p))
      : [{ key: `${key}:none`, isLeaf: true, selectable: false, title: placeholder(t('tree.noMembers')) }],
  };
}

function personNode(p: PersonSummary): Node {
  return {
    key: `p:${p.id}`,
    isLeaf: true,
    title: (
      <span data-testid={`person-${p.id}`}>
        <UserOutlined style={{ marginInlineEnd: 6, color: '#8c8c8c' }} />
        <PersonLine person={p} />
      </span>
    ),
  };
}

function placeholder(text: string) {
  return <Typography.Text type="secondary">{text}</Typography.Text>;
}

/** 查找人员: a name prefix, or an exact ID number or phone, across the user's scope. */
function PersonSearch() {
  const { t } = useTranslation('registry');
  const navigate = useNavigate();
  const [q, setQ] = useState('');
  const [submitted, setSubmitted] = useState('');
  const limit = 20;
  const results = useQuery({
    queryKey: ['personSearch', submitted],
    enabled: submitted.length > 0,
    queryFn: () => api.persons({ query: { q: submitted, limit } }),
  });
  return (
    <div style={{ position: 'relative' }}>
      <Form layout="vertical" component="div">
        <Form.Item label={t('search.label')} htmlFor="registry-search" style={{ marginBottom: 0 }}>
          <Input.Search
            id="registry-search"
            value={q}
            onChange={(e) => {
              setQ(e.target.value);
              if (!e.target.value) setSubmitted('');
            }}
            onSearch={(v) => setSubmitted(v.trim())}
            placeholder={t('search.placeholder')}
            enterButton={
              <span>
                <SearchOutlined /> {t('search.button')}
              </span>
            }
            allowClear
            maxLength={40}
            autoComplete="off"
          />
        </Form.Item>
      </Form>
      {submitted && (
        <Card
          size="small"
          title={t('search.results')}
          extra={
            <Button
              size="small"
              type="link"
              onClick={() => {
                setQ('');
                setSubmitted('');
              }}
            >
              {t('search.clear')}
            </Button>
          }
          style={{ marginTop: 8 }}
          data-testid="person-search-results"
        >
          {results.isPending ? (
            <Loading rows={2} />
          ) : results.isError ? (
            <Alert type="error" showIcon title={errorMessage(results.error)} />
          ) : results.data.items.length === 0 ? (
            <EmptyState description={t('search.none')} />
          ) : (
            <>
              <List
                size="small"
                dataSource={results.data.items}
                style={{ maxHeight: 280, overflow: 'auto' }}
                renderItem={(p) => (
                  <List.Item
                    key={p.id}
                    extra={<Typography.Text type="secondary">{p.gridCode}</Typography.Text>}
                  >
                    <a
                      href={`/registry/persons/${p.id}`}
                      onClick={(e) => {
                        e.preventDefault();
                        void navigate(`/registry/persons/${p.id}`);
                      }}
                    >
                      <PersonLine person={p} />
                    </a>
                  </List.Item>
                )}
              />
              {results.data.nextCursor && (
                <Typography.Text type="secondary">{t('search.more', { count: limit })}</Typography.Text>
              )}
            </>
          )}
        </Card>
      )}
    </div>
  );
}
