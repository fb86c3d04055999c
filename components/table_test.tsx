import assert from "node:assert/strict";
import { renderToString } from "preact-render-to-string";
import { Table } from "./table.tsx";

Deno.test("a table has its caption, a header cell per column and the rows it is given", () => {
  const html = renderToString(
    <Table class="things" caption="Things" columns={["Name", "Count"]}>
      <tr>
        <td>a</td>
        <td>1</td>
      </tr>
    </Table>,
  );
  assert.equal(
    html,
    '<table class="things"><caption>Things</caption><thead><tr><th scope="col">Name</th><th scope="col">Count</th>' +
      "</tr></thead><tbody><tr><td>a</td><td>1</td></tr></tbody></table>",
  );
});

Deno.test("a false column is left out", () => {
  const html = renderToString(<Table class="t" caption="T" columns={["A", false, "C"]}>{[]}</Table>);
  assert.deepEqual([...html.matchAll(/<th scope="col">(.*?)<\/th>/g)].map((m) => m[1]), ["A", "C"]);
});
