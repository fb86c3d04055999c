/**
 * The browser's entry point: hydrates every island the server marked.
 *
 * @module
 */
import { h, hydrate } from "preact";
import { type IslandName, ISLANDS } from "../islands/mod.ts";

for (const marker of document.querySelectorAll<HTMLElement>("[data-island]")) {
  const name = marker.dataset.island as IslandName;
  const propsElement = marker.nextElementSibling;
  const component = ISLANDS[name];
  if (!component || !(propsElement instanceof HTMLScriptElement)) continue;
  hydrate(h(component, JSON.parse(propsElement.textContent ?? "{}")), marker);
}
