import { useTranslation } from 'react-i18next';
import { mapColours } from './mapStyle.ts';
import type { ColourBy, ColourClass } from './regions.ts';

/** What the colours mean: the regions' classes (when counts are visible) and the case points. */
export function MapLegend({
  classes,
  colourBy,
  showRegions,
  showCases,
  filtered,
}: {
  classes: ColourClass[];
  colourBy: ColourBy;
  showRegions: boolean;
  showCases: boolean;
  /** filters narrow the points but not the region colours: say so */
  filtered: boolean;
}) {
  const { t } = useTranslation('map');
  return (
    <div className="map-float map-legend" aria-label={t('legend.title')} data-testid="map-legend">
      {showRegions && (
        <>
          <p className="map-legend-title">{t(`legend.${colourBy}`)}</p>
          {classes.map((c) => (
            <div className="map-legend-row" key={`${c.from}-${c.to}`}>
              <span className="map-legend-swatch" style={{ background: c.colour }} />
              {c.from === c.to ? c.from : `${c.from}–${c.to}`}
            </div>
          ))}
          {filtered && <p className="map-legend-note">{t('legend.unfiltered')}</p>}
        </>
      )}
      {showCases && (
        <>
          <p className="map-legend-title" style={{ marginTop: showRegions ? 8 : 0 }}>
            {t('legend.cases')}
          </p>
          {(
            [
              ['overdueCase', mapColours.caseOverdue],
              ['urgentCase', mapColours.caseUrgent],
              ['normalCase', mapColours.caseNormal],
              ['closedCase', mapColours.caseClosed],
            ] as const
          ).map(([key, colour]) => (
            <div className="map-legend-row" key={key}>
              <span className="map-legend-dot" style={{ background: colour }} />
              {t(`legend.${key}`)}
            </div>
          ))}
          <div className="map-legend-row">
            <span className="map-legend-cluster" style={{ background: mapColours.cluster }}>
              12
            </span>
            {t('legend.cluster')}
          </div>
        </>
      )}
    </div>
  );
}
