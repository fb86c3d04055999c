/**
 * The HTML shell every page renders inside (Fresh's `_app` convention).
 *
 * @module
 */
import type { ComponentChildren } from "preact";

/** The document around a page. */
export default function App({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{title}</title>
        <link rel="stylesheet" href="/static/styles.css" />
      </head>
      <body>
        {children}
        <script type="module" src="/_islands.js"></script>
      </body>
    </html>
  );
}
