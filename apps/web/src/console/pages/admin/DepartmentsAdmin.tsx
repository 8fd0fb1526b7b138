// Placeholder until the area is built (issue 4): replaced before this lands.
export default function DepartmentsAdmin() {
  return <div>DepartmentsAdmin</div>;
}
