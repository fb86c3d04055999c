/**
 * `GET /api/books?q=&genre=&page=`: one page of the catalog as JSON, for the
 * catalog island's search as you type. Only for the shop's own pages (`requireShopOrigin`).
 *
 * @module
 */
import { requireShopOrigin } from "../../utils/admin.ts";
import { catalogPage, catalogQueryOf } from "../../utils/catalog_page.ts";
import type { State } from "../../utils/state.ts";
import type { Handlers } from "../../web/fresh.ts";

/** Answers one page of matching books. */
export const handler: Handlers<never, State> = {
  async GET(ctx) {
    requireShopOrigin(ctx);
    try {
      const books = await ctx.state.shop.books();
      return Response.json(catalogPage(books, catalogQueryOf(ctx.url)));
    } catch {
      return Response.json({ error: "The catalog is unavailable right now." }, { status: 503 });
    }
  },
};
