package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/khabardar/khabardar/frontend"
)

// Bounds on a --site-dir: the built site is a few files of tens of KB, and
// serve holds every file in memory, compressed at start. A directory past
// these is most likely the wrong one (the sources, with node_modules).
const (
	maxSiteFiles = 1000
	maxSiteBytes = 64 << 20
)

// site checks serve's website settings and returns the files to serve: the
// embedded site, a directory, or nil for the API only.
func (c *Config) site() (fs.FS, error) {
	switch {
	case c.NoSite && c.SiteDir != "":
		return nil, errors.New("--site-dir and --no-site contradict each other: choose one")
	case c.NoSite:
		return nil, nil
	case c.SiteDir == "":
		return frontend.Dist(), nil
	}
	if fi, err := os.Stat(c.SiteDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("--site-dir %s is not a directory", c.SiteDir)
	}
	if fi, err := os.Stat(filepath.Join(c.SiteDir, "index.html")); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("--site-dir %s has no index.html: name the built site, e.g. frontend/dist after npm run build", c.SiteDir)
	}
	dir := os.DirFS(c.SiteDir)
	var files, size int64
	err := fs.WalkDir(dir, ".", func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if files, size = files+1, size+fi.Size(); files > maxSiteFiles || size > maxSiteBytes {
			return fmt.Errorf("--site-dir %s holds over %d files or %d MiB: name the built site, e.g. frontend/dist, not the sources", c.SiteDir, maxSiteFiles, maxSiteBytes>>20)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return dir, nil
}

// siteKind names the website serve serves, for its start-up log line.
func siteKind(cfg *Config) string {
	switch {
	case cfg.NoSite:
		return "none"
	case cfg.SiteDir != "":
		return "dir"
	}
	return "embedded"
}
