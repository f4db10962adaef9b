// Package cli is the layerdiff command line: flags in, a report and an exit status out.
package cli
