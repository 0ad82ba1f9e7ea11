// Package web holds gradlab's static assets. They are embedded so the site
// generator finds them whatever directory it runs from; the icons are drawn
// in code so no binary files live in the repository.
package web

import "embed"

// Assets are the files copied as they are into the site's /web/ folder.
//
//go:embed gradlab.css
var Assets embed.FS
