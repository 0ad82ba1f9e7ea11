//go:build js

package main

import "io"

// cli is unreachable in the browser, where RunWhenOnBrowser does not return.
func cli([]string, io.Writer, io.Writer) int { return 0 }
