// Command wasm is gradlab's entry point. Built with GOOS=js GOARCH=wasm it is
// the app: it registers the routes and hands the page to go-app. Built
// natively it writes the static site (-site DIR) or serves one (-serve ADDR).
package main

import (
	"os"

	"gradlab/app"

	goapp "github.com/maxence-charriere/go-app/v10/pkg/app"
)

func main() {
	app.Routes()
	// In the browser this never returns; natively it returns at once.
	goapp.RunWhenOnBrowser()
	os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr))
}
