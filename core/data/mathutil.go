package data

import "math"

func sqrtNonNeg(v float64) float64 { return math.Sqrt(math.Max(0, v)) }
