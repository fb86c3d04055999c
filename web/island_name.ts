/**
 * How an island is named, on the server and in the browser alike.
 *
 * @module
 */

/** The name of an island module's file: `./islands/cart_view.tsx` → `cart_view`. */
export function islandName(path: string): string {
  return path.replace(/^.*\//, "").replace(/\.[jt]sx?$/, "");
}
