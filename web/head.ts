/**
 * Fresh's `Head`: elements a page puts into the document's `<head>` from
 * wherever it renders them (a page's own description, say). The server
 * collects them during the render and writes them before `</head>`; an
 * element with the same `key` as an earlier one replaces it in place, so
 * `_app` can give a default that a page overrides. Pages are rendered on the
 * server only; inside an island `Head` renders nothing.
 *
 * @module
 */
import { type ComponentChildren, Fragment, h, isValidElement, toChildArray } from "preact";
import { renderToString } from "preact-render-to-string";

let collected: Map<string, string> | undefined;

/**
 * Puts its children into the page's `<head>`.
 *
 * @example
 * ```tsx
 * import { Head } from "./head.ts";
 * import { h } from "preact";
 *
 * const Page = () => h(Head, {}, h("meta", { key: "description", name: "description", content: "Dune" }));
 * ```
 */
export function Head({ children }: { children?: ComponentChildren }): null {
  if (collected === undefined) return null;
  for (const child of toChildArray(children)) {
    const key = isValidElement(child) && child.key != null ? `key:${child.key}` : `#${collected.size}`;
    collected.set(key, renderToString(h(Fragment, null, child)));
  }
  return null;
}

/** Runs `render` and answers its result with the HTML that `Head` elements rendered during it. */
export function collectHead<T>(render: () => T): { value: T; head: string } {
  const outer = collected;
  collected = new Map();
  try {
    const value = render();
    return { value, head: [...collected.values()].join("") };
  } finally {
    collected = outer;
  }
}
