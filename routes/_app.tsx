/**
 * The document every page renders inside (Fresh's `_app`). The islands'
 * props and bundle are added before `</body>` by the server, and only on
 * pages that have islands. The description here is the default; a page
 * with its own gives one through `Head` with the same key.
 *
 * @module
 */
import type { AppProps } from "../web/fresh.ts";
import { Head } from "../web/head.ts";
import type { State } from "../utils/state.ts";

/** The HTML document. */
export default function App({ Component }: AppProps<State>) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>The Bookstore</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/styles.css" />
        <Head>
          <meta
            key="description"
            name="description"
            content="The Bookstore: books with their current stock, a cart, and a checkout you can follow live until your order is executed."
          />
        </Head>
      </head>
      <body>
        <Component />
      </body>
    </html>
  );
}
