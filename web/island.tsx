/**
 * Server side of islands: renders an island in place and leaves what the
 * browser needs to hydrate it — a marker with its name and its props as JSON.
 *
 * @module
 */
import type { ComponentProps, FunctionComponent } from "preact";
import { type IslandName, ISLANDS } from "../islands/mod.ts";

/** Renders island `name` with `props`, ready to be hydrated by `web/client.ts`. */
export function Island<N extends IslandName>(
  { name, props }: { name: N; props: ComponentProps<typeof ISLANDS[N]> },
) {
  // The name picks the component and its props together; TypeScript cannot follow that through the index.
  const Component = ISLANDS[name] as unknown as FunctionComponent<Record<string, unknown>>;
  // "<" inside JSON would let a book title close the script element.
  const json = JSON.stringify(props).replaceAll("<", "\\u003c");
  return (
    <>
      <div data-island={name}>
        <Component {...(props as Record<string, unknown>)} />
      </div>
      <script type="application/json" data-island-props={name} dangerouslySetInnerHTML={{ __html: json }} />
    </>
  );
}
