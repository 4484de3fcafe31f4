// Package frontend holds the citizen website: its sources (src/), the
// esbuild bundle committed in dist/, and the browser tests (test/). The Go
// binary embeds dist/, so "khabardar serve" serves the site with no Node.js
// installed; npm is needed only to change the site (npm run build) and to
// run its browser tests.
package frontend

//go:generate go run ./gen

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Dist is the built site: index.html and its assets.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path
	}
	return sub
}
