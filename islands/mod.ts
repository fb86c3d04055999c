/**
 * Every island by name: the server marks where each is rendered, the browser
 * bundle hydrates them (Fresh's convention, wired by hand since Fresh itself
 * cannot be installed here).
 *
 * @module
 */
import CatalogBrowser from "./catalog_browser.tsx";

/** The islands, by the name their markers carry. */
export const ISLANDS = { CatalogBrowser } as const;

/** An island's name. */
export type IslandName = keyof typeof ISLANDS;
