// Placeholder until the area is built (issue 4): replaced before this lands.
export default function CategoriesAdmin() {
  return <div>CategoriesAdmin</div>;
}
