package client

import "fmt"

// What a client tells its user of a check's outcome, in English: check
// prints it, and the system tests hold the binary to it.

// NotFound is said of every identifier not found, naming what it was
// checked against, so nobody takes it as an all-clear: Khabardar knows only
// the listings it has been given.
func NotFound(c Catalogue) string {
	return "not found — not in any of " + CatalogueWords(c) + "; that does not prove your data is safe"
}

// CatalogueWords is "the 12 listings Khabardar knows of, newest added 3
// Dec 2026".
func CatalogueWords(c Catalogue) string {
	w := fmt.Sprintf("the %d listings Khabardar knows of", c.Listings)
	if c.Listings == 1 {
		w = "the 1 listing Khabardar knows of"
	}
	if !c.NewestAdded.IsZero() {
		w += ", newest added " + c.NewestAdded.Format("2 Jan 2006")
	}
	return w
}

// NoListings is said instead of "not found" when the server has no
// listings: the check could not have found anything.
const NoListings = "cannot tell — no listings are loaded yet: Khabardar knows of no listing, so a check cannot tell you anything"
