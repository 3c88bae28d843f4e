//go:build !unix

package main

// cpuMillis is not measured where getrusage does not exist; the benchmark
// reports 0.
func cpuMillis() float64 { return 0 }
