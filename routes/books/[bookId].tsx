/**
 * A book's page: description, price, stock, "Add to cart", and similar books
 * (from the suggestions service's content similarity).
 *
 * @module
 */
import type { BookRef } from "@bookstore/lib/contracts";
import { BookPurchase } from "../../components/book_card.tsx";
import type { BookDetails } from "../../utils/shop_api.ts";
import type { State } from "../../utils/state.ts";
import { type Handlers, HttpError, page, type PageProps } from "../../web/fresh.ts";
import { Head } from "../../web/head.ts";

/** What the page renders. */
interface Data {
  book: BookDetails;
  similar: BookRef[];
}

/** Reads the book with its stock and the books like it. */
export const handler: Handlers<Data, State> = {
  async GET(ctx) {
    const { bookId } = ctx.params;
    if (!ctx.state.catalog.get(bookId)) throw new HttpError(404, `We have no book "${bookId}".`);
    let book: BookDetails | undefined;
    try {
      book = await ctx.state.shop.book(bookId);
    } catch {
      throw new HttpError(503, "The shop cannot read its stock right now. Please try again in a moment.");
    }
    if (!book) throw new HttpError(404, `We have no book "${bookId}".`);
    return page({ book, similar: await ctx.state.shop.similar(bookId) });
  },
};

/** The book page. */
export default function BookRoute({ data: { book, similar } }: PageProps<Data, State>) {
  return (
    <article class="book-page">
      <Head>
        <meta key="description" name="description" content={`${book.title} by ${book.author}: ${book.description}`} />
      </Head>
      <p class="crumbs">
        <a href="/">Books</a> › {book.genres[0]}
      </p>
      <h1>{book.title}</h1>
      <p class="author">{book.author} · {book.year}</p>
      <p class="genres">{book.genres.join(", ")}</p>
      <p class="description">{book.description}</p>
      <BookPurchase book={book} />
      <section aria-labelledby="similar">
        <h2 id="similar">Similar books</h2>
        {similar.length === 0 ? <p class="empty">No suggestions right now.</p> : (
          <ul class="similar">
            {similar.map((b) => (
              <li key={b.bookId}>
                <a href={`/books/${b.bookId}`}>{b.title}</a> <span class="author">by {b.author}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </article>
  );
}
