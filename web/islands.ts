/**
 * Islands on the server: any component whose module is in `islands/` is
 * rendered in place and marked for hydration, wherever a page uses it, as in
 * Fresh. The marker holds the island's name and the index of its props in
 * one JSON data block at the end of the page; `web/client.ts` hydrates each
 * marker from there. Islands inside islands are hydrated as part of the outer
 * one. Props must survive `JSON.stringify` (no functions, no children).
 *
 * @module
 */
import { type ComponentType, h, options, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { IslandModule } from "./fresh.ts";
import { islandName } from "./island_name.ts";

/** An island instance rendered into a page. */
export interface RenderedIsland {
  /** The island's name (its file name without extension). */
  name: string;
  /** The props it was rendered with. */
  props: Record<string, unknown>;
}

// deno-lint-ignore no-explicit-any
type AnyComponent = ComponentType<any>;

const wrappers = new Map<AnyComponent, AnyComponent>();
const INNER = "__islandInner";
let collected: RenderedIsland[] | undefined;
let depth = 0;

/** Makes every component of `islands` an island in server renders; idempotent. */
export function registerIslands(islands: Record<string, IslandModule>): void {
  for (const [path, module] of Object.entries(islands)) {
    const Component = module.default;
    if (wrappers.has(Component)) continue;
    const name = islandName(path);
    const Wrapper = (props: Record<string, unknown>) => {
      if (collected === undefined || depth > 0) return h(Component, { ...props, [INNER]: true });
      const index = collected.push({ name, props }) - 1;
      depth += 1;
      try {
        // Rendered eagerly so that islands nested inside are not marked again.
        const html = renderToString(h(Component, { ...props, [INNER]: true }));
        return h("div", {
          class: "island",
          "data-island": name,
          "data-island-props": String(index),
          dangerouslySetInnerHTML: { __html: html },
        });
      } finally {
        depth -= 1;
      }
    };
    Wrapper.displayName = `Island(${name})`;
    wrappers.set(Component, Wrapper);
  }
}

const previousVnodeHook = options.vnode;
options.vnode = (vnode: VNode) => {
  const props = vnode.props as Record<string, unknown> | null;
  if (props && INNER in props) {
    delete props[INNER];
  } else if (typeof vnode.type === "function") {
    const wrapper = wrappers.get(vnode.type);
    if (wrapper) vnode.type = wrapper;
  }
  previousVnodeHook?.(vnode);
};

/** Renders `vnode` to HTML and tells which islands it contains, with their props. */
export function renderWithIslands(vnode: VNode): { html: string; islands: RenderedIsland[] } {
  const outer = collected;
  collected = [];
  try {
    const html = renderToString(vnode);
    return { html, islands: collected };
  } finally {
    collected = outer;
  }
}

/**
 * The islands' props as a JSON data block: never executed (so the
 * Content-Security-Policy needs no exception for it), and with every `<`
 * escaped so a book title cannot close the element.
 */
export function islandPropsScript(islands: RenderedIsland[]): string {
  const json = JSON.stringify(islands.map((island) => island.props))
    .replaceAll("<", "\\u003c").replaceAll("\u2028", "\\u2028").replaceAll("\u2029", "\\u2029");
  return `<script type="application/json" id="__island_props">${json}</script>`;
}
