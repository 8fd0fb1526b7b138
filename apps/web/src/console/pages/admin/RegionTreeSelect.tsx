import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { RegionView } from '@wangge/contracts';
import { TreeSelect } from 'antd';
import { useEffect, useMemo, useState, type CSSProperties } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api.ts';
import { useMe, type Me } from '../../shared/auth.tsx';

const levelOrder = ['province', 'city', 'district', 'street', 'community', 'grid', 'microgrid'];

/** The tops of the signed-in user's region tree: their scope, or every city for system-wide roles. */
function rootsOf(me: Me): RegionView[] | null {
  if (!me.scope.length) return null;
  const paths = me.scope.map((s) => s.regionPath);
  return me.scope
    .filter((s) => !paths.some((p) => p !== s.regionPath && s.regionPath.startsWith(`${p}.`)))
    .sort(
      (a, b) =>
        levelOrder.indexOf(a.level) - levelOrder.indexOf(b.level) || a.regionCode.localeCompare(b.regionCode),
    )
    .map((s) => ({
      code: s.regionCode,
      name: s.name,
      level: s.level as RegionView['level'],
      parent: null,
      path: s.regionPath,
      centroid: null,
    }));
}

/**
 * The regions a user starts browsing from. Admins and auditors have no region in their grants, so their tops are
 * found by searching codes by their first digit (GB/T 2260 codes start with 1–6) and keeping the regions without
 * a parent.
 */
export function useRootRegions() {
  const me = useMe();
  return useQuery({
    queryKey: ['regionRoots', me.user.id],
    staleTime: 5 * 60_000,
    queryFn: async (): Promise<RegionView[]> => {
      const scoped = rootsOf(me);
      if (scoped) return scoped;
      const found = await Promise.all(
        ['1', '2', '3', '4', '5', '6'].map((q) => api.regionSearch({ query: { q, limit: 50 } })),
      );
      const tops = found.flatMap((r) => r.items).filter((r) => r.parent === null);
      return [...new Map(tops.map((r) => [r.code, r])).values()].sort((a, b) => a.code.localeCompare(b.code));
    },
  });
}

interface Node {
  id: string;
  pId: string | null;
  value: string;
  title: string;
  label: string;
  isLeaf: boolean;
}

export interface RegionTreeSelectProps {
  id?: string;
  value?: string | null;
  onChange?: (code: string | undefined, region?: RegionView) => void;
  placeholder?: string;
  allowClear?: boolean;
  /** deepest level offered (its nodes are leaves); default grid */
  maxLevel?: RegionView['level'];
  style?: CSSProperties;
  disabled?: boolean;
  'aria-label'?: string;
}

/**
 * Region picker: the region tree loaded level by level as it is opened, and a search by name or code across the
 * user's scope (`/api/regions/search`). Works inside an AntD Form.Item (value / onChange / id).
 */
export function RegionTreeSelect({
  id,
  value,
  onChange,
  placeholder,
  allowClear,
  maxLevel = 'grid',
  style,
  disabled,
  ...rest
}: RegionTreeSelectProps) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const roots = useRootRegions();
  const [known, setKnown] = useState<Map<string, RegionView>>(new Map());
  const [search, setSearch] = useState('');
  const [debounced, setDebounced] = useState('');

  useEffect(() => {
    const timer = setTimeout(() => setDebounced(search.trim()), 250);
    return () => clearTimeout(timer);
  }, [search]);

  const remember = (regions: RegionView[]) =>
    setKnown((prev) => {
      const next = new Map(prev);
      for (const r of regions) next.set(r.code, r);
      return next;
    });

  // The current value may lie deep in the tree (from the URL): load it so the field shows its name.
  const selected = useQuery({
    queryKey: ['region', value],
    enabled: !!value && !known.has(value),
    queryFn: () => api.region({ params: { code: value! } }),
    staleTime: 5 * 60_000,
  });

  const results = useQuery({
    queryKey: ['regionSearch', debounced],
    enabled: debounced.length > 0,
    queryFn: () => api.regionSearch({ query: { q: debounced, limit: 30 } }),
  });

  const isLeaf = (r: RegionView) => levelOrder.indexOf(r.level) >= levelOrder.indexOf(maxLevel);
  const label = (r: RegionView) =>
    i18n.language === 'en'
      ? `${r.name} (${t(`levels.${r.level}`)})`
      : `${r.name}（${t(`levels.${r.level}`)}）`;

  const treeData = useMemo((): Node[] => {
    if (search.trim()) {
      return (results.data?.items ?? [])
        .filter((r) => levelOrder.indexOf(r.level) <= levelOrder.indexOf(maxLevel))
        .map((r) => ({
          id: r.code,
          pId: null,
          value: r.code,
          title: `${r.name} · ${t(`levels.${r.level}`)} · ${r.code}`,
          label: label(r),
          isLeaf: true,
        }));
    }
    const all = new Map<string, RegionView>();
    for (const r of roots.data ?? []) all.set(r.code, r);
    for (const [code, r] of known) all.set(code, r);
    if (selected.data) all.set(selected.data.code, selected.data);
    const rootCodes = new Set((roots.data ?? []).map((r) => r.code));
    return [...all.values()].map((r) => ({
      id: r.code,
      // Roots stay roots even when their parent is known (a user whose scope is two streets of one district).
      pId: rootCodes.has(r.code) ? null : r.parent,
      value: r.code,
      title: r.name,
      label: label(r),
      isLeaf: isLeaf(r),
    }));
  }, [search, results.data, roots.data, known, selected.data, maxLevel, t]);

  async function loadData(node: { value?: string | number | null }) {
    const code = String(node.value);
    const children = await queryClient.fetchQuery({
      queryKey: ['regionChildren', code],
      queryFn: () => api.regionChildren({ params: { code } }),
      staleTime: 5 * 60_000,
    });
    remember(children.items);
  }

  return (
    <TreeSelect<string>
      id={id}
      aria-label={rest['aria-label']}
      value={value ?? undefined}
      style={style}
      disabled={disabled}
      allowClear={allowClear}
      placeholder={placeholder}
      loading={roots.isPending || results.isFetching}
      treeDataSimpleMode={{ id: 'id', pId: 'pId' }}
      treeData={treeData}
      treeNodeLabelProp="label"
      loadData={loadData}
      showSearch={{
        searchValue: search,
        onSearch: setSearch,
        filterTreeNode: false,
        autoClearSearchValue: true,
      }}
      notFoundContent={results.isFetching ? t('loading') : t('empty')}
      popupMatchSelectWidth={false}
      styles={{ popup: { root: { minWidth: 320, maxHeight: 420, overflow: 'auto' } } }}
      onChange={(code) => {
        const region =
          (results.data?.items ?? []).find((r) => r.code === code) ??
          known.get(code) ??
          (roots.data ?? []).find((r) => r.code === code) ??
          (selected.data?.code === code ? selected.data : undefined);
        if (region) remember([region]);
        setSearch('');
        onChange?.(code ?? undefined, region);
      }}
    />
  );
}
