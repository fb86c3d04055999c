/**
 * The frame around every page (Fresh's `_layout`): the header with the
 * navigation and the cart's count, the page, and the footer.
 *
 * @module
 */
import CartCount from "../islands/cart_count.tsx";
import type { AppProps } from "../web/fresh.ts";
import type { State } from "../utils/state.ts";

const LINKS = [
  ["/", "Shop"],
  ["/cluster", "Cluster"],
] as const;

/** The shared frame. */
export default function Layout({ Component, url }: AppProps<State>) {
  const current = (href: string) =>
    href === "/" ? url.pathname === "/" || url.pathname.startsWith("/books") : url.pathname.startsWith(href);
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="site">
        <a class="brand" href="/">The Bookstore</a>
        <nav aria-label="Main">
          {LINKS.map(([href, label]) => (
            <a key={href} href={href} aria-current={current(href) ? "page" : undefined}>{label}</a>
          ))}
          <CartCount />
        </nav>
      </header>
      <main id="main">
        <Component />
      </main>
      <footer class="site">
        A distributed checkout you can watch and break: vector clocks, a durable queue, Bully election with fencing.
      </footer>
    </>
  );
}
