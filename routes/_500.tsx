/**
 * The page for errors (Fresh's `_500`): says what went wrong in plain words
 * when the error was meant for people (an `HttpError`), and nothing internal
 * otherwise.
 *
 * @module
 */
import { HttpError, type PageProps } from "../web/fresh.ts";
import type { State } from "../utils/state.ts";

/** Something went wrong. */
export default function ServerError({ error }: PageProps<undefined, State>) {
  const message = error instanceof HttpError ? error.message : "Something went wrong on our side.";
  return (
    <section class="empty">
      <h1>{error instanceof HttpError && error.status === 503 ? "Temporarily unavailable" : "Something went wrong"}</h1>
      <p role="alert">{message}</p>
      <p>
        <a href="">Try again</a> or go <a href="/">back to the shop</a>.
      </p>
    </section>
  );
}
