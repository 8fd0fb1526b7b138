import type { PatrolTrack } from '@wangge/contracts';

/**
 * A patrol's track drawn inside its grid's outline, in SVG (no map library, no basemap): an equirectangular projection
 * scaled by cos(latitude) so a grid of a few hundred metres keeps its shape. Flagged points are red.
 */
export function PatrolTrackSvg({
  track,
  label,
  height = 300,
}: {
  track: PatrolTrack;
  label: string;
  height?: number;
}) {
  const rings = track.gridOutline.flat();
  const all: [number, number][] = [
    ...rings.flat(),
    ...track.points.map((p) => [p[0], p[1]] as [number, number]),
  ];
  if (all.length === 0) return null;
  const lngs = all.map((p) => p[0]);
  const lats = all.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [
    Math.min(...lngs),
    Math.max(...lngs),
    Math.min(...lats),
    Math.max(...lats),
  ];
  const k = Math.cos((((minY + maxY) / 2) * Math.PI) / 180);
  const w = Math.max((maxX - minX) * k, 1e-6);
  const h = Math.max(maxY - minY, 1e-6);
  const size = 1000;
  const scale = size / Math.max(w, h);
  const pad = 20;
  const x = (lng: number) => pad + (lng - minX) * k * scale;
  const y = (lat: number) => pad + (maxY - lat) * scale;
  const vw = w * scale + 2 * pad;
  const vh = h * scale + 2 * pad;
  const path = (ring: [number, number][]) =>
    ring.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('') + 'Z';
  const line = track.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ');
  return (
    <svg
      viewBox={`0 0 ${vw.toFixed(0)} ${vh.toFixed(0)}`}
      role="img"
      aria-label={label}
      data-testid="patrol-track"
      style={{ width: '100%', height, background: '#f5f3ef', borderRadius: 6 }}
    >
      {track.gridOutline.map((polygon, i) => (
        <path
          key={i}
          d={polygon.map(path).join('')}
          fill="#fde9d9"
          stroke="#b71c1c"
          strokeWidth={4}
          fillRule="evenodd"
        />
      ))}
      {track.points.length > 1 && (
        <polyline points={line} fill="none" stroke="#1565c0" strokeWidth={6} strokeLinejoin="round" />
      )}
      {track.points
        .filter((p) => p[3] === 1)
        .map((p, i) => (
          <circle key={i} cx={x(p[0])} cy={y(p[1])} r={10} fill="#d32f2f" />
        ))}
      {track.points.length > 0 && (
        <>
          <circle cx={x(track.points[0]![0])} cy={y(track.points[0]![1])} r={12} fill="#2e7d32" />
          <circle
            cx={x(track.points[track.points.length - 1]![0])}
            cy={y(track.points[track.points.length - 1]![1])}
            r={12}
            fill="#263238"
          />
        </>
      )}
    </svg>
  );
}
