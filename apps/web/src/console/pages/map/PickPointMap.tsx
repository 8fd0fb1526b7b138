// Placeholder until the map area is built (issue 4): replaced before this lands.
export interface PickPointMapProps {
  /** the picked point [lng, lat] WGS-84 */
  value: [number, number] | null;
  onChange: (point: [number, number]) => void;
  /** where to look first when nothing is picked */
  center?: [number, number];
  /** other points to show (e.g. possible duplicates) */
  markers?: { point: [number, number]; label: string }[];
  height?: number;
}
export default function PickPointMap(props: PickPointMapProps) {
  return <div style={{ height: props.height ?? 320 }}>map</div>;
}
