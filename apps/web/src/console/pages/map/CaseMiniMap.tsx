// Placeholder until the map area is built (issue 4): replaced before this lands.
export interface CaseMiniMapProps {
  /** the case's point [lng, lat] WGS-84 */
  point: [number, number] | null;
  /** the case's grid, outlined */
  gridCode?: string;
  height?: number;
}
export default function CaseMiniMap(props: CaseMiniMapProps) {
  return <div style={{ height: props.height ?? 240 }}>map</div>;
}
