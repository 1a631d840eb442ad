"use client";
// Newer / Older through a cursor-paged list: `pages` is the stack of cursors walked so far, `next` the cursor of the
// page after this one (none on the last page).

export function Pager({ pages, setPages, next }: { pages: string[]; setPages: (pages: string[]) => void; next?: string | null }) {
  return (
    <div className="pager">
      <button
        type="button"
        className="button secondary"
        disabled={pages.length === 0}
        onClick={() => setPages(pages.slice(0, -1))}
      >
        Newer
      </button>
      <button type="button" className="button secondary" disabled={!next} onClick={() => next && setPages([...pages, next])}>
        Older
      </button>
    </div>
  );
}
