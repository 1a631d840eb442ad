// The console's table frame: a scrollable wrapper, a labelled table and its column headers.
// Rows stay with each page; `null` columns (a role without that action) are left out.
import type { ReactNode } from "react";

export function DataTable({
  label,
  columns,
  children,
}: {
  label: string;
  columns: ReadonlyArray<string | null>;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            {columns.map((column) =>
              column === null ? null : (
                <th scope="col" key={column}>
                  {column}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
