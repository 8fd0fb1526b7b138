import { useEffect, useMemo, useState } from 'react';
import type { TaxonomyItem } from '@wangge/contracts';
import { newItem, uuid } from './db.ts';
import { currentPosition, type Fix } from './geo.ts';
import { language, t } from './i18n.ts';
import { compressPhoto } from './photo.ts';
import { cacheKeys, outbox, useCache, type TaxonomyTree } from './store.ts';

type Item = TaxonomyItem & { categoryName: string };

export function Report() {
  const tree = useCache<TaxonomyTree>(cacheKeys.taxonomy);
  const [search, setSearch] = useState('');
  const [category, setCategory] = useState<string | null>(null);
  const [item, setItem] = useState<Item | null>(null);
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [photos, setPhotos] = useState<Blob[]>([]);
  const [fix, setFix] = useState<Fix | null>(null);
  const [locating, setLocating] = useState(false);
  const [geoError, setGeoError] = useState<string | null>(null);
  const [fixOnSpot, setFixOnSpot] = useState(false);
  const [result, setResult] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const en = language() === 'en';

  const items: Item[] = useMemo(
    () =>
      (tree?.categories ?? []).flatMap((c) =>
        c.items.filter((i) => i.active).map((i) => ({ ...i, categoryName: en ? c.nameEn : c.nameZh })),
      ),
    [tree, en],
  );
  const shown = search.trim()
    ? items.filter(
        (i) =>
          i.nameZh.includes(search.trim()) ||
          i.nameEn.toLowerCase().includes(search.trim().toLowerCase()) ||
          i.code.startsWith(search.trim()),
      )
    : category
      ? items.filter((i) => i.parentCode === category)
      : [];

  const locate = () => {
    setLocating(true);
    setGeoError(null);
    currentPosition()
      .then(setFix)
      .catch((e: Error) => setGeoError(e.message))
      .finally(() => setLocating(false));
  };
  useEffect(locate, []);

  const addPhotos = async (files: FileList | null) => {
    if (!files) return;
    const out: Blob[] = [];
    for (const f of Array.from(files)) out.push(await compressPhoto(f));
    setPhotos((p) => [...p, ...out].slice(0, 9));
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!item) return setMessage({ ok: false, text: t('请选择分类') });
    if (!title.trim()) return setMessage({ ok: false, text: t('请填写标题') });
    if (!fix) return setMessage({ ok: false, text: t('需要位置') });
    const id = uuid();
    const photoClientIds = photos.map(() => uuid());
    const allowFix = item.fixOnSpot && fixOnSpot;
    await outbox.add(
      newItem({
        id,
        kind: 'case',
        label: `${t('上报')}：${title.trim()}`,
        payload: {
          create: {
            clientId: id,
            title: title.trim(),
            description,
            categoryCode: item.code,
            location: { lng: fix.lng, lat: fix.lat, crs: 'wgs84', accuracy: fix.accuracy },
            channel: 'grid_worker',
          },
          photoClientIds,
          fixOnSpot: allowFix,
          result: allowFix ? result.trim() || title.trim() : undefined,
        },
        photos,
        progress: { photoIds: photoClientIds.map(() => null) },
      }),
    );
    setItem(null);
    setSearch('');
    setTitle('');
    setDescription('');
    setPhotos([]);
    setFixOnSpot(false);
    setResult('');
    setMessage({ ok: true, text: t('已保存待同步') });
    void outbox.sync();
  };

  return (
    <form className="stack" onSubmit={(e) => void submit(e)}>
      <section className="card">
        <h2>{t('事项分类')}</h2>
        {item ? (
          <div className="row">
            <strong data-testid="chosen-item">
              {item.categoryName} › {en ? item.nameEn : item.nameZh}
            </strong>
            <button type="button" className="link" onClick={() => setItem(null)}>
              {t('修改')}
            </button>
          </div>
        ) : (
          <>
            <input
              type="search"
              aria-label={t('搜索分类')}
              placeholder={t('搜索分类')}
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
            {!search.trim() && (
              <div className="chips">
                {(tree?.categories ?? [])
                  .filter((c) => c.active)
                  .map((c) => (
                    <button
                      type="button"
                      key={c.code}
                      className={category === c.code ? 'chip on' : 'chip'}
                      onClick={() => setCategory(c.code)}
                    >
                      {en ? c.nameEn : c.nameZh}
                    </button>
                  ))}
              </div>
            )}
            <div className="picker">
              {shown.slice(0, 40).map((i) => (
                <button
                  type="button"
                  key={i.code}
                  className="pick"
                  onClick={() => {
                    setItem(i);
                    if (!title) setTitle(i.nameZh);
                  }}
                >
                  {en ? i.nameEn : i.nameZh}
                  {i.fixOnSpot && <small className="tag fix">{t('现场处置')}</small>}
                </button>
              ))}
            </div>
          </>
        )}
      </section>
      <section className="card">
        <label htmlFor="title">{t('标题')}</label>
        <input id="title" value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} />
        <label htmlFor="description">{t('描述')}</label>
        <textarea
          id="description"
          rows={3}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
        />
      </section>
      <section className="card">
        <h2>{t('照片')}</h2>
        <label className="file big">
          {t('拍照或选择照片')}
          <input
            type="file"
            accept="image/*"
            capture="environment"
            multiple
            data-testid="photo-input"
            onChange={(e) => {
              void addPhotos(e.target.files);
              e.target.value = '';
            }}
          />
        </label>
        <div className="thumbs" data-testid="photo-count" data-count={photos.length}>
          {photos.map((p, i) => (
            <Thumb key={i} blob={p} onRemove={() => setPhotos((ps) => ps.filter((_, j) => j !== i))} />
          ))}
        </div>
      </section>
      <section className="card">
        <h2>{t('位置')}</h2>
        <p data-testid="gps">
          {locating
            ? t('定位中')
            : fix
              ? `${fix.lat.toFixed(5)}, ${fix.lng.toFixed(5)} · ${t('精度')} ±${fix.accuracy} m`
              : `${t('无法定位')} ${geoError ?? ''}`}
        </p>
        <button type="button" className="secondary" onClick={locate}>
          {t('获取位置')}
        </button>
      </section>
      {item?.fixOnSpot && (
        <section className="card">
          <label className="toggle">
            <input type="checkbox" checked={fixOnSpot} onChange={(e) => setFixOnSpot(e.target.checked)} />
            {t('现场处置')}（简易程序）
          </label>
          {fixOnSpot && (
            <>
              <label htmlFor="result">{t('处置结果')}</label>
              <textarea id="result" rows={2} value={result} onChange={(e) => setResult(e.target.value)} />
            </>
          )}
        </section>
      )}
      {message && (
        <p role="status" className={message.ok ? 'ok' : 'error'}>
          {message.text}
        </p>
      )}
      <button type="submit" className="primary big">
        {t('提交')}
      </button>
    </form>
  );
}

function Thumb({ blob, onRemove }: { blob: Blob; onRemove: () => void }) {
  const [url, setUrl] = useState<string>('');
  useEffect(() => {
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return (
    <button type="button" className="thumb" onClick={onRemove} aria-label="remove">
      {url && <img src={url} alt="" />}
    </button>
  );
}
