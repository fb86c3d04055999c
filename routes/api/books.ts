/**
 * `GET /api/books?q=&genre=&page=`: one page of the catalog as JSON, for the
 * catalog island's search as you type. Only for the shop's own pages (`routes/api/_middleware.ts`).
 *
 * @module
 */
import { catalogPage, catalogQueryOf } from "../../utils/catalog_page.ts";
import type { State } from "../../utils/state.ts";
import { type Handlers, HttpError } from "../../web/fresh.ts";

/** Answers one page of matching books. */
export const handler: Handlers<never, State> = {
  async GET(ctx) {
    let books;
    try {
      books = await ctx.state.shop.books();
    } catch (error) {
      throw new HttpError(503, "The catalog is unavailable right now.", { cause: error });
    }
    return Response.json(catalogPage(books, catalogQueryOf(ctx.url)));
  },
};
