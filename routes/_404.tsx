/**
 * The page for anything that does not exist (Fresh's `_404`).
 *
 * @module
 */
import type { PageProps } from "../web/fresh.ts";
import type { State } from "../utils/state.ts";

/** Not found. */
export default function NotFound({ error }: PageProps<undefined, State>) {
  const message = error instanceof Error ? error.message : "There is nothing here.";
  return (
    <section class="empty">
      <h1>Not found</h1>
      <p>{message}</p>
      <p>
        <a href="/">Back to the shop</a>
      </p>
    </section>
  );
}
