/**
 * A table with a caption and one header row of column names, its body's rows
 * given by the caller: the markup the space-time diagram's event table and
 * the cluster panel's replica table share. It renders on the server and in
 * islands alike.
 *
 * @module
 */
import type { ComponentChildren } from "preact";

/** Props of {@linkcode Table}. */
export interface TableProps {
  /** The table's class, for its styles. */
  class: string;
  /** What the table shows (its `<caption>`). */
  caption: string;
  /** The column names, in order; a `false` column is left out, so a column can be shown on a condition. */
  columns: readonly (string | false)[];
  /** The body's rows (`<tr>` elements). */
  children: ComponentChildren;
}

/** A captioned table whose header cells name the columns for assistive technology (`scope="col"`). */
export function Table({ class: className, caption, columns, children }: TableProps) {
  return (
    <table class={className}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.filter((column) => column !== false).map((column) => <th key={column} scope="col">{column}</th>)}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
