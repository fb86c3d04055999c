/**
 * The browser's entry point: hydrates every island the server marked, with
 * the props it was rendered with. Nothing else runs in the browser.
 *
 * @module
 */
import { h, hydrate } from "preact";
import { islandName } from "./island_name.ts";
import { islands } from "./islands.gen.ts";

const components = new Map(Object.entries(islands).map(([path, module]) => [islandName(path), module.default]));
const props: Record<string, unknown>[] = JSON.parse(document.getElementById("__island_props")?.textContent ?? "[]");

for (const marker of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const component = components.get(marker.dataset.island ?? "");
  const index = Number(marker.dataset.islandProps);
  if (!component || !(index in props)) {
    console.warn(`island "${marker.dataset.island}" cannot be hydrated`);
    continue;
  }
  hydrate(h(component, props[index]), marker);
}
// Lets tests (and curious people) see when the page became interactive.
document.documentElement.dataset.hydrated = "true";
